// What one direction of a simulated path does to the datagrams that cross it, and the checks that keep a bad
// value (from a profile file or from code) from becoming a silent nonsense run. Every field is optional but the
// delay; an absent impairment costs nothing per datagram. Times are virtual milliseconds since the simulation
// began; rates are probabilities in [0, 1] drawn per datagram from the link's own seeded stream.

export type JitterConfig =
  /** Extra delay uniform in [0, maxMs). */
  | { kind: 'uniform'; maxMs: number }
  /** Extra delay normal with mean 0 (the total never goes below zero): delay is the mean, stdDevMs the spread. */
  | { kind: 'normal'; stdDevMs: number }
  /**
   * Extra delay X - scaleMs with X ~ Pareto(scaleMs, shape): at least 0, heavy-tailed (P(extra > x) =
   * (scaleMs / (scaleMs + x))^shape; mean scaleMs / (shape - 1) when shape > 1, infinite variance when
   * shape <= 2). capMs bounds one sample (absent: unbounded).
   */
  | { kind: 'pareto'; scaleMs: number; shape: number; capMs?: number };

/**
 * A two-state Markov chain stepped once per datagram: in the good state a datagram is lost with lossInGood
 * (1 - k in Gilbert-Elliott's terms), in the bad state with lossInBad (1 - h). The chain moves good -> bad with
 * pGoodToBad (p) and bad -> good with pBadToGood (r), so a stay in the bad state lasts 1 / r datagrams on average
 * and the long-run loss is (r * lossInGood + p * lossInBad) / (p + r).
 */
export interface GilbertElliott {
  pGoodToBad: number;
  pBadToGood: number;
  lossInGood: number;
  lossInBad: number;
}

export interface TimeWindow {
  /** Start, included. */
  fromMs: number;
  /** End, excluded. */
  toMs: number;
}

export interface LinkConfig {
  /** One-way propagation delay added to every datagram (after the rate limiter's queue, if any). */
  delayMs: number;
  jitter?: JitterConfig;
  /**
   * Jitter delays but never reorders: a datagram is not delivered before the one sent ahead of it (a FIFO path
   * whose delay varies, as most real bottlenecks are). Explicit reordering (reorderRate) still applies.
   */
  preserveOrder?: boolean;
  /** Independent random loss per datagram. */
  lossRate?: number;
  /** Bursty loss, applied after lossRate. */
  gilbertElliott?: GilbertElliott;
  /** Probability that a datagram overtakes the one sent just before it (if that one is still in flight). */
  reorderRate?: number;
  /** Probability that a datagram is delivered twice (the copy with its own delay draw). */
  duplicateRate?: number;
  /** Probability that a delivered datagram has one bit flipped (on a copy: the sender's bytes stay intact). */
  corruptRate?: number;
  /** Probability that a delivered datagram is cut to a uniform length in [0, length - 1] (on a copy). */
  truncateRate?: number;
  /** Larger datagrams are dropped ('too-big'), as a path MTU without fragmentation does. */
  maxDatagramBytes?: number;
  /**
   * Bottleneck rate: a datagram of n bytes occupies the link for n * 8 / rate seconds, waiting in a FIFO queue
   * while earlier ones are serialized. Absent: unlimited (no queue).
   */
  rateBitsPerS?: number;
  /**
   * Queue bound in bytes of datagrams not yet fully serialized (the one on the wire included), so the longest
   * wait including its own serialization is queueBytes * 8 / rate. Datagrams that do not fit are tail-dropped
   * ('queue-full'). With neither bound given the queue holds 1000 datagrams (Linux's default txqueuelen).
   */
  queueBytes?: number;
  /** Queue bound in datagrams (same accounting as queueBytes). */
  queuePackets?: number;
  /** Blackholes: everything entering the link in [fromMs, toMs) is dropped ('outage'). */
  outages?: TimeWindow[];
  /**
   * Parameter changes at absolute times: at atMs the fields of `set` replace the current ones (for datagrams
   * entering the link from then on; datagrams already queued keep their departure times).
   */
  schedule?: Array<{ atMs: number; set: Partial<Omit<LinkConfig, 'schedule'>> }>;
}

/** A path between a client and a server: `up` carries client -> server, `down` server -> client. */
export interface NetworkProfile {
  name: string;
  description: string;
  up: LinkConfig;
  down: LinkConfig;
}

/** A bad link configuration or profile file; the message names the offending field. */
export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** Every field a LinkConfig may have, in the order error messages list them. */
export const LINK_FIELDS = [
  'delayMs',
  'jitter',
  'preserveOrder',
  'lossRate',
  'gilbertElliott',
  'reorderRate',
  'duplicateRate',
  'corruptRate',
  'truncateRate',
  'maxDatagramBytes',
  'rateBitsPerS',
  'queueBytes',
  'queuePackets',
  'outages',
  'schedule',
] as const;

/** Renders a bad value for an error message: strings quoted, objects as JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

function fail(path: string, what: string, v: unknown): never {
  throw new ProfileError(`${path} must be ${what}, got ${showValue(v)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rejects fields not in `known`, naming the first and suggesting a field that differs only in case. */
export function checkKnownFields(obj: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    const where = path === '' ? key : `${path}.${key}`;
    const hint = near !== undefined ? ` (did you mean ${near}?)` : ` (known fields: ${known.join(', ')})`;
    throw new ProfileError(`${where} is not a known field${hint}`);
  }
}

function num(v: unknown, path: string, min: number, max = Infinity, minOpen = false): number {
  const range = max === Infinity ? (minOpen ? `> ${min}` : `>= ${min}`) : `in [${min}, ${max}]`;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (minOpen && v === min)) {
    fail(path, `a number ${range}`, v);
  }
  return v;
}

function int(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(path, `an integer >= ${min}`, v);
  return v;
}

function prob(v: unknown, path: string): number {
  return num(v, path, 0, 1);
}

function checkJitter(v: unknown, path: string): JitterConfig {
  if (!isObject(v)) fail(path, 'an object with a kind ("uniform", "normal" or "pareto")', v);
  switch (v.kind) {
    case 'uniform':
      checkKnownFields(v, ['kind', 'maxMs'], path);
      return { kind: 'uniform', maxMs: num(v.maxMs, `${path}.maxMs`, 0) };
    case 'normal':
      checkKnownFields(v, ['kind', 'stdDevMs'], path);
      return { kind: 'normal', stdDevMs: num(v.stdDevMs, `${path}.stdDevMs`, 0) };
    case 'pareto': {
      checkKnownFields(v, ['kind', 'scaleMs', 'shape', 'capMs'], path);
      const j: JitterConfig = { kind: 'pareto', scaleMs: num(v.scaleMs, `${path}.scaleMs`, 0, Infinity, true), shape: num(v.shape, `${path}.shape`, 0, Infinity, true) };
      if (v.capMs !== undefined) j.capMs = num(v.capMs, `${path}.capMs`, 0);
      return j;
    }
    default:
      fail(`${path}.kind`, 'one of "uniform", "normal", "pareto"', v.kind);
  }
}

function checkGilbertElliott(v: unknown, path: string): GilbertElliott {
  if (!isObject(v)) fail(path, 'an object with pGoodToBad, pBadToGood, lossInGood, lossInBad', v);
  checkKnownFields(v, ['pGoodToBad', 'pBadToGood', 'lossInGood', 'lossInBad'], path);
  return {
    pGoodToBad: prob(v.pGoodToBad, `${path}.pGoodToBad`),
    pBadToGood: prob(v.pBadToGood, `${path}.pBadToGood`),
    lossInGood: prob(v.lossInGood, `${path}.lossInGood`),
    lossInBad: prob(v.lossInBad, `${path}.lossInBad`),
  };
}

function checkWindows(v: unknown, path: string): TimeWindow[] {
  if (!Array.isArray(v)) fail(path, 'an array of { fromMs, toMs }', v);
  return v.map((w, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(w)) fail(p, 'an object { fromMs, toMs }', w);
    checkKnownFields(w, ['fromMs', 'toMs'], p);
    const fromMs = num(w.fromMs, `${p}.fromMs`, 0);
    const toMs = num(w.toMs, `${p}.toMs`, fromMs);
    return { fromMs, toMs };
  });
}

/**
 * Checks a link configuration and returns a fresh copy of it (so the caller's object is never shared).
 * kind 'full': delayMs required. 'set': a schedule entry's `set` (every field optional, no schedule). 'part': a
 * piece merged with others later (every field optional, schedule allowed).
 */
export function checkLinkConfig(v: unknown, path: string, kind: 'full' | 'set' | 'part' = 'full'): LinkConfig {
  if (!isObject(v)) fail(path, 'an object', v);
  const known: readonly string[] = kind === 'set' ? LINK_FIELDS.filter((f) => f !== 'schedule') : LINK_FIELDS;
  checkKnownFields(v, known, path);
  const out: Partial<LinkConfig> = {};
  const at = (f: string) => `${path}.${f}`;
  if (v.delayMs !== undefined || kind === 'full') out.delayMs = num(v.delayMs, at('delayMs'), 0);
  if (v.jitter !== undefined) out.jitter = checkJitter(v.jitter, at('jitter'));
  if (v.preserveOrder !== undefined) {
    if (typeof v.preserveOrder !== 'boolean') fail(at('preserveOrder'), 'true or false', v.preserveOrder);
    out.preserveOrder = v.preserveOrder;
  }
  for (const f of ['lossRate', 'reorderRate', 'duplicateRate', 'corruptRate', 'truncateRate'] as const) {
    if (v[f] !== undefined) out[f] = prob(v[f], at(f));
  }
  if (v.gilbertElliott !== undefined) out.gilbertElliott = checkGilbertElliott(v.gilbertElliott, at('gilbertElliott'));
  if (v.maxDatagramBytes !== undefined) out.maxDatagramBytes = int(v.maxDatagramBytes, at('maxDatagramBytes'), 1);
  if (v.rateBitsPerS !== undefined) out.rateBitsPerS = num(v.rateBitsPerS, at('rateBitsPerS'), 0, Infinity, true);
  if (v.queueBytes !== undefined) out.queueBytes = int(v.queueBytes, at('queueBytes'), 1);
  if (v.queuePackets !== undefined) out.queuePackets = int(v.queuePackets, at('queuePackets'), 1);
  if (v.outages !== undefined) out.outages = checkWindows(v.outages, at('outages'));
  if (kind !== 'set' && v.schedule !== undefined) {
    const s = v.schedule;
    if (!Array.isArray(s)) fail(at('schedule'), 'an array of { atMs, set }', s);
    out.schedule = s.map((e, i) => {
      const p = `${at('schedule')}[${i}]`;
      if (!isObject(e)) fail(p, 'an object { atMs, set }', e);
      checkKnownFields(e, ['atMs', 'set'], p);
      return { atMs: num(e.atMs, `${p}.atMs`, 0), set: checkLinkConfig(e.set, `${p}.set`, 'set') };
    });
  }
  return out as LinkConfig;
}

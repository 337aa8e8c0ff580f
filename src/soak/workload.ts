// Randomized workloads, drawn from the run's seed: what each connection of a soak does, and when.
//
// Each client "slot" runs a chain of connection lifetimes: connect, exchange messages on a timetable, close
// (or abort), wait, reconnect. A lifetime's plan is drawn from the slot's own generator in order, so it does not
// depend on how the network behaved: the same seed always asks for the same work.
import type { ConnectionConfig } from '../core/index.js';
import { Prng } from '../util/prng.js';

export type WorkloadName = 'mixed' | 'abort-heavy' | 'game' | 'bulk';
export const WORKLOADS: readonly WorkloadName[] = ['mixed', 'abort-heavy', 'game', 'bulk'];

export type LifetimeKind = 'bulk' | 'request' | 'chatty' | 'tiny' | 'idle';

export interface TimedSize {
  /** ms after the side started (client: connect() called; server: connection accepted). */
  atMs: number;
  /** Message payload bytes (a 16-byte header goes in front) or datagram bytes. */
  bytes: number;
}

export interface ReadPause {
  atMs: number;
  forMs: number;
  /** Slow reader: read this many bytes every 100 ms during the pause; absent: do not read at all. */
  bytesPerTick?: number;
}

export interface SidePlan {
  messages: TimedSize[];
  datagrams: TimedSize[];
  /** Largest write() the application makes (1: a byte at a time). */
  writeChunk: number;
  readPauses: ReadPause[];
  /** After the last message: 'shutdown' (half-close, keep reading) or 'close' (full close once the peer ended). */
  finish: 'shutdown' | 'close';
  /** The application aborts (RST) at this time. */
  abortAtMs?: number;
  /** Nagle off (the game profile has it off anyway). */
  noDelay: boolean;
}

/**
 * Connection configurations the soak mixes in, on top of the profile's defaults. The server listens with each
 * on its own port; a client mostly uses the same one, sometimes another (so options are negotiated away).
 */
export const CONFIG_VARIANTS: ReadonlyArray<{ name: string; config: Partial<ConnectionConfig> }> = [
  { name: 'default', config: {} },
  { name: 'newreno-nosack', config: { congestionControl: 'newreno', sack: false } },
  { name: 'no-options', config: { sack: false, timestamps: false, windowScaling: false } },
  { name: 'rack', config: { lossDetection: 'rack', tailLossProbe: true } },
  // Zero windows and backpressure all the time.
  { name: 'small-buffers', config: { sendBufferBytes: 8192, receiveBufferBytes: 4096 } },
  { name: 'keepalive', config: { keepaliveIdleMs: 5000, keepaliveIntervalMs: 1000, keepaliveProbes: 4 } },
  { name: 'small-mtu', config: { maxDatagramBytes: 576 } },
];

export interface LifetimePlan {
  /** Unique in the run (slot and sequence). */
  id: number;
  slot: number;
  kind: LifetimeKind;
  profile: 'tcp' | 'game';
  /** Indexes into CONFIG_VARIANTS. */
  clientVariant: number;
  serverVariant: number;
  client: SidePlan;
  server: SidePlan;
  /** The last scripted time of either side. */
  spanMs: number;
  /** Idle time before the slot's next lifetime. */
  nextDelayMs: number;
}

export interface WorkloadParams {
  workload: WorkloadName;
  durationMs: number;
  /** Largest unreliable datagram the connection takes. */
  maxDatagramBytes: number;
}

const KB = 1024;
const MB = 1024 * 1024;

/**
 * A seed for a sub-generator: the same (seed, a, b) always gives the same stream. Unsigned 32-bit, so the seeds
 * the soak gives its endpoints print as they are in replay logs; the consumers see only the 32 bits (the Prng takes
 * `seed | 0`, the stream keys go through xor), so this is the same stream the signed value gave.
 */
export function deriveSeed(seed: number, a: number, b = 0): number {
  let h = (seed ^ 0x2545f491) >>> 0;
  for (const x of [a, b]) {
    h = Math.imul(h ^ (x >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

class Draw {
  constructor(private readonly prng: Prng) {}
  float(): number {
    return this.prng.nextFloat();
  }
  chance(p: number): boolean {
    return this.prng.nextFloat() < p;
  }
  int(lo: number, hi: number): number {
    return this.prng.intBetween(lo, hi);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.prng.nextFloat();
  }
  /** Log-uniform integer in [lo, hi]. */
  logInt(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(Math.exp(Math.log(lo) + (Math.log(hi + 1) - Math.log(lo)) * this.prng.nextFloat())));
  }
  pick<T>(weighted: Array<[T, number]>): T {
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    let x = this.prng.nextFloat() * total;
    for (const [v, w] of weighted) {
      x -= w;
      if (x < 0) return v;
    }
    return weighted[weighted.length - 1]![0];
  }
}

/** One slot's chain of lifetime plans, drawn lazily. */
export class SlotPlanner {
  private readonly d: Draw;
  private seq = 0;
  /** The lifetime being drawn uses the small-buffer variant on one side. */
  private smallBuffers = false;

  constructor(
    seed: number,
    readonly slot: number,
    private readonly params: WorkloadParams,
  ) {
    this.d = new Draw(new Prng(deriveSeed(seed, 0x510f, slot)));
  }

  /** When the slot's first connection starts. */
  firstStartMs(): number {
    return Math.floor(this.d.uniform(0, Math.min(5000, this.params.durationMs / 4)));
  }

  next(): LifetimePlan {
    const d = this.d;
    const p = this.params;
    const id = this.slot * 100_000 + this.seq++;
    const kind = this.kind();
    const game = p.workload === 'game' || (kind === 'chatty' ? d.chance(0.7) : d.chance(0.35));
    const profile: 'tcp' | 'game' = game ? 'game' : 'tcp';
    const serverVariant = d.chance(0.4) ? 0 : d.int(1, CONFIG_VARIANTS.length - 1);
    const clientVariant = d.chance(0.75) ? serverVariant : d.int(0, CONFIG_VARIANTS.length - 1);
    // A 4 KiB window moves a few KB per round trip: keep transfers to what it can finish.
    this.smallBuffers = [serverVariant, clientVariant].some((v) => CONFIG_VARIANTS[v]!.name === 'small-buffers');
    // Scripts last up to a minute, shorter in short runs.
    const maxSpan = Math.max(2000, Math.min(60_000, p.durationMs / 3));
    const client = emptySide(d, profile);
    const server = emptySide(d, profile);
    switch (kind) {
      case 'bulk':
        this.bulk(client, server, maxSpan);
        break;
      case 'request':
        this.request(client, server, maxSpan);
        break;
      case 'chatty':
        this.chatty(client, server, maxSpan);
        break;
      case 'tiny':
        for (const s of [client, server]) {
          const n = d.int(0, 3);
          for (let i = 0; i < n; i++) s.messages.push({ atMs: d.int(0, 50), bytes: 1 });
          s.writeChunk = 1;
        }
        break;
      case 'idle': {
        const idle = d.uniform(Math.min(10_000, maxSpan), maxSpan);
        client.messages.push({ atMs: 0, bytes: d.logInt(1, 512) });
        client.messages.push({ atMs: idle, bytes: d.logInt(1, 512) });
        server.messages.push({ atMs: idle / 2, bytes: d.logInt(1, 512) });
        break;
      }
    }
    // Unreliable datagrams next to the stream.
    if (kind !== 'chatty' && kind !== 'tiny' && d.chance(0.25)) {
      for (const s of [client, server]) this.datagrams(s, d.uniform(1, 20), Math.min(maxSpan, 10_000));
    }
    // Slow readers, forcing zero windows when the other side sends a lot.
    for (const s of [client, server]) {
      if (!d.chance(kind === 'bulk' ? 0.3 : 0.12)) continue;
      const pauses = d.int(1, 3);
      for (let i = 0; i < pauses; i++) {
        s.readPauses.push({
          atMs: d.uniform(0, maxSpan),
          forMs: d.logInt(200, 20_000),
          bytesPerTick: d.chance(0.5) ? d.logInt(1, 16 * KB) : undefined,
        });
      }
      s.readPauses.sort((a, b) => a.atMs - b.atMs);
    }
    for (const s of [client, server]) {
      s.messages.sort((a, b) => a.atMs - b.atMs);
      s.datagrams.sort((a, b) => a.atMs - b.atMs);
    }
    let spanMs = 0;
    for (const s of [client, server]) {
      for (const m of s.messages) spanMs = Math.max(spanMs, m.atMs);
      for (const m of s.datagrams) spanMs = Math.max(spanMs, m.atMs);
      for (const r of s.readPauses) spanMs = Math.max(spanMs, r.atMs + r.forMs);
    }
    // Aborts, from either side, at any time (a client abort at 0-50 ms usually lands in SYN-SENT).
    const abortRate = p.workload === 'abort-heavy' ? 0.7 : p.workload === 'game' ? 0.05 : 0.12;
    if (d.chance(abortRate)) {
      const side = d.chance(0.5) ? client : server;
      side.abortAtMs = d.chance(0.15) ? d.uniform(0, 50) : d.uniform(0, Math.max(spanMs, 100) * 1.2);
    }
    const nextDelayMs = d.chance(0.3) ? 0 : d.logInt(10, 10_000);
    return { id, slot: this.slot, kind, profile, clientVariant, serverVariant, client, server, spanMs, nextDelayMs };
  }

  private kind(): LifetimeKind {
    switch (this.params.workload) {
      case 'game':
        return 'chatty';
      case 'bulk':
        return 'bulk';
      default:
        return this.d.pick<LifetimeKind>([
          ['bulk', 0.2],
          ['request', 0.25],
          ['chatty', 0.3],
          ['tiny', 0.15],
          ['idle', 0.1],
        ]);
    }
  }

  private bulkSize(): number {
    const d = this.d;
    const r = d.float();
    if (this.smallBuffers) return r < 0.5 ? d.logInt(1, 16 * KB) : d.logInt(16 * KB, 256 * KB);
    if (r < 0.5) return d.logInt(1, 256 * KB);
    if (r < 0.92) return d.logInt(256 * KB, 2 * MB);
    return d.logInt(2 * MB, 6 * MB);
  }

  private bulk(client: SidePlan, server: SidePlan, maxSpan: number): void {
    const d = this.d;
    const dir = d.pick<'up' | 'down' | 'both'>([
      ['up', 0.35],
      ['down', 0.35],
      ['both', 0.3],
    ]);
    for (const [s, on] of [
      [client, dir !== 'down'],
      [server, dir !== 'up'],
    ] as const) {
      if (!on) continue;
      s.writeChunk = d.pick([
        [64 * KB, 0.6],
        [d.logInt(1, 16 * KB), 0.4],
      ]);
      let t = d.uniform(0, 500);
      const n = d.int(1, 3);
      for (let i = 0; i < n; i++) {
        s.messages.push({ atMs: t, bytes: this.bulkSize() });
        // Idle period between bursts.
        t += d.uniform(0, maxSpan / n);
      }
    }
  }

  private request(client: SidePlan, server: SidePlan, maxSpan: number): void {
    const d = this.d;
    const n = d.int(1, 20);
    let t = d.uniform(0, 200);
    for (let i = 0; i < n; i++) {
      client.messages.push({ atMs: t, bytes: d.logInt(1, 2 * KB) });
      server.messages.push({ atMs: t + d.uniform(0, 300), bytes: d.logInt(1, this.smallBuffers ? 32 * KB : 256 * KB) });
      t += d.chance(0.2) ? d.uniform(0, maxSpan / 2) : d.uniform(0, maxSpan / (2 * n));
    }
    client.writeChunk = d.chance(0.2) ? d.logInt(1, 64) : 64 * KB;
  }

  private chatty(client: SidePlan, server: SidePlan, maxSpan: number): void {
    const d = this.d;
    const span = d.uniform(Math.min(2000, maxSpan), maxSpan);
    for (const s of [client, server]) {
      const rate = d.uniform(5, 30);
      let t = d.uniform(0, 100);
      while (t < span) {
        if (d.chance(0.02)) {
          // A burst: many messages at once.
          const burst = d.int(5, 50);
          for (let i = 0; i < burst; i++) s.messages.push({ atMs: t, bytes: d.logInt(1, 1200) });
        } else {
          s.messages.push({ atMs: t, bytes: d.logInt(1, 300) });
        }
        t += d.chance(0.03) ? d.uniform(500, 5000) : (1000 / rate) * d.uniform(0.5, 1.5);
      }
      this.datagrams(s, d.uniform(0, 30), span);
    }
  }

  private datagrams(s: SidePlan, ratePerS: number, spanMs: number): void {
    const d = this.d;
    if (ratePerS < 0.5) return;
    for (let t = d.uniform(0, 1000 / ratePerS); t < spanMs; t += (1000 / ratePerS) * d.uniform(0.5, 1.5)) {
      s.datagrams.push({ atMs: t, bytes: d.logInt(20, this.params.maxDatagramBytes) });
    }
  }
}

function emptySide(d: Draw, profile: 'tcp' | 'game'): SidePlan {
  return {
    messages: [],
    datagrams: [],
    writeChunk: 64 * KB,
    readPauses: [],
    finish: d.chance(0.3) ? 'close' : 'shutdown',
    noDelay: profile === 'game' || d.chance(0.3),
  };
}

/**
 * Network partitions between a client host and the server, drawn per host: sometimes none, sometimes one cut
 * from half a second (retransmissions ride it out) to two minutes (connections time out and reconnect).
 */
export function drawPartitions(seed: number, host: number, durationMs: number): Array<{ fromMs: number; toMs: number }> {
  const d = new Draw(new Prng(deriveSeed(seed, 0x9a47, host)));
  const out: Array<{ fromMs: number; toMs: number }> = [];
  const n = d.chance(0.5) ? 0 : d.int(1, 2);
  for (let i = 0; i < n; i++) {
    const fromMs = Math.floor(d.uniform(0, durationMs));
    out.push({ fromMs, toMs: fromMs + d.logInt(500, 120_000) });
  }
  return out;
}

// Re-runs a recorded endpoint: re-creates it from the log's options (or restores it from a snapshot), feeds every
// input at its recorded time on a virtual clock as fast as the CPU goes, and checks every output against the
// recorded digest. The first output that differs stops the replay with both sides described.
import { Endpoint, wire, type Connection, type EndpointEvent, type EndpointOptions, type EndpointSnapshot, type TraceHook, type Transmit } from '../core/index.js';
import {
  bytesDigest,
  datagramDigest,
  describeEvent,
  describeRecord,
  endpointOptionsOf,
  ERROR_CODES,
  fmtMs,
  fmtRemote,
  hex32,
  K,
  type EventDigest,
  type LogHeader,
  type LogRecord,
} from './format.js';
import type { LogReader, Truncation } from './reader.js';

/** A replay's position saved to a file: the endpoint's snapshot and the step it was taken before. */
export interface ReplaySnapshot {
  format: 'stevens-replay-snapshot';
  version: 1;
  /** The next step to replay (the snapshot holds the state after steps 0 .. step-1). */
  step: number;
  timeMs: number;
  /** The log's seed and label, to refuse a snapshot of another log. */
  seed: number;
  label?: string;
  snapshot: EndpointSnapshot;
}

export interface ReplayOptions {
  /** The replayed endpoint's trace hook. */
  trace?: TraceHook;
  /** Stop before the first record later than this time (ms). */
  untilMs?: number;
  /** Stop before this step (after replaying `stopAtStep` steps counted from 0). */
  stopAtStep?: number;
  /** Enter a `debugger` statement right before this step (run under `node --inspect`). */
  breakAt?: number;
  /** Start from this snapshot instead of the log's beginning (the log is read, not replayed, up to its step). */
  from?: ReplaySnapshot;
  /** Compare snapshot records with the replayed endpoint's own snapshot (default true). */
  verifySnapshots?: boolean;
  /** Called before each step is replayed (tests take snapshots here). */
  beforeStep?: (replayer: Replayer, record: LogRecord) => void;
  /** Every datagram the replayed endpoint sends, with its step. */
  onTransmit?: (step: number, t: Transmit) => void;
  /** Every event the replayed endpoint emits, with its step. */
  onEvent?: (step: number, ev: EndpointEvent) => void;
  /** Every read() the application made, with its step and what it returned in the replay. */
  onRead?: (step: number, connectionId: number, bytes: Uint8Array) => void;
  /**
   * Full logs: options laid over the recorded ones (a what-if replay, e.g. `{ faults: {} }` to drop a planted
   * fault: the replay then diverges where the fault acted).
   */
  endpointOptions?: Partial<EndpointOptions>;
  /** Said when the replay breaks (--break-at), at gaps between ring chunks, and at the recorder's marks. */
  log?: (line: string) => void;
}

export interface Divergence {
  step: number;
  timeMs: number;
  /** The call, with what the recording says it returned or emitted. */
  recorded: string;
  /** The same call in the replay, with what it returned or emitted. */
  replayed: string;
  /** The steps just before, oldest first. */
  context: string[];
}

export type ReplayStatus = 'complete' | 'cut-off' | 'stopped' | 'diverged';

export interface ReplayResult {
  status: ReplayStatus;
  /** The next step (steps before it were replayed or skipped to a snapshot). */
  step: number;
  /** Steps actually replayed in this run. */
  steps: number;
  /** Outputs compared with the recording (datagrams, deadlines, events, call results). */
  outputsChecked: number;
  /** The virtual clock at the stop: the time of the last record replayed. */
  timeMs: number;
  /** Recorded time covered by this run. */
  spanMs: number;
  wallMs: number;
  divergence?: Divergence;
  /** Where the logs ended without an End record (a cut-off tail). */
  truncation?: Truncation;
  /** Snapshot records checked against the replayed endpoint. */
  snapshotsVerified: number;
  /** Things worth knowing that are not failures (restarts at ring gaps, calls on forgotten connections). */
  notes: string[];
}

const CONTEXT_STEPS = 6;

export class Replayer {
  endpoint!: Endpoint;
  readonly header: LogHeader;
  /** The next step to replay. */
  position = 0;
  timeMs = NaN;
  private readonly logs: LogReader[];
  private logIndex = 0;
  private readonly conns = new Map<number, Connection>();
  private readonly recent: LogRecord[] = [];
  private recentHead = 0;
  private readonly notes: string[] = [];
  private outputsChecked = 0;
  private snapshotsVerified = 0;
  private divergence: Divergence | undefined;
  private forgottenCalls = 0;
  private started = false;
  private firstTimeMs = NaN;

  constructor(
    logs: LogReader | LogReader[],
    private readonly opts: ReplayOptions = {},
  ) {
    this.logs = Array.isArray(logs) ? logs : [logs];
    if (this.logs.length === 0) throw new Error('nothing to replay: no log');
    this.header = this.logs[0]!.header;
    for (const l of this.logs.slice(1)) {
      if (l.header.options.seed !== this.header.options.seed || l.header.label !== this.header.label) {
        throw new Error(`${l.name} is not a chunk of the same recording as ${this.logs[0]!.name} (seed or label differ)`);
      }
    }
  }

  /** Replays until the end of the logs, a stop condition, or the first divergence. */
  run(): ReplayResult {
    const t0 = performance.now();
    const steps0 = this.stepsReplayed;
    if (!this.started) this.start();
    const o = this.opts;
    const until = o.untilMs ?? Infinity;
    const stopAt = o.stopAtStep ?? Infinity;
    const breakAt = o.breakAt ?? -1;
    const before = o.beforeStep;
    let status: ReplayStatus = 'complete';
    for (;;) {
      const r = this.peekRecord();
      if (r === undefined) {
        status = this.endedCleanly() ? 'complete' : 'cut-off';
        break;
      }
      if (r.step >= stopAt || r.timeMs > until) {
        status = 'stopped';
        break;
      }
      if (r.step === breakAt) this.breakHere(r);
      if (before !== undefined) before(this, r);
      this.nextRecord();
      if (!this.apply(r)) {
        status = 'diverged';
        break;
      }
    }
    const last = this.logs[Math.min(this.logIndex, this.logs.length - 1)]!;
    const result: ReplayResult = {
      status,
      step: this.position,
      steps: this.stepsReplayed - steps0,
      outputsChecked: this.outputsChecked,
      timeMs: this.timeMs,
      spanMs: Number.isNaN(this.firstTimeMs) ? 0 : this.timeMs - this.firstTimeMs,
      wallMs: performance.now() - t0,
      snapshotsVerified: this.snapshotsVerified,
      notes: [...this.notes],
    };
    if (this.forgottenCalls > 0) result.notes.push(`${this.forgottenCalls} application calls on connections the restored endpoint no longer held (closed before its snapshot) were checked against a closed connection's behaviour`);
    if (this.divergence) result.divergence = this.divergence;
    if (status === 'cut-off' && last.truncated) result.truncation = last.truncated;
    return result;
  }

  /** The replayed endpoint's state here, as a file-ready snapshot (taken before step `position`). */
  snapshotHere(): ReplaySnapshot {
    if (!this.started) this.start();
    const s: ReplaySnapshot = {
      format: 'stevens-replay-snapshot',
      version: 1,
      step: this.position,
      timeMs: this.timeMs,
      seed: this.header.options.seed as number,
      snapshot: this.endpoint.snapshot(),
    };
    if (this.header.label !== undefined) s.label = this.header.label;
    return s;
  }

  /** The connection with this id, as the replay knows it (undefined once forgotten and never seen). */
  connection(id: number): Connection | undefined {
    return this.lookup(id);
  }

  // ------------------------------------------------------------------ setup

  private stepsReplayed = 0;

  private start(): void {
    this.started = true;
    const from = this.opts.from;
    if (from !== undefined) {
      if (from.format !== 'stevens-replay-snapshot' || typeof from.step !== 'number' || typeof from.snapshot !== 'object') throw new Error('not a stevens replay snapshot');
      if (from.seed !== this.header.options.seed || from.label !== this.header.label) {
        throw new Error(`the snapshot was taken from another log (seed ${from.seed}${from.label ? `, ${from.label}` : ''}; this log: seed ${String(this.header.options.seed)}${this.header.label ? `, ${this.header.label}` : ''})`);
      }
      // Read (without replaying) up to the snapshot's step.
      for (let r = this.peekRecord(); r !== undefined && r.step < from.step; r = this.peekRecord()) this.nextRecord();
      const r = this.peekRecord();
      if (r === undefined && this.position < from.step) throw new Error(`the log ends at step ${this.position}, before the snapshot's step ${from.step}`);
      this.restore(from.snapshot, from.timeMs);
      this.position = from.step;
      return;
    }
    const first = this.logs[0]!;
    if (first.header.mode === 'ring') {
      const r = this.nextRecord();
      if (r === undefined || r.kind !== K.Snapshot) throw new Error(`${first.name}: a ring chunk must start with a snapshot`);
      this.restore(r.snapshot(), r.timeMs);
      this.position = r.step + 1;
      return;
    }
    this.endpoint = new Endpoint({ ...endpointOptionsOf(this.header.options), ...this.opts.endpointOptions, trace: this.opts.trace });
  }

  private restore(snapshot: EndpointSnapshot, timeMs: number): void {
    this.endpoint = Endpoint.restore(snapshot, { trace: this.opts.trace });
    this.conns.clear();
    for (const c of this.endpoint.connections()) this.conns.set(c.id, c);
    this.timeMs = timeMs;
  }

  // ------------------------------------------------------------------ records across chunks

  private peekRecord(): LogRecord | undefined {
    for (;;) {
      const log = this.logs[this.logIndex];
      if (log === undefined) return undefined;
      const r = log.peek();
      if (r !== undefined) return r;
      if (this.logIndex + 1 >= this.logs.length) return undefined;
      this.logIndex++;
      this.enterChunk(this.logs[this.logIndex]!, log);
    }
  }

  private nextRecord(): LogRecord | undefined {
    const r = this.peekRecord();
    if (r === undefined) return undefined;
    this.logs[this.logIndex]!.next();
    this.position = r.step + 1;
    return r;
  }

  /** The next chunk of a ring: contiguous ones continue (their snapshot is checked), a gap restarts from it. */
  private enterChunk(next: LogReader, prev: LogReader): void {
    if (next.header.firstStep === this.position && this.started) return;
    const first = next.peek();
    if (first === undefined || first.kind !== K.Snapshot) throw new Error(`${next.name} does not continue ${prev.name} (step ${next.header.firstStep}, expected ${this.position}) and does not start with a snapshot`);
    if (!this.started) return;
    const why = prev.truncated ? `${prev.name} is cut off` : `steps ${this.position}..${next.header.firstStep - 1} are missing`;
    this.notes.push(`${why}: restarted from the snapshot at the start of ${next.name} (step ${first.step})`);
    this.opts.log?.(this.notes[this.notes.length - 1]!);
    next.next();
    this.restore(first.snapshot(), first.timeMs);
    this.position = first.step + 1;
  }

  private endedCleanly(): boolean {
    return this.logs.every((l) => l.ended && l.truncated === undefined);
  }

  // ------------------------------------------------------------------ one step

  /** Replays one record; false when the replay diverged (this.divergence says how). */
  private apply(r: LogRecord): boolean {
    this.stepsReplayed++;
    this.recent[this.recentHead] = r;
    this.recentHead = (this.recentHead + 1) % CONTEXT_STEPS;
    if (Number.isNaN(this.firstTimeMs)) this.firstTimeMs = Number.isNaN(this.timeMs) ? r.timeMs : this.timeMs;
    this.timeMs = r.timeMs;
    const ep = this.endpoint;
    let thrown: unknown = NO_THROW;
    let mismatch: string | undefined;
    try {
      switch (r.kind) {
        case K.Datagram:
          ep.handleDatagram(r.timeMs, r.remote, r.bytes);
          break;
        case K.Timeout:
          ep.handleTimeout(r.timeMs);
          break;
        case K.TransmitNone:
        case K.Transmit: {
          const t = ep.pollTransmit(r.timeMs);
          this.outputsChecked++;
          if (t !== undefined) this.opts.onTransmit?.(r.step, t);
          mismatch = checkTransmit(r, t);
          break;
        }
        case K.DeadlineNone:
        case K.DeadlineSame:
        case K.Deadline: {
          const d = ep.pollTimeoutMs();
          this.outputsChecked++;
          if (d !== r.deadlineMs) mismatch = `pollTimeoutMs() -> ${fmtMs(d)}`;
          break;
        }
        case K.EventNone:
        case K.Event: {
          const ev = ep.pollEvent();
          this.outputsChecked++;
          if (ev !== undefined) {
            this.conns.set(ev.connection.id, ev.connection);
            this.opts.onEvent?.(r.step, ev);
          }
          mismatch = checkEvent(r.kind === K.Event ? r.event : undefined, ev);
          break;
        }
        case K.Listen:
          ep.listen(endpointOptionsOf(r.options) as object);
          break;
        case K.Unlisten:
          ep.unlisten(r.port);
          break;
        case K.Connect: {
          const conn = ep.connect(r.timeMs, r.remote, endpointOptionsOf(r.options) as object);
          this.conns.set(conn.id, conn);
          this.outputsChecked++;
          if (conn.id !== r.connectionId) mismatch = `connect(...) -> #${conn.id}`;
          break;
        }
        case K.Write: {
          const conn = this.lookup(r.connectionId);
          const bytes = r.bytes.length === r.length ? r.bytes : padded(r.bytes, r.length);
          this.outputsChecked++;
          if (conn === undefined) {
            this.forgottenCalls++;
            thrown = new Error('write on a closed connection');
            break;
          }
          const n = conn.write(bytes);
          if (n !== r.accepted) mismatch = `#${r.connectionId}.write(${r.length} bytes) -> ${n}`;
          break;
        }
        case K.Read: {
          const conn = this.lookup(r.connectionId);
          this.outputsChecked++;
          if (conn === undefined) {
            this.forgottenCalls++;
            if (r.length !== 0) mismatch = `#${r.connectionId} is not in the replayed endpoint (closed before its snapshot): read() -> 0 bytes`;
            break;
          }
          const out = conn.read(r.maxBytes);
          this.opts.onRead?.(r.step, r.connectionId, out);
          if (out.length !== r.length || (out.length > 0 && bytesDigest(out) !== r.digest)) {
            mismatch = `#${r.connectionId}.read(${r.maxBytes ?? ''}) -> ${out.length} bytes${out.length > 0 ? ` digest ${hex32(bytesDigest(out))}` : ''}`;
          }
          break;
        }
        case K.Shutdown:
        case K.Close:
        case K.Abort: {
          const conn = this.lookup(r.connectionId);
          if (conn === undefined) {
            this.forgottenCalls++;
            break;
          }
          if (r.kind === K.Shutdown) conn.shutdown();
          else if (r.kind === K.Close) conn.close();
          else conn.abort();
          break;
        }
        case K.SendDatagram: {
          const conn = this.lookup(r.connectionId);
          this.outputsChecked++;
          const bytes = r.bytes.length === r.length ? r.bytes : new Uint8Array(r.length);
          if (conn === undefined) {
            this.forgottenCalls++;
            if (r.result === true) mismatch = `#${r.connectionId} is not in the replayed endpoint (closed before its snapshot): sendDatagram() -> false`;
            else if (r.result === undefined) thrown = new Error('sendDatagram on a closed connection');
            break;
          }
          const ok = conn.sendDatagram(bytes);
          if (ok !== r.result) mismatch = `#${r.connectionId}.sendDatagram(${r.length} bytes) -> ${ok}`;
          break;
        }
        case K.SetNoDelay: {
          const conn = this.lookup(r.connectionId);
          if (conn === undefined) this.forgottenCalls++;
          else conn.setNoDelay(r.on);
          break;
        }
        case K.Snapshot: {
          // Taking it has the recorder's side effects (timers flushed), so it is always taken.
          const mine = JSON.stringify(ep.snapshot());
          if (this.opts.verifySnapshots !== false) {
            this.snapshotsVerified++;
            if (mine !== r.json) {
              // Key order is not state (an object rebuilt from a snapshot may list its keys in another order).
              const a = JSON.parse(r.json) as unknown;
              const b = JSON.parse(mine) as unknown;
              if (!sameValue(a, b)) mismatch = `snapshot differs: ${firstDifference(a, b)}`;
            }
          }
          break;
        }
        case K.Threw:
          // A Threw record right after its call is consumed by that call; here it follows nothing (a replay that
          // started from a snapshot between the two): nothing to do.
          return true;
        case K.Mark:
          this.opts.log?.(`mark at step ${r.step} @ ${fmtMs(r.timeMs)}: ${r.text}`);
          return true;
        case K.End:
          return true;
      }
    } catch (e) {
      thrown = e;
    }
    if (mismatch !== undefined) return this.diverge(r, describeRecord(r), mismatch);
    // A call that threw while recording is followed by a Threw record.
    const next = this.peekRecord();
    const recordedThrow = next !== undefined && next.kind === K.Threw ? next.message : undefined;
    if (recordedThrow !== undefined) this.nextRecord();
    if (thrown === NO_THROW) {
      if (recordedThrow !== undefined) return this.diverge(r, `${describeRecord(r)}, and threw: ${recordedThrow}`, 'returned normally');
      return true;
    }
    const msg = thrown instanceof Error ? thrown.message : String(thrown);
    if (recordedThrow === undefined) return this.diverge(r, `${describeRecord(r)} (returned normally)`, `threw: ${msg}${thrown instanceof Error && thrown.stack ? `\n${thrown.stack}` : ''}`);
    // A forgotten connection's emulated throw has no message of its own: any recorded throw matches it.
    const emulated = thrown instanceof Error && / on a closed connection$/.test(thrown.message) && this.lookup((r as { connectionId?: number }).connectionId ?? -1) === undefined;
    if (!emulated && msg !== recordedThrow) return this.diverge(r, `${describeRecord(r)}, threw: ${recordedThrow}`, `threw: ${msg}`);
    return true;
  }

  private lookup(id: number): Connection | undefined {
    const c = this.conns.get(id);
    if (c !== undefined) return c;
    for (const x of this.endpoint.connections()) {
      if (x.id === id) {
        this.conns.set(id, x);
        return x;
      }
    }
    return undefined;
  }

  private diverge(r: LogRecord, recorded: string, replayed: string): false {
    const context: string[] = [];
    for (let i = 0; i < CONTEXT_STEPS; i++) {
      const c = this.recent[(this.recentHead + i) % CONTEXT_STEPS];
      if (c !== undefined && c !== r) context.push(`step ${c.step} @ ${fmtMs(c.timeMs)}: ${describeRecord(c)}`);
    }
    this.divergence = { step: r.step, timeMs: r.timeMs, recorded, replayed, context };
    return false;
  }

  private breakHere(r: LogRecord): void {
    const endpoint = this.endpoint;
    const connections = this.conns;
    const record = r;
    this.opts.log?.(`break at step ${r.step} @ ${fmtMs(r.timeMs)}: ${describeRecord(r)} (in scope: endpoint, connections, record)`);
    // eslint-disable-next-line no-debugger
    debugger;
    void endpoint;
    void connections;
    void record;
  }
}

const NO_THROW = Symbol('no throw');

function padded(prefix: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(prefix);
  return out;
}

function checkTransmit(r: LogRecord, t: Transmit | undefined): string | undefined {
  if (r.kind === K.TransmitNone) return t === undefined ? undefined : `pollTransmit(${fmtMs(r.timeMs)}) -> ${describeTransmit(t)}`;
  if (r.kind !== K.Transmit) return undefined;
  if (t === undefined) return `pollTransmit(${fmtMs(r.timeMs)}) -> nothing`;
  const o = r.out;
  if (t.remote.address !== o.remote.address || t.remote.port !== o.remote.port || t.bytes.length !== o.length || datagramDigest(t.remote, t.bytes) !== o.digest) {
    return `pollTransmit(${fmtMs(r.timeMs)}) -> ${describeTransmit(t)}`;
  }
  return undefined;
}

/** A sent datagram in words: size, destination, digest and its decoded segment (or datagram). */
export function describeTransmit(t: Transmit): string {
  return `${t.bytes.length} bytes to ${fmtRemote(t.remote)}, digest ${hex32(datagramDigest(t.remote, t.bytes))}: ${describeDatagram(t.bytes)}`;
}

export function describeDatagram(bytes: Uint8Array): string {
  const d = wire.decodeDatagram(bytes);
  if (!d.ok) return `undecodable (${d.reason})`;
  if (d.value.kind === 'datagram') return `datagram ${d.value.srcPort} -> ${d.value.dstPort}, ${d.value.payload.length} bytes`;
  const s = d.value.segment;
  return `segment ${s.srcPort} -> ${s.dstPort} ${flagNames(s.flags)} seq ${s.seq} ack ${s.ack} win ${s.window} len ${s.payload.length}`;
}

export function flagNames(flags: number): string {
  const names: string[] = [];
  const bits: Array<[number, string]> = [
    [wire.SYN, 'SYN'],
    [wire.FIN, 'FIN'],
    [wire.RST, 'RST'],
    [wire.PSH, 'PSH'],
    [wire.ACK, 'ACK'],
    [wire.URG, 'URG'],
    [wire.ECE, 'ECE'],
    [wire.CWR, 'CWR'],
  ];
  for (const [bit, name] of bits) if (flags & bit) names.push(name);
  return names.length > 0 ? names.join('|') : '-';
}

function checkEvent(want: EventDigest | undefined, ev: EndpointEvent | undefined): string | undefined {
  if (want === undefined) return ev === undefined ? undefined : `pollEvent() -> ${describeEvent(digestOf(ev))}`;
  if (ev === undefined) return 'pollEvent() -> nothing';
  const got = digestOf(ev);
  if (got.type !== want.type || got.connectionId !== want.connectionId || got.code !== want.code || got.length !== want.length || got.digest !== want.digest) {
    return `pollEvent() -> ${describeEvent(got)}`;
  }
  return undefined;
}

function digestOf(ev: EndpointEvent): EventDigest {
  const d: EventDigest = { type: ev.type, connectionId: ev.connection.id };
  if (ev.type === 'closed' && ev.error !== undefined) d.code = ERROR_CODES[ev.error.code] !== undefined ? ev.error.code : String(ev.error.code);
  if (ev.type === 'datagram') {
    d.length = ev.bytes.length;
    d.digest = bytesDigest(ev.bytes);
  }
  return d;
}

/** Deep equality of plain (JSON) values, ignoring the order of object keys. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(ob, k) && sameValue((a as Record<string, unknown>)[k], ob[k]));
}

/** Where two plain values first differ, as a path with both values. */
export function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (Object.is(a, b)) return 'nowhere';
  const show = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s.length > 120 ? `${s.slice(0, 117)}...` : s;
  };
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || '(root)'}: recorded ${show(a)}, replayed ${show(b)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (!sameValue(x, y)) return firstDifference(x, y, Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
  }
  return `${path || '(root)'}: key order differs`;
}

/** A divergence as lines for a terminal. */
export function formatDivergence(d: Divergence): string[] {
  return [
    `DIVERGED at step ${d.step} @ ${fmtMs(d.timeMs)}`,
    ...(d.context.length > 0 ? ['  steps before:', ...d.context.map((c) => `    ${c}`)] : []),
    `  recorded: ${d.recorded}`,
    `  replayed: ${d.replayed}`,
  ];
}

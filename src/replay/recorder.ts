// Records an Endpoint's every input and a digest of its every output, through the same seam any driver uses:
// RecordingEndpoint *is* an Endpoint (the simulator, the Node driver, the soak runner take it as they are), and
// it observes the application's calls on its connections (Endpoint.observeCalls), recording them too, tagged
// with the connection's id. Calls carry no time of their own; the log gives them
// the latest time seen.
import { Endpoint, type ApplicationCall, type Connection, type ConnectOptions, type EndpointEvent, type EndpointOptions, type EndpointSnapshot, type ListenOptions, type Remote, type Transmit } from '../core/index.js';
import { K, plainOptions } from './format.js';
import { RingSink, type RingOptions } from './ring.js';
import { FileSink, LogWriter, type LogSink, type WriterOptions } from './writer.js';

export interface RecorderOptions extends WriterOptions {
  /** Stored in the header: which endpoint this is (a host name, 'server'...). */
  label?: string;
  /** Stored in the header: the application's own notes (JSON values). */
  meta?: Record<string, unknown>;
}

/** What the Node driver's `record` option takes: one file, or a ring of chunk files in a directory. */
export type RecordOption = { path: string } | { ringBytes: number; dir: string; prefix?: string };

export interface RecordingStats {
  /** Records written (the next step number). */
  steps: number;
  /** Bytes handed to the sink(s), headers and compressed blocks. */
  bytes: number;
  /** Record bytes before compression. */
  rawBytes: number;
  blocks: number;
  /** Why recording stopped early (the sink failed), if it did. */
  error?: string;
}

export class RecordingEndpoint extends Endpoint {
  readonly log: LogWriter;
  private live: LogWriter | undefined;

  /**
   * `sink`: a BufferSink or FileSink for a full log, a RingSink for a bounded ring (each chunk starts with a
   * snapshot). The options are stored in the log without their functions (the trace hook).
   */
  constructor(options: EndpointOptions, sink: LogSink, opts: RecorderOptions = {}) {
    super(options);
    const ring = typeof sink.startFile === 'function';
    const log = new LogWriter(sink, { options: plainOptions(options), mode: ring ? 'ring' : 'full', label: opts.label, meta: opts.meta }, opts);
    this.log = log;
    this.live = log;
    this.observeCalls({ call: (conn, kind, args, run) => this.recordCall(conn, kind, args, run) });
    if (ring) this.newChunk(log);
  }

  /** Records still being written (false once closed, or after the sink failed). */
  get recording(): boolean {
    return this.live !== undefined && !this.live.closed;
  }

  recordingStats(): RecordingStats {
    const l = this.log;
    const s: RecordingStats = { steps: l.step, bytes: l.bytesOut, rawBytes: l.bytesRaw, blocks: l.blocks };
    if (l.error !== undefined) s.error = l.error.message;
    return s;
  }

  /** Seal the pending block (it reaches the sink now). */
  flushLog(): void {
    this.active()?.flush();
  }

  /** A free-form note in the log at this point (the replayer says it when it gets there: `stevens replay` on stderr). */
  mark(text: string): void {
    this.active()?.mark(text);
  }

  /** End the log (an End record, the last block) and close the sink. The endpoint goes on, unrecorded. */
  closeLog(): void {
    this.live = undefined;
    this.log.close();
  }

  // ------------------------------------------------------------------ the Endpoint's calls

  override listen(opts: ListenOptions = {}): void {
    const log = this.active();
    log?.listen(plainOptions(opts as EndpointOptions));
    try {
      super.listen(opts);
    } catch (e) {
      log?.threw(e);
      throw e;
    }
  }

  override unlisten(port?: number): void {
    const log = this.active();
    log?.unlisten(port);
    try {
      super.unlisten(port);
    } catch (e) {
      log?.threw(e);
      throw e;
    }
  }

  override connect(nowMs: number, remote: Remote, opts: ConnectOptions = {}): Connection {
    const log = this.activeInput();
    let conn: Connection;
    try {
      conn = super.connect(nowMs, remote, opts);
    } catch (e) {
      log?.connect(nowMs, remote, plainOptions(opts as EndpointOptions), 0);
      log?.threw(e);
      throw e;
    }
    log?.connect(nowMs, remote, plainOptions(opts as EndpointOptions), conn.id);
    return conn;
  }

  override handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    const log = this.activeInput();
    if (log === undefined) return super.handleDatagram(nowMs, remote, bytes);
    log.datagram(nowMs, remote, bytes);
    try {
      super.handleDatagram(nowMs, remote, bytes);
    } catch (e) {
      log.threw(e);
      throw e;
    }
  }

  override pollTransmit(nowMs: number): Transmit | undefined {
    const log = this.active();
    if (log === undefined) return super.pollTransmit(nowMs);
    let t: Transmit | undefined;
    try {
      t = super.pollTransmit(nowMs);
    } catch (e) {
      log.transmit(nowMs, undefined);
      log.threw(e);
      throw e;
    }
    log.transmit(nowMs, t);
    return t;
  }

  override pollTimeoutMs(): number | undefined {
    const log = this.active();
    if (log === undefined) return super.pollTimeoutMs();
    let d: number | undefined;
    try {
      d = super.pollTimeoutMs();
    } catch (e) {
      log.deadline(undefined);
      log.threw(e);
      throw e;
    }
    log.deadline(d);
    return d;
  }

  override handleTimeout(nowMs: number): void {
    const log = this.activeInput();
    if (log === undefined) return super.handleTimeout(nowMs);
    log.timeout(nowMs);
    try {
      super.handleTimeout(nowMs);
    } catch (e) {
      log.threw(e);
      throw e;
    }
  }

  override pollEvent(): EndpointEvent | undefined {
    const log = this.active();
    let ev: EndpointEvent | undefined;
    try {
      ev = super.pollEvent();
    } catch (e) {
      log?.event(undefined);
      log?.threw(e);
      throw e;
    }
    log?.event(ev);
    return ev;
  }

  /** A snapshot taken by the application is recorded too (the replayer checks its own against it). */
  override snapshot(): EndpointSnapshot {
    const log = this.active();
    this.depth++;
    let s: EndpointSnapshot;
    try {
      s = super.snapshot();
    } finally {
      this.depth--;
    }
    log?.snapshot(JSON.stringify(s));
    return s;
  }

  // ------------------------------------------------------------------ internals

  /** The writer, if recording. */
  private active(): LogWriter | undefined {
    const log = this.live;
    if (log === undefined || log.closed) return undefined;
    // A chunk long past full (an application that never sends input?) rolls at any call.
    if (log.wantsNewFile && log.bytesInFile >= 2 * this.chunkBytes) this.newChunk(log);
    return log.closed ? undefined : log;
  }

  /**
   * The writer, before an input (a datagram, a timer, a connect): a full ring chunk is closed here and a new one
   * begun with a snapshot. Inputs start a driver's turn, after the previous turn drained its datagrams and events,
   * so the snapshot is small and has no queued work in it.
   */
  private activeInput(): LogWriter | undefined {
    const log = this.live;
    if (log === undefined || log.closed) return undefined;
    if (log.wantsNewFile) this.newChunk(log);
    return log.closed ? undefined : log;
  }

  private get chunkBytes(): number {
    const sink = this.log.sink as { chunkBytes?: number };
    return sink.chunkBytes ?? Infinity;
  }

  private newChunk(log: LogWriter): void {
    log.startFile();
    this.depth++;
    try {
      log.snapshot(JSON.stringify(super.snapshot()));
    } finally {
      this.depth--;
    }
    // The snapshot in a block of its own: the ring weighs it against the records that follow.
    log.flush();
  }

  /**
   * One application call on a connection: recorded with its result (a call that throws is recorded with no
   * result, then a Threw record). Calls made while the core works for the endpoint (inside a snapshot) are not.
   */
  private recordCall<T>(conn: Connection, kind: ApplicationCall, args: readonly unknown[], run: () => T): T {
    const log = this.depth === 0 ? this.active() : undefined;
    if (log === undefined) return run();
    let result: T;
    this.depth++;
    try {
      result = run();
    } catch (e) {
      logCall(log, conn.id, kind, args, undefined);
      log.threw(e);
      throw e;
    } finally {
      this.depth--;
    }
    logCall(log, conn.id, kind, args, result);
    return result;
  }

  /** Calls in progress (see recordCall). */
  private depth = 0;
}

/** The record of one application call; `result` undefined when the call threw. */
function logCall(log: LogWriter, id: number, kind: ApplicationCall, args: readonly unknown[], result: unknown): void {
  switch (kind) {
    case 'write':
      return log.write(id, args[0] as Uint8Array, result === undefined ? -1 : (result as number));
    case 'read':
      return log.read(id, args[0] as number | undefined, result as Uint8Array | undefined);
    case 'sendDatagram':
      return log.sendDatagram(id, args[0] as Uint8Array, result as boolean | undefined);
    case 'setNoDelay':
      return log.setNoDelay(id, args[0] as boolean);
    case 'shutdown':
      return log.simple(K.Shutdown, id);
    case 'close':
      return log.simple(K.Close, id);
    case 'abort':
      return log.simple(K.Abort, id);
  }
}

/**
 * The Node driver's `record` option made real: a RecordingEndpoint writing one file (blocks sealed at least
 * every second, so a crash loses little), or a ring of chunk files in a directory.
 */
export function recordingEndpoint(options: EndpointOptions, record: RecordOption, opts: RecorderOptions = {}): RecordingEndpoint {
  const o: RecorderOptions = { flushEveryMs: 1000, ...opts };
  if ('path' in record) return new RecordingEndpoint(options, new FileSink(record.path), o);
  const ring: RingOptions = { ringBytes: record.ringBytes, dir: record.dir, prefix: record.prefix ?? `${opts.label ?? 'endpoint'}-${process.pid}-${Date.now().toString(36)}` };
  return new RecordingEndpoint(options, new RingSink(ring), o);
}

/** A client's connection attempts each get their own log: the first the path as given, then `name.attemptN.ext`. */
export function attemptRecord(record: RecordOption | undefined, attempt: number): RecordOption | undefined {
  if (record === undefined || attempt <= 1) return record;
  if ('path' in record) {
    const m = /^(.*?)(\.[^./\\]*)?$/.exec(record.path)!;
    return { path: `${m[1]}.attempt${attempt}${m[2] ?? ''}` };
  }
  return record.prefix === undefined ? record : { ...record, prefix: `${record.prefix}-attempt${attempt}` };
}

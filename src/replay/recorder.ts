// Records an Endpoint's every input and a digest of its every output, through the same seam any driver uses:
// RecordingEndpoint *is* an Endpoint (the simulator, the Node driver, the soak runner take it as they are), and
// the connections it hands out (from connect(), events and connections()) are instrumented so application calls
// on them are recorded too, tagged with the connection's id. Calls carry no time of their own; the log gives them
// the latest time seen.
import { Connection, Endpoint, type ConnectOptions, type EndpointEvent, type EndpointOptions, type EndpointSnapshot, type ListenOptions, type Remote, type Transmit } from '../core/index.js';
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

/** Marks a connection instrumented by a recorder (the value is the recorder). */
const RECORDER = Symbol('stevens.recorder');
type Instrumented = Connection & { [RECORDER]?: RecordingEndpoint };
const proto = Connection.prototype;

export class RecordingEndpoint extends Endpoint {
  readonly log: LogWriter;
  private live: LogWriter | undefined;
  /** The recording versions of the connection methods, shared by every connection of this endpoint. */
  private readonly methods: Record<string, (this: Connection, ...args: never[]) => unknown>;

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
    this.methods = connectionMethods(this);
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
    return this.instrument(conn);
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
    if (ev !== undefined && (ev.connection as Instrumented)[RECORDER] !== this) this.instrument(ev.connection);
    return ev;
  }

  override *connections(): IterableIterator<Connection> {
    for (const c of super.connections()) yield this.instrument(c);
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
   * Application calls on the connection are recorded from now on: its write, read, shutdown, close, abort,
   * sendDatagram and setNoDelay become recording ones (own, non-enumerable properties; the object, its identity
   * and its fields stay the core's).
   */
  private instrument(conn: Connection): Connection {
    const c = conn as Instrumented;
    if (c[RECORDER] === this) return conn;
    Object.defineProperty(c, RECORDER, { value: this, configurable: true, enumerable: false, writable: true });
    for (const [name, fn] of Object.entries(this.methods)) Object.defineProperty(c, name, { value: fn, configurable: true, enumerable: false, writable: true });
    return conn;
  }

  /** The writer for an application call on a connection; undefined inside a call (the core's own) or when not recording. */
  logForCall(): LogWriter | undefined {
    return this.depth === 0 ? this.active() : undefined;
  }

  /** @internal Calls in progress on connections (see logForCall). */
  depth = 0;
}

/** The recording connection methods of one recorder (`this` is the connection). */
function connectionMethods(rec: RecordingEndpoint): Record<string, (this: Connection, ...args: never[]) => unknown> {
  /** Calls without a result: recorded first, then made. */
  const plain = (kind: typeof K.Shutdown | typeof K.Close | typeof K.Abort, conn: Connection, call: () => void) => {
    const log = rec.logForCall();
    if (log === undefined) return call();
    log.simple(kind, conn.id);
    rec.depth++;
    try {
      call();
    } catch (e) {
      log.threw(e);
      throw e;
    } finally {
      rec.depth--;
    }
  };
  return {
    write(this: Connection, bytes: Uint8Array): number {
      const log = rec.logForCall();
      if (log === undefined) return proto.write.call(this, bytes);
      let n: number;
      rec.depth++;
      try {
        n = proto.write.call(this, bytes);
      } catch (e) {
        log.write(this.id, bytes, -1);
        log.threw(e);
        throw e;
      } finally {
        rec.depth--;
      }
      log.write(this.id, bytes, n);
      return n;
    },
    read(this: Connection, maxBytes?: number): Uint8Array {
      const log = rec.logForCall();
      if (log === undefined) return proto.read.call(this, maxBytes);
      let out: Uint8Array;
      rec.depth++;
      try {
        out = proto.read.call(this, maxBytes);
      } catch (e) {
        log.read(this.id, maxBytes, undefined);
        log.threw(e);
        throw e;
      } finally {
        rec.depth--;
      }
      log.read(this.id, maxBytes, out);
      return out;
    },
    shutdown(this: Connection): void {
      plain(K.Shutdown, this, () => proto.shutdown.call(this));
    },
    close(this: Connection): void {
      plain(K.Close, this, () => proto.close.call(this));
    },
    abort(this: Connection): void {
      plain(K.Abort, this, () => proto.abort.call(this));
    },
    sendDatagram(this: Connection, bytes: Uint8Array): boolean {
      const log = rec.logForCall();
      if (log === undefined) return proto.sendDatagram.call(this, bytes);
      let ok: boolean;
      rec.depth++;
      try {
        ok = proto.sendDatagram.call(this, bytes);
      } catch (e) {
        log.sendDatagram(this.id, bytes, undefined);
        log.threw(e);
        throw e;
      } finally {
        rec.depth--;
      }
      log.sendDatagram(this.id, bytes, ok);
      return ok;
    },
    setNoDelay(this: Connection, on: boolean): void {
      const log = rec.logForCall();
      if (log === undefined) return proto.setNoDelay.call(this, on);
      log.setNoDelay(this.id, on);
      rec.depth++;
      try {
        proto.setNoDelay.call(this, on);
      } catch (e) {
        log.threw(e);
        throw e;
      } finally {
        rec.depth--;
      }
    },
  };
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

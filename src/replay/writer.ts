// Writes a replay log: the file header, then records gathered into blocks, each block compressed (deflate-raw)
// and checksummed (CRC-32) and handed to the sink in one write, so a crash leaves whole blocks and at most one
// partial block at the end. Records never span blocks; each block restarts the time base and the address table,
// so every block decodes on its own.
import { closeSync, openSync, writeSync, writevSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import type { EndpointEvent, Remote, Transmit } from '../core/index.js';
import {
  BLOCK_HEADER_BYTES,
  ByteSink,
  bytesDigest,
  datagramDigest,
  encodeFileHeader,
  ERROR_CODES,
  EVENT_CODES,
  FORMAT_VERSION,
  K,
  TIME_ABS,
  TIME_DELTA,
  TIME_SAME,
  type LogHeader,
  type LogRecord,
} from './format.js';

/** Where a log's bytes go: the file header and each block arrive in one write() each (a block as two parts). */
export interface LogSink {
  write(bytes: Buffer, more?: Buffer): void;
  /** Ring sinks: the bytes that follow start a new standalone log (a chunk); returns the chunk's index. */
  startFile?(): number;
  /** Ring sinks: the current chunk is full; the recorder starts a new one at its next call. */
  readonly wantsNewFile?: boolean;
  close(): void;
}

/** Keeps the log in memory. */
export class BufferSink implements LogSink {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  write(bytes: Buffer, more?: Buffer): void {
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    if (more !== undefined) {
      this.chunks.push(more);
      this.bytes += more.length;
    }
  }
  close(): void {}
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Appends to a file with one synchronous write per block (the block is on its way to disk when write returns). */
export class FileSink implements LogSink {
  private fd: number | undefined;
  bytes = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(bytes: Buffer, more?: Buffer): void {
    if (this.fd === undefined) throw new Error(`replay log ${this.path} is closed`);
    writeAll(this.fd, bytes, more);
    this.bytes += bytes.length + (more?.length ?? 0);
  }
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Both parts in one system call when the kernel takes them whole (writev), the rest after. */
export function writeAll(fd: number, bytes: Buffer, more?: Buffer): void {
  let a = bytes;
  let b = more ?? EMPTY;
  while (a.length + b.length > 0) {
    const n = b.length > 0 ? writevSync(fd, [a, b]) : writeSync(fd, a);
    if (n >= a.length) {
      b = b.subarray(n - a.length);
      a = EMPTY;
    } else a = a.subarray(n);
    if (a.length === 0) {
      a = b;
      b = EMPTY;
    }
  }
}

const EMPTY = Buffer.alloc(0);

export interface WriterOptions {
  /** A block is sealed once its records reach this many bytes (default 64 KiB). */
  blockBytes?: number;
  /** deflate level, 0-9 (default 1: twice as fast as 6, logs about 10% larger). */
  level?: number;
  /** Also seal a block once it spans this much recorded time (ms), so a crash loses little (default: never). */
  flushEveryMs?: number;
  /** Told when the sink fails; recording stops then (the endpoint goes on). */
  onError?: (err: Error) => void;
}

export type HeaderFields = Pick<LogHeader, 'options' | 'mode' | 'label' | 'meta'>;

const DEFAULT_BLOCK_BYTES = 64 * 1024;
const STORE_BLOCKS = 15;

export class LogWriter {
  /** The step number the next record gets. */
  step = 0;
  /** Bytes handed to the sink (headers and compressed blocks). */
  bytesOut = 0;
  /** Record bytes before compression. */
  bytesRaw = 0;
  blocks = 0;
  closed = false;
  /** Why the sink refused a write (recording stopped then), if it did. */
  error: Error | undefined;
  /** A file header has been written (ring: a chunk is open). */
  private fileOpen = false;
  private fileStartBytes = 0;

  /** Bytes written to the current file (ring: the current chunk). */
  get bytesInFile(): number {
    return this.bytesOut - this.fileStartBytes;
  }
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly raw = new ByteSink();
  private readonly blockBytes: number;
  private readonly level: number;
  private readonly flushEveryMs: number;
  /** The current time: the latest time a timed record carried. */
  private curTime = NaN;
  private blockStartTime = NaN;
  private blockFirstStep = 0;
  private blockOpenedAtMs = NaN;
  private recordStart = 0;
  private remotes = new Map<string, Map<number, number>>();
  private remoteCount = 0;
  private lastDeadline: number | undefined = undefined;
  private lastDeadlineSet = false;
  /** Blocks still to store uncompressed (the last compressed one hardly shrank). */
  private storeBlocks = 0;

  constructor(
    readonly sink: LogSink,
    private readonly header: HeaderFields,
    opts: WriterOptions = {},
  ) {
    this.blockBytes = opts.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.level = opts.level ?? 1;
    this.flushEveryMs = opts.flushEveryMs ?? Infinity;
    this.onError = opts.onError;
    if (header.mode === 'full') this.writeHeader(undefined);
  }

  /** Ring: the current chunk is full. */
  get wantsNewFile(): boolean {
    return this.sink.wantsNewFile === true;
  }

  /** Ring: seal what is pending and start a new standalone chunk (its first record should be a snapshot). */
  startFile(): void {
    if (this.fileOpen) this.endRecord();
    this.flush();
    const chunk = this.sink.startFile?.();
    if (chunk === undefined) throw new Error('this sink holds one log; only a ring sink starts new files');
    this.writeHeader(chunk);
  }

  private writeHeader(chunk: number | undefined): void {
    const h: LogHeader = { format: 'stevens-replay', version: FORMAT_VERSION, options: this.header.options, mode: this.header.mode, firstStep: this.step };
    if (chunk !== undefined) h.chunk = chunk;
    if (this.header.label !== undefined) h.label = this.header.label;
    if (this.header.meta !== undefined) h.meta = this.header.meta;
    this.fileOpen = true;
    this.fileStartBytes = this.bytesOut;
    const bytes = encodeFileHeader(h);
    this.bytesOut += bytes.length;
    this.put(bytes);
  }

  // ------------------------------------------------------------------ records

  datagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    this.begin(K.Datagram, nowMs);
    this.remote(remote);
    this.raw.bytes(bytes);
    this.end();
  }

  timeout(nowMs: number): void {
    this.begin(K.Timeout, nowMs);
    this.end();
  }

  transmit(nowMs: number, t: Transmit | undefined): void {
    if (t === undefined) {
      this.begin(K.TransmitNone, nowMs);
    } else {
      this.begin(K.Transmit, nowMs);
      this.remote(t.remote);
      this.raw.varint(t.bytes.length);
      this.raw.u32(datagramDigest(t.remote, t.bytes));
    }
    this.end();
  }

  deadline(d: number | undefined): void {
    if (d === undefined) this.begin(K.DeadlineNone, undefined);
    else if (this.lastDeadlineSet && d === this.lastDeadline) this.begin(K.DeadlineSame, undefined);
    else {
      this.begin(K.Deadline, undefined);
      this.raw.f64(d);
    }
    this.lastDeadline = d;
    this.lastDeadlineSet = true;
    this.end();
  }

  event(ev: EndpointEvent | undefined): void {
    if (ev === undefined) {
      this.begin(K.EventNone, undefined);
      this.end();
      return;
    }
    this.begin(K.Event, undefined);
    const r = this.raw;
    r.u8(EVENT_CODES[ev.type]);
    r.varint(ev.connection.id);
    if (ev.type === 'closed') this.errorCode(ev.error?.code);
    else if (ev.type === 'datagram') {
      r.varint(ev.bytes.length);
      r.u32(bytesDigest(ev.bytes));
    }
    this.end();
  }

  listen(options: object): void {
    this.begin(K.Listen, undefined);
    this.raw.str(JSON.stringify(options));
    this.end();
  }

  unlisten(port: number | undefined): void {
    this.begin(K.Unlisten, undefined);
    this.raw.varint(port === undefined ? 0 : port + 1);
    this.end();
  }

  /** connectionId 0: the call threw (a Threw record follows). */
  connect(nowMs: number, remote: Remote, options: object, connectionId: number): void {
    this.begin(K.Connect, nowMs);
    this.remote(remote);
    this.raw.str(JSON.stringify(options));
    this.raw.varint(connectionId);
    this.end();
  }

  /**
   * accepted -1: the call threw. Only the accepted bytes are kept (with the length offered): the core copies no
   * more than it accepts, so a writer retrying a full buffer costs a few bytes per call, not its whole payload.
   */
  write(id: number, bytes: Uint8Array, accepted: number): void {
    this.begin(K.Write, undefined);
    this.raw.varint(id);
    this.raw.varint(accepted + 1);
    this.raw.varint(bytes.length);
    if (accepted > 0) this.raw.bytes(accepted === bytes.length ? bytes : bytes.subarray(0, accepted));
    this.end();
  }

  read(id: number, maxBytes: number | undefined, out: Uint8Array | undefined): void {
    this.begin(K.Read, undefined);
    const r = this.raw;
    this.maxBytes(id, maxBytes);
    const len = out?.length ?? 0;
    r.varint(len);
    if (len > 0) r.u32(bytesDigest(out!));
    this.end();
  }

  simple(kind: typeof K.Shutdown | typeof K.Close | typeof K.Abort, id: number): void {
    this.begin(kind, undefined);
    this.raw.varint(id);
    this.end();
  }

  /** result undefined: the call threw. The bytes are kept only when the datagram was queued. */
  sendDatagram(id: number, bytes: Uint8Array, result: boolean | undefined): void {
    this.begin(K.SendDatagram, undefined);
    this.raw.varint(id);
    this.raw.u8(result === undefined ? 2 : result ? 1 : 0);
    this.raw.varint(bytes.length);
    if (result === true) this.raw.bytes(bytes);
    this.end();
  }

  setNoDelay(id: number, on: boolean): void {
    this.begin(K.SetNoDelay, undefined);
    this.raw.varint(id);
    this.raw.u8(on ? 1 : 0);
    this.end();
  }

  threw(err: unknown): void {
    this.begin(K.Threw, undefined);
    this.raw.str(err instanceof Error ? err.message : String(err));
    this.end();
  }

  snapshot(json: string): void {
    this.begin(K.Snapshot, undefined);
    this.raw.ensure(Buffer.byteLength(json));
    this.raw.len += this.raw.buf.write(json, this.raw.len, 'utf8');
    this.end();
  }

  mark(text: string): void {
    this.begin(K.Mark, undefined);
    this.raw.bytes(Buffer.from(text, 'utf8'));
    this.end();
  }

  /**
   * A decoded record written again as it was, digests included (for tools that cut, filter or edit logs). End
   * records are skipped: close() writes the log's own.
   */
  append(r: LogRecord): void {
    switch (r.kind) {
      case K.Datagram:
        return this.datagram(r.timeMs, r.remote, r.bytes);
      case K.Timeout:
        return this.timeout(r.timeMs);
      case K.TransmitNone:
        return this.transmit(r.timeMs, undefined);
      case K.Transmit:
        this.begin(K.Transmit, r.timeMs);
        this.remote(r.out.remote);
        this.raw.varint(r.out.length);
        this.raw.u32(r.out.digest);
        return this.end();
      case K.DeadlineNone:
      case K.DeadlineSame:
      case K.Deadline:
        return this.deadline(r.deadlineMs);
      case K.EventNone:
        return this.event(undefined);
      case K.Event: {
        const e = r.event;
        this.begin(K.Event, undefined);
        this.raw.u8(EVENT_CODES[e.type]);
        this.raw.varint(e.connectionId);
        if (e.type === 'closed') this.errorCode(e.code);
        else if (e.type === 'datagram') {
          this.raw.varint(e.length ?? 0);
          this.raw.u32(e.digest ?? 0);
        }
        return this.end();
      }
      case K.Listen:
        return this.listen(r.options);
      case K.Unlisten:
        return this.unlisten(r.port);
      case K.Connect:
        return this.connect(r.timeMs, r.remote, r.options, r.connectionId);
      case K.Write: {
        this.begin(K.Write, undefined);
        this.raw.varint(r.connectionId);
        this.raw.varint(r.accepted + 1);
        this.raw.varint(r.length);
        this.raw.bytes(r.bytes);
        return this.end();
      }
      case K.Read:
        this.begin(K.Read, undefined);
        this.maxBytes(r.connectionId, r.maxBytes);
        this.raw.varint(r.length);
        if (r.length > 0) this.raw.u32(r.digest);
        return this.end();
      case K.Shutdown:
      case K.Close:
      case K.Abort:
        return this.simple(r.kind, r.connectionId);
      case K.SendDatagram:
        return this.sendDatagram(r.connectionId, r.result === true ? r.bytes : new Uint8Array(r.length), r.result);
      case K.SetNoDelay:
        return this.setNoDelay(r.connectionId, r.on);
      case K.Threw:
        this.begin(K.Threw, undefined);
        this.raw.str(r.message);
        return this.end();
      case K.Snapshot:
        return this.snapshot(r.json);
      case K.Mark:
        return this.mark(r.text);
      case K.End:
        return;
    }
  }

  /** Seals the pending block (if any). */
  flush(): void {
    if (this.raw.len === 0) return;
    const raw = this.raw.buf.subarray(0, this.raw.len);
    // Incompressible stretches (encrypted or random payloads) are stored, not squeezed for nothing: a block that
    // saves less than a fifth means the next STORE_BLOCKS are stored (deflate level 0), then compression is tried again.
    const level = this.storeBlocks > 0 ? 0 : this.level;
    const payload = deflateRawSync(raw, { level });
    if (level === 0) this.storeBlocks--;
    else if (level > 0 && payload.length > raw.length * 0.8) this.storeBlocks = STORE_BLOCKS;
    const head = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
    head.writeUInt32LE(payload.length, 0);
    head.writeUInt32LE(raw.length, 4);
    head.writeDoubleLE(this.blockFirstStep, 8);
    head.writeDoubleLE(this.blockStartTime, 16);
    head.writeUInt32LE(crc32(payload), 24);
    head.writeUInt32LE(crc32(head.subarray(0, 28)), 28);
    this.bytesRaw += raw.length;
    this.bytesOut += BLOCK_HEADER_BYTES + payload.length;
    this.blocks++;
    this.raw.reset();
    this.remotes = new Map();
    this.remoteCount = 0;
    this.byObject = new Map();
    this.lastDeadlineSet = false;
    this.put(head, payload);
  }

  /** A sink that fails (disk full...) ends the recording, never the application: `error` says why. */
  private put(bytes: Buffer, more?: Buffer): void {
    if (this.error !== undefined) return;
    try {
      this.sink.write(bytes, more);
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      this.closed = true;
      this.onError?.(this.error);
    }
  }

  /** An End record, the last block, and the sink closed. */
  close(): void {
    if (this.closed) {
      if (this.error !== undefined) this.closeSink();
      return;
    }
    if (this.fileOpen) this.endRecord();
    this.flush();
    this.closed = true;
    this.closeSink();
  }

  private closeSink(): void {
    try {
      this.sink.close();
    } catch (e) {
      this.error ??= e instanceof Error ? e : new Error(String(e));
    }
  }

  private endRecord(): void {
    this.begin(K.End, undefined);
    this.raw.varint(this.step);
    this.end();
  }

  // ------------------------------------------------------------------ internals

  private begin(kind: number, nowMs: number | undefined): void {
    if (this.closed) throw new Error('the replay log is closed');
    const r = this.raw;
    if (r.len === 0) {
      this.blockFirstStep = this.step;
      this.blockStartTime = this.curTime;
      this.blockOpenedAtMs = nowMs ?? this.curTime;
    }
    this.recordStart = r.len;
    r.ensure(16);
    r.len++; // the length, filled in by end()
    if (nowMs === undefined) {
      r.buf[r.len++] = kind;
      return;
    }
    const cur = this.curTime;
    if (nowMs === cur) {
      r.buf[r.len++] = kind | TIME_SAME;
    } else if (Number.isInteger(nowMs) && Number.isInteger(cur) && nowMs > cur && nowMs - cur < 2 ** 52) {
      r.buf[r.len++] = kind | TIME_DELTA;
      r.varint(nowMs - cur);
    } else {
      r.buf[r.len++] = kind | TIME_ABS;
      r.f64(nowMs);
    }
    this.curTime = nowMs;
  }

  private end(): void {
    const r = this.raw;
    const start = this.recordStart;
    const bodyLen = r.len - start - 1;
    if (bodyLen < 0x80) {
      r.buf[start] = bodyLen;
    } else {
      let extra = 0;
      for (let v = bodyLen; v >= 0x80; v = Math.floor(v / 0x80)) extra++;
      r.ensure(extra);
      r.buf.copyWithin(start + 1 + extra, start + 1, r.len);
      const save = r.len + extra;
      r.len = start;
      r.varint(bodyLen);
      r.len = save;
    }
    this.step++;
    if (r.len >= this.blockBytes || this.curTime - this.blockOpenedAtMs >= this.flushEveryMs) this.flush();
  }

  private maxBytes(id: number, maxBytes: number | undefined): void {
    const r = this.raw;
    r.varint(id);
    if (maxBytes === undefined) r.varint(0);
    else if (Number.isSafeInteger(maxBytes) && maxBytes >= 0 && maxBytes < 2 ** 52) r.varint(maxBytes + 2);
    else {
      r.varint(1);
      r.f64(maxBytes);
    }
  }

  private errorCode(code: string | undefined): void {
    const r = this.raw;
    if (code === undefined) r.u8(0);
    else if (ERROR_CODES[code] !== undefined) r.u8(ERROR_CODES[code]);
    else {
      r.u8(255);
      r.str(code);
    }
  }

  private remote(remote: Remote): void {
    // Drivers hand the same Remote objects again and again (a connection's, a host's): look them up by identity
    // first (checking they still say the same), by address and port otherwise.
    const known = this.byObject.get(remote);
    if (known !== undefined && known.address === remote.address && known.port === remote.port) {
      this.raw.varint(known.index);
      return;
    }
    const index = this.remoteIndex(remote);
    if (this.byObject.size < 4096) this.byObject.set(remote, { address: remote.address, port: remote.port, index });
  }

  private byObject = new Map<Remote, { address: string; port: number; index: number }>();

  /** Writes the remote's table index (adding it to the table first if new); returns the index. */
  private remoteIndex(remote: Remote): number {
    let ports = this.remotes.get(remote.address);
    if (ports === undefined) this.remotes.set(remote.address, (ports = new Map()));
    const idx = ports.get(remote.port);
    if (idx !== undefined) {
      this.raw.varint(idx);
      return idx;
    }
    const n = this.remoteCount++;
    ports.set(remote.port, n);
    this.raw.varint(n);
    this.raw.str(remote.address);
    this.raw.u16(remote.port);
    return n;
  }
}

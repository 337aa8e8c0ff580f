// Reads a replay log back, record by record, checking every block's checksums as it goes. Damage is a
// LogFormatError naming the byte offset; a tail cut off mid-block (a crash while recording) is not an error:
// reading stops after the last whole block and `truncated` says where and why.
import { readFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import type { EndpointSnapshot, Remote } from '../core/index.js';
import {
  BLOCK_HEADER_BYTES,
  ByteSource,
  decodeFileHeader,
  ERROR_NAMES,
  EVENT_NAMES,
  K,
  KIND_MASK,
  LogFormatError,
  MAX_BLOCK_BYTES,
  TIME_ABS,
  TIME_DELTA,
  TIME_MASK,
  TIME_SAME,
  TIMED,
  type EventDigest,
  type LogHeader,
  type LogRecord,
  type OutputDigest,
} from './format.js';

export interface Truncation {
  /** Where the unusable tail starts. */
  offset: number;
  message: string;
}

export interface BlockInfo {
  offset: number;
  firstStep: number;
  startTimeMs: number;
  compressedBytes: number;
  rawBytes: number;
}

export class LogReader {
  readonly header: LogHeader;
  /** Set when reading stopped at a cut-off tail (or at the end of a log with no End record). */
  truncated: Truncation | undefined;
  /** An End record was read: the recorder closed the log. */
  ended = false;
  /** The step number of the next record. */
  step: number;
  /** The latest time a record carried. */
  timeMs = NaN;
  readonly blocks: BlockInfo[] = [];
  private pos: number;
  private src: ByteSource | undefined;
  private blockOffset = 0;
  private remotes: Remote[] = [];
  private lastDeadline: number | undefined;
  private peeked: LogRecord | undefined;
  private done = false;

  constructor(
    readonly buf: Buffer,
    readonly name = 'log',
  ) {
    const { header, end } = decodeFileHeader(buf, name);
    this.header = header;
    this.pos = end;
    this.step = header.firstStep ?? 0;
  }

  static open(path: string): LogReader {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return new LogReader(buf, path);
  }

  /** The next record without consuming it. */
  peek(): LogRecord | undefined {
    if (this.peeked === undefined) this.peeked = this.read();
    return this.peeked;
  }

  next(): LogRecord | undefined {
    const p = this.peeked;
    if (p !== undefined) {
      this.peeked = undefined;
      return p;
    }
    return this.read();
  }

  /** Every remaining record (for tools and tests; the replayer pulls them one at a time). */
  *records(): IterableIterator<LogRecord> {
    for (let r = this.next(); r !== undefined; r = this.next()) yield r;
  }

  private read(): LogRecord | undefined {
    for (;;) {
      if (this.done) return undefined;
      const src = this.src;
      if (src !== undefined && src.pos < src.buf.length) return this.decodeRecord(src);
      this.src = undefined;
      if (!this.nextBlock()) {
        this.done = true;
        return undefined;
      }
    }
  }

  private nextBlock(): boolean {
    const buf = this.buf;
    const at = this.pos;
    const left = buf.length - at;
    if (left === 0) {
      if (!this.ended) this.truncated = { offset: at, message: `${this.name} ends at offset ${at} without an end record: the recording stopped without closing the log; replayed up to its last whole block` };
      return false;
    }
    if (this.ended) throw new LogFormatError(`${this.name}: ${left} bytes after the end record at offset ${at}`, at);
    if (left < BLOCK_HEADER_BYTES) {
      this.truncated = { offset: at, message: `${this.name}: cut off at offset ${at} inside a block header (${left} of ${BLOCK_HEADER_BYTES} bytes); replayed up to the last whole block` };
      return false;
    }
    if (crc32(buf.subarray(at, at + 28)) !== buf.readUInt32LE(at + 28)) {
      if (allZero(buf, at)) {
        this.truncated = { offset: at, message: `${this.name}: zero-filled from offset ${at} (cut off while recording); replayed up to the last whole block` };
        return false;
      }
      throw new LogFormatError(`${this.name}: block header checksum mismatch at offset ${at} (bytes ${at}..${at + BLOCK_HEADER_BYTES - 1}): the log is corrupt`, at);
    }
    const compressed = buf.readUInt32LE(at);
    const rawBytes = buf.readUInt32LE(at + 4);
    const firstStep = buf.readDoubleLE(at + 8);
    const startTimeMs = buf.readDoubleLE(at + 16);
    const payloadAt = at + BLOCK_HEADER_BYTES;
    if (compressed > left - BLOCK_HEADER_BYTES) {
      this.truncated = {
        offset: at,
        message: `${this.name}: cut off at offset ${buf.length} inside the block at offset ${at} (${left - BLOCK_HEADER_BYTES} of ${compressed} bytes); replayed up to the last whole block`,
      };
      return false;
    }
    if (rawBytes > MAX_BLOCK_BYTES) throw new LogFormatError(`${this.name}: block at offset ${at} claims ${rawBytes} bytes of records`, at);
    const payload = buf.subarray(payloadAt, payloadAt + compressed);
    if (crc32(payload) !== buf.readUInt32LE(at + 24)) {
      throw new LogFormatError(`${this.name}: block at offset ${at}: payload checksum mismatch (bytes ${payloadAt}..${payloadAt + compressed - 1}): the log is corrupt`, payloadAt);
    }
    if (firstStep !== this.step) {
      throw new LogFormatError(`${this.name}: block at offset ${at} starts at step ${firstStep}, expected step ${this.step} (a block is missing or repeated)`, at + 8);
    }
    let raw: Buffer;
    try {
      raw = inflateRawSync(payload);
    } catch (e) {
      throw new LogFormatError(`${this.name}: block at offset ${at} does not inflate: ${(e as Error).message}`, payloadAt);
    }
    if (raw.length !== rawBytes) throw new LogFormatError(`${this.name}: block at offset ${at} inflates to ${raw.length} bytes, its header says ${rawBytes}`, at + 4);
    this.blocks.push({ offset: at, firstStep, startTimeMs, compressedBytes: compressed, rawBytes });
    this.pos = payloadAt + compressed;
    this.blockOffset = at;
    this.timeMs = startTimeMs;
    this.remotes = [];
    this.lastDeadline = undefined;
    const blockOffset = at;
    const name = this.name;
    this.src = new ByteSource(raw, (pos, what) => new LogFormatError(`${name}: block at offset ${blockOffset}, byte ${pos} of its records (step ${this.step}): ${what}`, blockOffset));
    return true;
  }

  private decodeRecord(src: ByteSource): LogRecord {
    const blockEnd = src.buf.length;
    src.end = blockEnd;
    const bodyLen = src.varint('record length');
    const recordEnd = src.pos + bodyLen;
    if (bodyLen === 0 || recordEnd > blockEnd) throw src.describe(src.pos, `record length ${bodyLen} does not fit its block`);
    src.end = recordEnd;
    const kb = src.u8('record kind');
    const kind = kb & KIND_MASK;
    const mode = kb & TIME_MASK;
    if (kb & 0x80) throw src.describe(src.pos - 1, `bad record kind byte 0x${kb.toString(16)}`);
    if (TIMED_KIND[kind] === 1) {
      if (mode === TIME_SAME) {
        if (Number.isNaN(this.timeMs)) throw src.describe(src.pos - 1, 'a record reuses the time before any time was set');
      } else if (mode === TIME_DELTA) {
        if (Number.isNaN(this.timeMs)) throw src.describe(src.pos - 1, 'a time delta before any time was set');
        this.timeMs += src.varint('time delta');
      } else if (mode === TIME_ABS) {
        this.timeMs = src.f64('time');
      } else throw src.describe(src.pos - 1, `bad time mode in kind byte 0x${kb.toString(16)}`);
    } else if (mode !== 0) throw src.describe(src.pos - 1, `kind byte 0x${kb.toString(16)} has time bits on an untimed record`);
    // One object shape for every kind (fields a kind does not use stay at their defaults): the replay loop's
    // accesses stay monomorphic.
    const rec = new Rec(this.step, this.timeMs, this.blockOffset, kind);
    switch (kind) {
      case K.Datagram:
        rec.remote = this.remote(src);
        rec.bytes = restView(src);
        break;
      case K.Timeout:
      case K.TransmitNone:
      case K.EventNone:
        break;
      case K.Transmit: {
        const remote = this.remote(src);
        const length = src.varint('datagram length');
        rec.out = { remote, length, digest: src.u32('digest') };
        break;
      }
      case K.DeadlineNone:
        this.lastDeadline = undefined;
        rec.deadlineMs = undefined;
        break;
      case K.DeadlineSame:
        rec.deadlineMs = this.lastDeadline;
        break;
      case K.Deadline:
        this.lastDeadline = src.f64('deadline');
        rec.deadlineMs = this.lastDeadline;
        break;
      case K.Event:
        rec.event = this.eventDigest(src);
        break;
      case K.Listen:
        rec.options = this.json(src, 'listen options');
        break;
      case K.Unlisten: {
        const p = src.varint('port');
        rec.port = p === 0 ? undefined : p - 1;
        break;
      }
      case K.Connect:
        rec.remote = this.remote(src);
        rec.options = this.json(src, 'connect options');
        rec.connectionId = src.varint('connection id');
        break;
      case K.Write: {
        rec.connectionId = src.varint('connection id');
        const accepted = src.varint('accepted') - 1;
        const length = src.varint('write length');
        const bytes = restView(src);
        if (bytes.length !== Math.max(0, accepted) || accepted > length) throw src.describe(src.pos, `write record holds ${bytes.length} bytes for ${accepted} accepted of ${length}`);
        rec.accepted = accepted;
        rec.length = length;
        rec.bytes = bytes;
        break;
      }
      case K.Read: {
        rec.connectionId = src.varint('connection id');
        const m = src.varint('maxBytes');
        rec.maxBytes = m === 0 ? undefined : m === 1 ? src.f64('maxBytes') : m - 2;
        rec.length = src.varint('read length');
        rec.digest = rec.length > 0 ? src.u32('digest') : 0;
        break;
      }
      case K.Shutdown:
      case K.Close:
      case K.Abort:
        rec.connectionId = src.varint('connection id');
        break;
      case K.SendDatagram: {
        rec.connectionId = src.varint('connection id');
        const r = src.u8('result');
        if (r > 2) throw src.describe(src.pos - 1, `bad sendDatagram result ${r}`);
        const length = src.varint('datagram length');
        const bytes = restView(src);
        if (bytes.length !== (r === 1 ? length : 0)) throw src.describe(src.pos, `sendDatagram record holds ${bytes.length} bytes of ${length}`);
        rec.result = r === 2 ? undefined : r === 1;
        rec.length = length;
        rec.bytes = bytes;
        break;
      }
      case K.SetNoDelay:
        rec.connectionId = src.varint('connection id');
        rec.on = src.u8('flag') !== 0;
        break;
      case K.Threw:
        rec.message = src.str('message');
        break;
      case K.Snapshot: {
        const json = src.rest().toString('utf8');
        const at = src.pos;
        let parsed: EndpointSnapshot | undefined;
        rec.json = json;
        rec.snapshot = () => {
          if (parsed === undefined) {
            try {
              parsed = JSON.parse(json) as EndpointSnapshot;
            } catch {
              throw src.describe(at, 'snapshot record is not JSON');
            }
          }
          return parsed;
        };
        break;
      }
      case K.End:
        rec.steps = src.varint('step count');
        this.ended = true;
        break;
      case K.Mark:
        rec.text = src.rest().toString('utf8');
        break;
      default:
        throw src.describe(src.pos - 1, `unknown record kind ${kind} (written by a newer stevens?)`);
    }
    if (src.pos !== recordEnd) throw src.describe(src.pos, `${recordEnd - src.pos} bytes left over in a record of kind ${kind}`);
    src.end = blockEnd;
    this.step++;
    return rec as unknown as LogRecord;
  }

  private remote(src: ByteSource): Remote {
    const idx = src.varint('address index');
    if (idx < this.remotes.length) return this.remotes[idx]!;
    if (idx !== this.remotes.length) throw src.describe(src.pos, `address index ${idx} is not defined (table has ${this.remotes.length})`);
    const address = src.str('address');
    const r = { address, port: src.u16('port') };
    this.remotes.push(r);
    return r;
  }

  private eventDigest(src: ByteSource): EventDigest {
    const code = src.u8('event type');
    const type = EVENT_NAMES[code];
    if (type === undefined) throw src.describe(src.pos - 1, `unknown event type ${code}`);
    const e: EventDigest = { type, connectionId: src.varint('connection id') };
    if (type === 'closed') {
      const c = src.u8('error code');
      if (c === 255) e.code = src.str('error code');
      else if (c !== 0) {
        e.code = ERROR_NAMES[c];
        if (e.code === undefined) throw src.describe(src.pos - 1, `unknown error code ${c}`);
      }
    } else if (type === 'datagram') {
      e.length = src.varint('datagram length');
      e.digest = src.u32('digest');
    }
    return e;
  }

  private json(src: ByteSource, what: string): Record<string, unknown> {
    const at = src.pos;
    const s = src.str(what);
    try {
      return JSON.parse(s) as Record<string, unknown>;
    } catch {
      throw src.describe(at, `${what} are not JSON`);
    }
  }
}

/** Every record's object: one class, so the replay loop sees one shape whatever the kind. */
class Rec {
  remote: Remote | undefined = undefined;
  bytes: Uint8Array | undefined = undefined;
  out: OutputDigest | undefined = undefined;
  deadlineMs: number | undefined = undefined;
  event: EventDigest | undefined = undefined;
  options: Record<string, unknown> | undefined = undefined;
  port: number | undefined = undefined;
  connectionId = 0;
  accepted = 0;
  length = 0;
  maxBytes: number | undefined = undefined;
  digest = 0;
  result: boolean | undefined = undefined;
  on = false;
  message: string | undefined = undefined;
  json: string | undefined = undefined;
  snapshot: (() => EndpointSnapshot) | undefined = undefined;
  steps = 0;
  text: string | undefined = undefined;
  constructor(
    readonly step: number,
    readonly timeMs: number,
    readonly offset: number,
    readonly kind: number,
  ) {}
}

const TIMED_KIND = new Uint8Array(32);
for (const k of TIMED) TIMED_KIND[k] = 1;

/** The rest of the record as a plain view (cheaper than a Buffer slice; the block's bytes are never reused). */
function restView(src: ByteSource): Uint8Array {
  const start = src.pos;
  src.pos = src.end;
  const b = src.buf;
  return new Uint8Array(b.buffer, b.byteOffset + start, src.end - start);
}

function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

// The replay log's binary format (described in README.md next to this file): constants, the record kinds, byte
// buffers with varints, the header, output digests, and the error type every reader failure becomes.
import { crc32 } from 'node:zlib';
import type { EndpointOptions, EndpointSnapshot, Remote } from '../core/index.js';

/** "\x89STVLOG\n": a high byte first (no text file starts so), a newline last (text-mode transfers break it). */
export const MAGIC = Buffer.from([0x89, 0x53, 0x54, 0x56, 0x4c, 0x4f, 0x47, 0x0a]);
export const FORMAT_VERSION = 1;
/** magic, u16 version, u16 flags, u32 JSON length, u32 CRC-32 (of bytes 8..15 and the JSON). */
export const FILE_HEADER_BYTES = 20;
/** u32 compressed length, u32 raw length, f64 first step, f64 time at block start, u32 payload CRC, u32 header CRC. */
export const BLOCK_HEADER_BYTES = 32;
/** Largest raw block a reader accepts (a snapshot of a big endpoint fits; garbage lengths do not). */
export const MAX_BLOCK_BYTES = 1 << 30;
export const FILE_EXTENSION = '.stvlog';

/** Record kinds: the low five bits of a record's first byte. */
export const K = {
  Datagram: 1,
  Timeout: 2,
  TransmitNone: 3,
  Transmit: 4,
  DeadlineNone: 5,
  DeadlineSame: 6,
  Deadline: 7,
  EventNone: 8,
  Event: 9,
  Listen: 10,
  Unlisten: 11,
  Connect: 12,
  Write: 13,
  Read: 14,
  Shutdown: 15,
  Close: 16,
  Abort: 17,
  SendDatagram: 18,
  SetNoDelay: 19,
  Threw: 20,
  Snapshot: 21,
  End: 22,
  Mark: 23,
} as const;
export type KindCode = (typeof K)[keyof typeof K];

export const KIND_NAMES: Record<number, string> = Object.fromEntries(Object.entries(K).map(([name, code]) => [code, name]));

/** Kinds whose record carries a time (their call takes nowMs). */
export const TIMED = new Set<number>([K.Datagram, K.Timeout, K.TransmitNone, K.Transmit, K.Connect]);
export const KIND_MASK = 0x1f;
/** Time modes, bits 5-6 of the first byte: unchanged, varint delta of integer ms, absolute float64. */
export const TIME_SAME = 0x00;
export const TIME_DELTA = 0x20;
export const TIME_ABS = 0x40;
export const TIME_MASK = 0x60;

/** Event types as coded in Event records. */
export const EVENT_CODES = { accepted: 1, connected: 2, readable: 3, writable: 4, end: 5, closed: 6, datagram: 7 } as const;
export type EventType = keyof typeof EVENT_CODES;
export const EVENT_NAMES: Record<number, EventType> = Object.fromEntries(Object.entries(EVENT_CODES).map(([n, c]) => [c, n as EventType]));
/** Error codes of 'closed' events; 0 is none, 255 is a code spelled out after it. */
export const ERROR_CODES: Record<string, number> = { ECONNRESET: 1, ETIMEDOUT: 2, ECONNREFUSED: 3 };
export const ERROR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ERROR_CODES).map(([n, c]) => [c, n]));

/** What a log starts with (JSON in the file header). */
export interface LogHeader {
  format: 'stevens-replay';
  version: number;
  /** The endpoint's options without functions (the trace hook): seed, configuration overrides, test hooks, faults. */
  options: PlainOptions;
  /** 'full': every input from the endpoint's creation; 'ring': one chunk of a ring, starting with a snapshot. */
  mode: 'full' | 'ring';
  /** Ring chunks: the chunk's index in its ring (0, 1, ...). */
  chunk?: number;
  /** The step number of the log's first record (0 for a full log). */
  firstStep: number;
  /** Free-form: which endpoint this is (a host name, 'server'...). */
  label?: string;
  /** Free-form metadata of the recording application (JSON values only). */
  meta?: Record<string, unknown>;
}

/** EndpointOptions as JSON can hold them: no functions, non-finite numbers tagged. */
export type PlainOptions = Record<string, unknown>;

/** The options to store: functions dropped, Infinity and NaN tagged as { $num: "Infinity" }. */
export function plainOptions(options: EndpointOptions): PlainOptions {
  return JSON.parse(JSON.stringify(options, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v))) as PlainOptions;
}

/** Stored options back as EndpointOptions. */
export function endpointOptionsOf(plain: PlainOptions): EndpointOptions {
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 1 && typeof o.$num === 'string') return Number(o.$num);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  return revive(plain) as EndpointOptions;
}

/** A reader's complaint: what is wrong and the byte offset in the file (or buffer) where it is. */
export class LogFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'LogFormatError';
  }
}

// ------------------------------------------------------------------ digests

/** A datagram's digest: of its destination (or source) and bytes. What an output record keeps of a datagram. */
export function datagramDigest(remote: Remote, bytes: Uint8Array): number {
  let a = addressCrcs.get(remote.address);
  if (a === undefined) {
    if (addressCrcs.size > 4096) addressCrcs.clear();
    addressCrcs.set(remote.address, (a = crc32(remote.address)));
  }
  return bytesDigest(bytes, (a + remote.port) >>> 0);
}

const addressCrcs = new Map<string, number>();

/** Up to this many bytes a digest is murmur3's 32-bit hash (cheaper than a call into zlib), beyond it CRC-32. */
export const SMALL_DIGEST_BYTES = 192;

/** The 32-bit digest of bytes, from a seed: murmur3_32 for small inputs, CRC-32 (zlib) for larger ones. */
export function bytesDigest(bytes: Uint8Array, seed = 0): number {
  return bytes.length > SMALL_DIGEST_BYTES ? crc32(bytes, seed) : murmur3(bytes, seed);
}

/** MurmurHash3's x86 32-bit variant. */
export function murmur3(b: Uint8Array, seed: number): number {
  let h = seed | 0;
  const n = b.length;
  const whole = n & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = b[i]!;
    if (tail > 1) k ^= b[i + 1]! << 8;
    if (tail > 2) k ^= b[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ n);
}

/** MurmurHash3's 32-bit finalizer: every input bit moves every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

// ------------------------------------------------------------------ bytes out

/** A growable byte buffer with the primitives records are made of. */
export class ByteSink {
  buf: Buffer;
  len = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  /** Unsigned LEB128, exact up to 2^53. */
  varint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.len++] = v;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }

  /** varint byte length, then UTF-8. */
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.len, 'utf8');
    this.len += n;
  }

  reset(): void {
    this.len = 0;
  }
}

// ------------------------------------------------------------------ bytes in

/** Reads the primitives back; throws LogFormatError naming the offset (base + position) when data runs short. */
export class ByteSource {
  pos = 0;
  /** Reads stop here (the end of the current record while one is decoded). */
  end: number;

  constructor(
    readonly buf: Buffer,
    /** Turns a position in buf and a complaint into an error naming the file offset. */
    readonly describe: (pos: number, what: string) => LogFormatError,
  ) {
    this.end = buf.length;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw this.describe(this.pos, `${what} runs past the end of its record`);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what = 'float64'): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  varint(what = 'varint'): number {
    const b = this.buf;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw this.describe(this.pos, `${what} runs past the end of its record`);
      const byte = b[this.pos++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 0x80;
    }
    throw this.describe(this.pos, `${what} is longer than 8 bytes`);
  }

  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(what = 'string'): string {
    const n = this.varint(what);
    return this.bytes(n, what).toString('utf8');
  }

  rest(): Buffer {
    const out = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }
}

// ------------------------------------------------------------------ file header

export function encodeFileHeader(header: LogHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(FILE_HEADER_BYTES + json.length);
  MAGIC.copy(out, 0);
  out.writeUInt16LE(FORMAT_VERSION, 8);
  out.writeUInt16LE(0, 10);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, FILE_HEADER_BYTES);
  out.writeUInt32LE(crc32(json, crc32(out.subarray(8, 16))), 16);
  return out;
}

/** Parses the file header; returns it and where the first block starts. */
export function decodeFileHeader(buf: Buffer, name: string): { header: LogHeader; end: number } {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new LogFormatError(`${name}: not a stevens replay log (bad magic at offset 0)`, 0);
  }
  if (buf.length < FILE_HEADER_BYTES) throw new LogFormatError(`${name}: file header cut off at offset ${buf.length} (log truncated before its first block)`, buf.length);
  const version = buf.readUInt16LE(8);
  const jsonLen = buf.readUInt32LE(12);
  if (FILE_HEADER_BYTES + jsonLen > buf.length) {
    // A corrupted length reads as truncation unless the checksum region is intact: check what we can.
    throw new LogFormatError(`${name}: file header claims ${jsonLen} bytes of JSON at offset 12, only ${buf.length - FILE_HEADER_BYTES} follow (truncated or corrupt)`, 12);
  }
  const json = buf.subarray(FILE_HEADER_BYTES, FILE_HEADER_BYTES + jsonLen);
  const want = buf.readUInt32LE(16);
  if (crc32(json, crc32(buf.subarray(8, 16))) !== want) throw new LogFormatError(`${name}: file header checksum mismatch at offset 8 (bytes 8..${FILE_HEADER_BYTES + jsonLen - 1}): the log is corrupt`, 8);
  if (version !== FORMAT_VERSION) throw new LogFormatError(`${name}: format version ${version} at offset 8; this stevens reads version ${FORMAT_VERSION}`, 8);
  let header: LogHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as LogHeader;
  } catch {
    throw new LogFormatError(`${name}: file header at offset ${FILE_HEADER_BYTES} is not JSON`, FILE_HEADER_BYTES);
  }
  if (header?.format !== 'stevens-replay' || typeof header.options !== 'object' || typeof header.options?.seed !== 'number') {
    throw new LogFormatError(`${name}: file header at offset ${FILE_HEADER_BYTES} lacks the format name or the endpoint's seed`, FILE_HEADER_BYTES);
  }
  return { header, end: FILE_HEADER_BYTES + jsonLen };
}

// ------------------------------------------------------------------ decoded records

export interface EventDigest {
  type: EventType;
  connectionId: number;
  /** closed: the error code, if any. */
  code?: string;
  /** datagram: length and CRC-32 of its bytes. */
  length?: number;
  digest?: number;
}

export interface OutputDigest {
  remote: Remote;
  length: number;
  digest: number;
}

/** One decoded record. `timeMs` is the time of the record (for untimed kinds: the latest time before it). */
export type LogRecord = { step: number; timeMs: number; offset: number } & (
  | { kind: typeof K.Datagram; remote: Remote; bytes: Uint8Array }
  | { kind: typeof K.Timeout }
  | { kind: typeof K.TransmitNone }
  | { kind: typeof K.Transmit; out: OutputDigest }
  | { kind: typeof K.DeadlineNone | typeof K.DeadlineSame | typeof K.Deadline; deadlineMs: number | undefined }
  | { kind: typeof K.EventNone }
  | { kind: typeof K.Event; event: EventDigest }
  | { kind: typeof K.Listen; options: Record<string, unknown> }
  | { kind: typeof K.Unlisten; port: number | undefined }
  | { kind: typeof K.Connect; remote: Remote; options: Record<string, unknown>; connectionId: number }
  | { kind: typeof K.Write; connectionId: number; length: number; bytes: Uint8Array; accepted: number }
  | { kind: typeof K.Read; connectionId: number; maxBytes: number | undefined; length: number; digest: number }
  | { kind: typeof K.Shutdown | typeof K.Close | typeof K.Abort; connectionId: number }
  | { kind: typeof K.SendDatagram; connectionId: number; length: number; bytes: Uint8Array; result: boolean | undefined }
  | { kind: typeof K.SetNoDelay; connectionId: number; on: boolean }
  | { kind: typeof K.Threw; message: string }
  | { kind: typeof K.Snapshot; json: string; snapshot(): EndpointSnapshot }
  | { kind: typeof K.End; steps: number }
  | { kind: typeof K.Mark; text: string }
);

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return 'none';
  if (!Number.isFinite(ms)) return String(ms);
  return `${Number.isInteger(ms) ? ms : ms.toFixed(3)} ms`;
}

export function fmtRemote(r: Remote): string {
  return r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}

export function describeEvent(e: EventDigest): string {
  let s = `${e.type} #${e.connectionId}`;
  if (e.code !== undefined) s += ` ${e.code}`;
  if (e.length !== undefined) s += ` ${e.length} bytes digest ${hex32(e.digest ?? 0)}`;
  return s;
}

/** One line naming a record: the call it stands for, its arguments and its recorded result. */
export function describeRecord(r: LogRecord): string {
  switch (r.kind) {
    case K.Datagram:
      return `handleDatagram(${fmtMs(r.timeMs)}, ${fmtRemote(r.remote)}, ${r.bytes.length} bytes)`;
    case K.Timeout:
      return `handleTimeout(${fmtMs(r.timeMs)})`;
    case K.TransmitNone:
      return `pollTransmit(${fmtMs(r.timeMs)}) -> nothing`;
    case K.Transmit:
      return `pollTransmit(${fmtMs(r.timeMs)}) -> ${r.out.length} bytes to ${fmtRemote(r.out.remote)}, digest ${hex32(r.out.digest)}`;
    case K.DeadlineNone:
    case K.DeadlineSame:
    case K.Deadline:
      return `pollTimeoutMs() -> ${fmtMs(r.deadlineMs)}`;
    case K.EventNone:
      return 'pollEvent() -> nothing';
    case K.Event:
      return `pollEvent() -> ${describeEvent(r.event)}`;
    case K.Listen:
      return `listen(${JSON.stringify(r.options)})`;
    case K.Unlisten:
      return `unlisten(${r.port ?? ''})`;
    case K.Connect:
      return `connect(${fmtMs(r.timeMs)}, ${fmtRemote(r.remote)}, ${JSON.stringify(r.options)}) -> #${r.connectionId}`;
    case K.Write:
      return `#${r.connectionId}.write(${r.length} bytes) -> ${r.accepted < 0 ? 'threw' : r.accepted}`;
    case K.Read:
      return `#${r.connectionId}.read(${r.maxBytes ?? ''}) -> ${r.length} bytes${r.length > 0 ? ` digest ${hex32(r.digest)}` : ''}`;
    case K.Shutdown:
      return `#${r.connectionId}.shutdown()`;
    case K.Close:
      return `#${r.connectionId}.close()`;
    case K.Abort:
      return `#${r.connectionId}.abort()`;
    case K.SendDatagram:
      return `#${r.connectionId}.sendDatagram(${r.length} bytes) -> ${r.result ?? 'threw'}`;
    case K.SetNoDelay:
      return `#${r.connectionId}.setNoDelay(${r.on})`;
    case K.Threw:
      return `(the call above threw: ${r.message})`;
    case K.Snapshot:
      return `snapshot (${r.json.length} bytes of JSON)`;
    case K.End:
      return `end of log (${r.steps} steps)`;
    case K.Mark:
      return `mark: ${r.text}`;
  }
}

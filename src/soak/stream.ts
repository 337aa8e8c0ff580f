// The bytes a soak connection carries, and the reader that checks every one of them as it arrives.
//
// A stream (one direction of one connection) is a sequence of messages. A message is a 16-byte header,
// [u32 total length][u32 message index][f64 time the application began writing it], followed by a payload whose
// bytes are a pure function of (stream key, message index, offset). So the reader can say what byte N must be
// without a copy of what was written: a corruption, loss, duplication or reordering is caught at the first
// wrong byte, with its offset. SHA-256 digests of everything written and read are kept as well, and compared
// when a stream is complete.
import { createHash, type Hash } from 'node:crypto';
import { fmix32 } from '../replay/format.js';

/** A running SHA-256 that can be read once at the end (bytes after that only count). */
export class RunningHash {
  private readonly hash: Hash = createHash('sha256');
  private hex: string | undefined;
  bytes = 0;
  update(b: Uint8Array): void {
    this.bytes += b.length;
    if (this.hex === undefined) this.hash.update(b);
  }
  digest(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

export const HEADER_BYTES = 16;

/** One 32-bit word of pseudo-random content (murmur3's finalizer over the three inputs). */
function word(key: number, msg: number, index: number): number {
  return fmix32(key ^ Math.imul(msg + 1, 0x9e3779b1) ^ Math.imul(index + 0x632be5ab, 0x85ebca77));
}

/**
 * Payload content is a window into one fixed random sequence of prime period PERIOD, starting at an offset drawn
 * from (stream key, message): filling is a copy, checking a native compare. Content never repeats within a
 * period, so a shifted, duplicated or misplaced segment (at most one datagram, far shorter) shows at its first
 * byte; the SHA-256 of each whole stream covers what a period-long shift could hide.
 */
const PERIOD = 65_521;
const WINDOW = 64 * 1024;
const TABLE = (() => {
  const t = new Uint8Array(PERIOD + WINDOW);
  for (let i = 0; i < PERIOD; i++) t[i] = word(0x7ab1e, 0, i) & 0xff;
  // The tail repeats the start, so any window of WINDOW bytes from an offset below PERIOD is one copy.
  for (let i = PERIOD; i < t.length; i++) t[i] = t[i - PERIOD]!;
  return t;
})();

/** Where message `msg` of stream `key` starts in the sequence (exported for tests). */
export function payloadStart(key: number, msg: number): number {
  return word(key, msg, 0x7fff_ffff) % PERIOD;
}

export const PAYLOAD_PERIOD = PERIOD;

/** Payload bytes [from, from + out.length) of message `msg` of stream `key`, written into `out`. */
export function fillPayload(key: number, msg: number, from: number, out: Uint8Array): void {
  const start = payloadStart(key, msg);
  for (let i = 0; i < out.length; ) {
    const at = (start + from + i) % PERIOD;
    const n = Math.min(out.length - i, WINDOW);
    out.set(TABLE.subarray(at, at + n), i);
    i += n;
  }
}

/** Byte-equal, natively; the index of the first difference otherwise. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

export function encodeHeader(totalBytes: number, index: number, sentAtMs: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(0, totalBytes, true);
  v.setUint32(4, index, true);
  v.setFloat64(8, sentAtMs, true);
  return h;
}

/** What the writer side of a stream has done: the reader of the other side checks against it. */
export class StreamLedger {
  /** Total length (header included) of each message the writer began. */
  readonly lengths: number[] = [];
  readonly sentAtMs: number[] = [];
  /** Stream offset where each message starts. */
  readonly starts: number[] = [];
  /** Bytes the core accepted (write() return values added up). */
  writtenBytes = 0;
  /** Bytes of all messages begun (the stream may end before all of them were accepted). */
  plannedBytes = 0;
  readonly writtenHash = new RunningHash();
  /** The writer shut its side down after this many bytes (undefined while open). */
  finAtBytes: number | undefined;

  private header: Uint8Array = new Uint8Array(HEADER_BYTES);
  private headerIndex = -1;

  constructor(readonly key: number) {}

  begin(totalBytes: number, sentAtMs: number): number {
    const index = this.lengths.length;
    this.lengths.push(totalBytes);
    this.sentAtMs.push(sentAtMs);
    this.starts.push(this.plannedBytes);
    this.plannedBytes += totalBytes;
    return index;
  }

  /** Bytes [from, from + out.length) of message `index` as the writer produces them. */
  fillMessage(index: number, from: number, out: Uint8Array): void {
    let i = 0;
    if (from < HEADER_BYTES) {
      if (this.headerIndex !== index) {
        this.header = encodeHeader(this.lengths[index]!, index, this.sentAtMs[index]!);
        this.headerIndex = index;
      }
      const h = this.header;
      while (i < out.length && from + i < HEADER_BYTES) {
        out[i] = h[from + i]!;
        i++;
      }
    }
    if (i < out.length) fillPayload(this.key, index, from + i - HEADER_BYTES, out.subarray(i));
  }
}

export interface StreamViolation {
  offset: number;
  message: string;
}

/**
 * Checks a stream as the application reads it: every byte against the ledger, in order, and each message's
 * delivery delay once its last byte is read.
 */
export class StreamChecker {
  readBytes = 0;
  messagesRead = 0;
  readonly readHash = new RunningHash();
  violation: StreamViolation | undefined;
  private msg = 0;
  private inMsg = 0;
  private scratch = new Uint8Array(64 * 1024);

  constructor(
    readonly ledger: StreamLedger,
    readonly name: string,
    private readonly onMessage: (index: number, totalBytes: number, sentAtMs: number) => void,
  ) {}

  /** Check `chunk`, the next bytes the application read. Returns false (and records why) at the first bad byte. */
  check(chunk: Uint8Array): boolean {
    this.readHash.update(chunk);
    if (this.violation !== undefined) {
      this.readBytes += chunk.length;
      return false;
    }
    const L = this.ledger;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.readBytes >= L.writtenBytes) {
        this.fail(this.readBytes, `${chunk.length - pos} byte(s) read beyond the ${L.writtenBytes} written`);
        this.readBytes += chunk.length - pos;
        return false;
      }
      const total = L.lengths[this.msg]!;
      const n = Math.min(chunk.length - pos, total - this.inMsg, L.writtenBytes - this.readBytes, this.scratch.length);
      const expected = this.scratch.subarray(0, n);
      L.fillMessage(this.msg, this.inMsg, expected);
      const i = firstDifference(chunk.subarray(pos, pos + n), expected);
      if (i >= 0) {
        const at = this.readBytes + i;
        this.fail(at, `byte ${at} (message ${this.msg}, offset ${this.inMsg + i} of ${total}) is 0x${hex(chunk[pos + i]!)}, written 0x${hex(expected[i]!)}`);
        this.readBytes += chunk.length - pos;
        return false;
      }
      pos += n;
      this.readBytes += n;
      this.inMsg += n;
      if (this.inMsg === total) {
        this.onMessage(this.msg, total, L.sentAtMs[this.msg]!);
        this.messagesRead++;
        this.msg++;
        this.inMsg = 0;
      }
    }
    return true;
  }

  private fail(offset: number, message: string): void {
    this.violation = { offset, message: `${this.name}: ${message}` };
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------- datagrams

export const DATAGRAM_HEADER_BYTES = 20;
const DATAGRAM_MAGIC = 0x5eed_da7a;

/** An unreliable datagram: [magic][lifetime id][index][f64 sent at][payload from (key, index)]. */
export function encodeDatagram(key: number, lifetime: number, index: number, sentAtMs: number, totalBytes: number): Uint8Array {
  const d = new Uint8Array(Math.max(totalBytes, DATAGRAM_HEADER_BYTES));
  const v = new DataView(d.buffer);
  v.setUint32(0, DATAGRAM_MAGIC, true);
  v.setUint32(4, lifetime, true);
  v.setUint32(8, index, true);
  v.setFloat64(12, sentAtMs, true);
  fillPayload(key ^ 0x0d47a6a3, index, 0, d.subarray(DATAGRAM_HEADER_BYTES));
  return d;
}

export interface DatagramLedger {
  sizes: number[];
  sentAtMs: number[];
}

export type DatagramCheck = { ok: true; index: number; sentAtMs: number } | { ok: false; message: string };

/** Checks a received datagram against what the peer (`key`, `lifetime`) sent, as its ledger says. */
export function checkDatagram(bytes: Uint8Array, key: number, lifetime: number, ledger: DatagramLedger): DatagramCheck {
  if (bytes.length < DATAGRAM_HEADER_BYTES) return { ok: false, message: `a ${bytes.length}-byte datagram, shorter than any sent` };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== DATAGRAM_MAGIC) return { ok: false, message: 'a datagram with a corrupt header' };
  const owner = v.getUint32(4, true);
  if (owner !== lifetime) return { ok: false, message: `a datagram of connection #${owner} delivered on connection #${lifetime}` };
  const index = v.getUint32(8, true);
  if (index >= ledger.sizes.length) return { ok: false, message: `datagram ${index} delivered, but only ${ledger.sizes.length} were sent` };
  if (bytes.length !== ledger.sizes[index]) return { ok: false, message: `datagram ${index} delivered with ${bytes.length} bytes, sent with ${ledger.sizes[index]}` };
  const sentAtMs = v.getFloat64(12, true);
  if (sentAtMs !== ledger.sentAtMs[index]) return { ok: false, message: `datagram ${index}: corrupt timestamp` };
  const expected = encodeDatagram(key, lifetime, index, sentAtMs, bytes.length);
  const i = firstDifference(bytes, expected);
  if (i >= 0) return { ok: false, message: `datagram ${index}: byte ${i} is 0x${hex(bytes[i]!)}, sent 0x${hex(expected[i]!)}` };
  return { ok: true, index, sentAtMs };
}

// The TCP header exactly as RFC 9293 section 3.1 lays it out (big-endian):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |          Source Port          |       Destination Port        |
//   +-------------------------------+-------------------------------+
//   |                        Sequence Number                        |
//   +---------------------------------------------------------------+
//   |                    Acknowledgment Number                      |
//   +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//   +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
//   |           Checksum            |         Urgent Pointer        |
//   +-------------------------------+-------------------------------+
//   |                 Options (padded to 4 bytes)                   |
//   +---------------------------------------------------------------+
//
// Written and read with plain byte arithmetic: no Buffer methods, no DataView per call (this is the hot path).
import { SYN, type DecodeError, type DecodeResult, type TcpSegment } from './segment.js';
import { MAX_OPTION_BYTES, optionsLength, parseOptions, writeCanonicalOptions } from './tcp-options.js';

export const TCP_HEADER_BYTES = 20;
/** A data offset of 15 words. */
export const MAX_TCP_HEADER_BYTES = TCP_HEADER_BYTES + MAX_OPTION_BYTES;

/** A segment's header fields; optionBytes, when given, replaces the canonical layout of `options` byte for byte. */
export type TcpHeaderFields = Omit<TcpSegment, 'payload'> & { optionBytes?: Uint8Array };

/** Header length (20 + options) that encodeTcpHeader will write for these fields. Throws like encodeTcpHeader. */
export function tcpHeaderLength(seg: TcpHeaderFields): number {
  const ob = seg.optionBytes;
  let optLen: number;
  if (ob !== undefined) {
    optLen = ob.length;
    if (optLen > MAX_OPTION_BYTES || (optLen & 3) !== 0) {
      throw new RangeError(`optionBytes must be a multiple of 4 and at most ${MAX_OPTION_BYTES} bytes, got ${optLen}`);
    }
  } else {
    optLen = optionsLength(seg.options, (seg.flags & SYN) !== 0);
    if (optLen > MAX_OPTION_BYTES) throw new RangeError(`options take ${optLen} bytes, more than ${MAX_OPTION_BYTES}`);
  }
  return TCP_HEADER_BYTES + optLen;
}

/**
 * Writes the header at out[offset..] and returns its length. Options are the canonical layout of seg.options
 * (see tcp-options.ts), or seg.optionBytes verbatim if given. Numbers are truncated to their field width; the 4
 * reserved bits are written as 0. Throws RangeError if the options do not fit in 40 bytes, optionBytes is not a
 * multiple of 4, or out has no room (programming errors).
 */
export function encodeTcpHeader(seg: TcpHeaderFields, out: Uint8Array, offset: number): number {
  const hl = tcpHeaderLength(seg);
  if (!(offset >= 0 && offset + hl <= out.length)) throw new RangeError(`no room for a ${hl}-byte header at ${offset}`);
  writeFixedHeader(out, offset, seg.srcPort, seg.dstPort, seg.seq, seg.ack, hl, seg.flags, seg.window, seg.checksum, seg.urgentPointer);
  const o = offset;
  const ob = seg.optionBytes;
  if (ob !== undefined) {
    if (ob.length > 0) out.set(ob, o + TCP_HEADER_BYTES);
  } else if (hl > TCP_HEADER_BYTES) {
    writeCanonicalOptions(seg.options, (seg.flags & SYN) !== 0, out, o + TCP_HEADER_BYTES);
  }
  return hl;
}

/** The 20 fixed bytes at out[o..]; numbers are truncated to their field width, the reserved bits written as 0. */
export function writeFixedHeader(
  out: Uint8Array,
  o: number,
  src: number,
  dst: number,
  seq: number,
  ack: number,
  headerBytes: number,
  flags: number,
  win: number,
  sum: number,
  urp: number,
): void {
  out[o] = (src >>> 8) & 0xff;
  out[o + 1] = src & 0xff;
  out[o + 2] = (dst >>> 8) & 0xff;
  out[o + 3] = dst & 0xff;
  out[o + 4] = (seq >>> 24) & 0xff;
  out[o + 5] = (seq >>> 16) & 0xff;
  out[o + 6] = (seq >>> 8) & 0xff;
  out[o + 7] = seq & 0xff;
  out[o + 8] = (ack >>> 24) & 0xff;
  out[o + 9] = (ack >>> 16) & 0xff;
  out[o + 10] = (ack >>> 8) & 0xff;
  out[o + 11] = ack & 0xff;
  out[o + 12] = (headerBytes >>> 2) << 4;
  out[o + 13] = flags & 0xff;
  out[o + 14] = (win >>> 8) & 0xff;
  out[o + 15] = win & 0xff;
  out[o + 16] = (sum >>> 8) & 0xff;
  out[o + 17] = sum & 0xff;
  out[o + 18] = (urp >>> 8) & 0xff;
  out[o + 19] = urp & 0xff;
}

/**
 * Decodes the header starting at bytes[offset]; the segment ends at `end` (exclusive). payload and rawOptions are
 * views into `bytes`, not copies. The reserved bits are ignored. Errors: fewer than 20 bytes: 'short'; a data
 * offset below 5 or a header running past `end`: 'bad-data-offset'; an option error: 'bad-option-length'.
 * Never throws on any byte content; throws RangeError only if [offset, end) is not inside bytes (a caller bug).
 */
export function decodeTcpHeader(bytes: Uint8Array, offset: number, end: number): DecodeResult<TcpSegment> {
  const r = parseTcpHeader(bytes, offset, end);
  return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, value: r };
}

/** decodeTcpHeader without the result wrapper (the endpoint's hot path): the segment, or why it was refused. */
export function parseTcpHeader(bytes: Uint8Array, offset: number, end: number): TcpSegment | DecodeError {
  if (!(offset >= 0 && offset <= end && end <= bytes.length)) {
    throw new RangeError(`range [${offset}, ${end}) is not inside ${bytes.length} bytes`);
  }
  if (end - offset < TCP_HEADER_BYTES) return 'short';
  const o = offset;
  const hl = (bytes[o + 12] >>> 4) << 2;
  if (hl < TCP_HEADER_BYTES || o + hl > end) return 'bad-data-offset';
  const optStart = o + TCP_HEADER_BYTES;
  const headerEnd = o + hl;
  const options = parseOptions(bytes, optStart, headerEnd);
  if (options === null) return 'bad-option-length';
  return {
    srcPort: (bytes[o] << 8) | bytes[o + 1],
    dstPort: (bytes[o + 2] << 8) | bytes[o + 3],
    seq: ((bytes[o + 4] << 24) | (bytes[o + 5] << 16) | (bytes[o + 6] << 8) | bytes[o + 7]) >>> 0,
    ack: ((bytes[o + 8] << 24) | (bytes[o + 9] << 16) | (bytes[o + 10] << 8) | bytes[o + 11]) >>> 0,
    flags: bytes[o + 13],
    window: (bytes[o + 14] << 8) | bytes[o + 15],
    checksum: (bytes[o + 16] << 8) | bytes[o + 17],
    urgentPointer: (bytes[o + 18] << 8) | bytes[o + 19],
    options,
    payload: bytes.subarray(headerEnd, end),
    rawOptions: bytes.subarray(optStart, headerEnd),
  };
}

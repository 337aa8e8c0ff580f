// The UDP encapsulation. One UDP payload carries one TCP segment or one unreliable datagram:
//
//   +---------+------+----------------------------------------------+-----------------+
//   | version | type | body                                         | CRC-32 (BE)     |
//   | 1 byte  | 1 B  |                                              | 4 bytes         |
//   +---------+------+----------------------------------------------+-----------------+
//
//   version: 1.   type: 0 = TCP segment, 1 = unreliable datagram.
//   type 0 body: a TCP header as RFC 9293 3.1 lays it out (options padded to 4 bytes), then the payload. The TCP
//                checksum field is carried as given (0 over UDP: the CRC below does its job).
//   type 1 body: source port (2 bytes), destination port (2 bytes), then the payload.
//   CRC-32: zlib's CRC-32 (IEEE) of every byte before it (version, type and body), big-endian.
//
// So the encapsulation adds 6 bytes (ENCAP_OVERHEAD_BYTES in config.ts). A datagram is checked in this order:
// length < 6: 'short'; version: 'bad-version'; type: 'bad-type'; CRC: 'bad-crc'; then the body (TCP header errors,
// or a datagram body under 4 bytes: 'short'), and last a port of 0 on either side: 'bad-port'.
import { crc32 } from './crc.js';
import type { DecodeError, DecodeResult, TcpSegment } from './segment.js';
import { encodeTcpHeader, parseTcpHeader, tcpHeaderLength, TCP_HEADER_BYTES, writeFixedHeader, type TcpHeaderFields } from './tcp-header.js';
import { synchronizedOptionsLength, writeSynchronizedOptions } from './tcp-options.js';
import type { SackBlock } from './segment.js';
import { allocBytes } from '../slab.js';

export const ENCAP_VERSION = 1;
export const ENCAP_HEADER_BYTES = 2;
export const CRC_BYTES = 4;
export const KIND_SEGMENT = 0;
export const KIND_DATAGRAM = 1;
/** The unreliable datagram's own header: source and destination ports. */
export const DATAGRAM_HEADER_BYTES = 4;

export type DecodedDatagram =
  | { kind: 'segment'; segment: TcpSegment }
  | { kind: 'datagram'; srcPort: number; dstPort: number; payload: Uint8Array };

/**
 * Allocates exactly 2 + header + payloadBytes + 4 bytes and writes the encapsulation header and the TCP header.
 * The caller writes the payload at `bytes.length - CRC_BYTES - payloadBytes`, then calls sealDatagram(bytes).
 * The payload and CRC bytes are uninitialised until then (the buffer comes from Node's pool).
 */
export function allocSegmentDatagram(header: TcpHeaderFields, payloadBytes: number): Uint8Array {
  const hl = tcpHeaderLength(header);
  const bytes = allocBytes(ENCAP_HEADER_BYTES + hl + payloadBytes + CRC_BYTES);
  bytes[0] = ENCAP_VERSION;
  bytes[1] = KIND_SEGMENT;
  encodeTcpHeader(header, bytes, ENCAP_HEADER_BYTES);
  return bytes;
}

/**
 * allocSegmentDatagram for the segments of a synchronized connection, from plain values: the canonical options
 * (timestamps, then SACK blocks) and no intermediate objects, since every data segment and ACK comes this way.
 * The caller checked that the options fit (maxSackBlocks).
 */
export function allocSynchronizedSegmentDatagram(
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  windowField: number,
  hasTs: boolean,
  tsValue: number,
  tsEcho: number,
  sack: readonly SackBlock[] | undefined,
  payloadBytes: number,
): Uint8Array {
  const hl = TCP_HEADER_BYTES + synchronizedOptionsLength(hasTs, sack === undefined ? 0 : sack.length);
  const bytes = allocBytes(ENCAP_HEADER_BYTES + hl + payloadBytes + CRC_BYTES);
  bytes[0] = ENCAP_VERSION;
  bytes[1] = KIND_SEGMENT;
  writeFixedHeader(bytes, ENCAP_HEADER_BYTES, srcPort, dstPort, seq, ack, hl, flags, windowField, 0, 0);
  writeSynchronizedOptions(bytes, ENCAP_HEADER_BYTES + TCP_HEADER_BYTES, hasTs, tsValue, tsEcho, sack);
  return bytes;
}

/** Writes the CRC-32 of bytes[0, length - 4) into the last 4 bytes, big-endian. */
export function sealDatagram(bytes: Uint8Array): void {
  const n = bytes.length - CRC_BYTES;
  const c = crc32(bytes, 0, n);
  bytes[n] = (c >>> 24) & 0xff;
  bytes[n + 1] = (c >>> 16) & 0xff;
  bytes[n + 2] = (c >>> 8) & 0xff;
  bytes[n + 3] = c & 0xff;
}

/** A whole sealed segment datagram (alloc, copy the payload, seal). */
export function encodeSegmentDatagram(seg: TcpSegment & { optionBytes?: Uint8Array }): Uint8Array {
  const payload = seg.payload;
  const bytes = allocSegmentDatagram(seg, payload.length);
  if (payload.length > 0) bytes.set(payload, bytes.length - CRC_BYTES - payload.length);
  sealDatagram(bytes);
  return bytes;
}

/** A whole sealed unreliable datagram. Ports are truncated to 16 bits. */
export function encodeUnreliableDatagram(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const bytes = allocBytes(ENCAP_HEADER_BYTES + DATAGRAM_HEADER_BYTES + payload.length + CRC_BYTES);
  bytes[0] = ENCAP_VERSION;
  bytes[1] = KIND_DATAGRAM;
  bytes[2] = (srcPort >>> 8) & 0xff;
  bytes[3] = srcPort & 0xff;
  bytes[4] = (dstPort >>> 8) & 0xff;
  bytes[5] = dstPort & 0xff;
  if (payload.length > 0) bytes.set(payload, ENCAP_HEADER_BYTES + DATAGRAM_HEADER_BYTES);
  sealDatagram(bytes);
  return bytes;
}

/**
 * Decodes one UDP payload (see the top of this file for the checks and their order). Payloads are views into
 * `bytes`, not copies. Never throws.
 */
export function decodeDatagram(bytes: Uint8Array): DecodeResult<DecodedDatagram> {
  const kind = checkEncapsulation(bytes);
  if (typeof kind === 'string') return { ok: false, reason: kind };
  if (kind === KIND_SEGMENT) {
    const segment = parseSegmentBody(bytes);
    return typeof segment === 'string' ? { ok: false, reason: segment } : { ok: true, value: { kind: 'segment', segment } };
  }
  const d = parseDatagramBody(bytes);
  return typeof d === 'string' ? { ok: false, reason: d } : { ok: true, value: d };
}

/** The first checks (length, version, type, CRC): KIND_SEGMENT or KIND_DATAGRAM, or why the datagram is dropped. */
export function checkEncapsulation(bytes: Uint8Array): number | DecodeError {
  const len = bytes.length;
  if (len < ENCAP_HEADER_BYTES + CRC_BYTES) return 'short';
  if (bytes[0] !== ENCAP_VERSION) return 'bad-version';
  const type = bytes[1];
  if (type !== KIND_SEGMENT && type !== KIND_DATAGRAM) return 'bad-type';
  const bodyEnd = len - CRC_BYTES;
  const want = ((bytes[bodyEnd] << 24) | (bytes[bodyEnd + 1] << 16) | (bytes[bodyEnd + 2] << 8) | bytes[bodyEnd + 3]) >>> 0;
  if (crc32(bytes, 0, bodyEnd) !== want) return 'bad-crc';
  return type;
}

/** The TCP segment of a datagram that passed checkEncapsulation as KIND_SEGMENT. */
export function parseSegmentBody(bytes: Uint8Array): TcpSegment | DecodeError {
  const segment = parseTcpHeader(bytes, ENCAP_HEADER_BYTES, bytes.length - CRC_BYTES);
  if (typeof segment === 'string') return segment;
  if (segment.srcPort === 0 || segment.dstPort === 0) return 'bad-port';
  return segment;
}

/** The unreliable datagram of a datagram that passed checkEncapsulation as KIND_DATAGRAM. */
export function parseDatagramBody(bytes: Uint8Array): Extract<DecodedDatagram, { kind: 'datagram' }> | DecodeError {
  const bodyEnd = bytes.length - CRC_BYTES;
  if (bodyEnd - ENCAP_HEADER_BYTES < DATAGRAM_HEADER_BYTES) return 'short';
  const srcPort = (bytes[2] << 8) | bytes[3];
  const dstPort = (bytes[4] << 8) | bytes[5];
  if (srcPort === 0 || dstPort === 0) return 'bad-port';
  return { kind: 'datagram', srcPort, dstPort, payload: bytes.subarray(ENCAP_HEADER_BYTES + DATAGRAM_HEADER_BYTES, bodyEnd) };
}

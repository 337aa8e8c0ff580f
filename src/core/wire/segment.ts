// The TCP segment as the core sees it: RFC 9293 section 3.1's header fields, decoded options and a payload view.
// Coding of the header is kept apart from framing (UDP encapsulation here, raw IP later), so the same segment
// logic serves both.

/** Control bits, as laid out in byte 13 of the TCP header (RFC 9293 3.1, RFC 3168 for CWR/ECE). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

/** One SACK block (RFC 2018): left edge inclusive, right edge exclusive, both sequence numbers. */
export interface SackBlock {
  left: number;
  right: number;
}

/** Options the core understands; absent fields were not present. Unknown options are skipped by length. */
export interface TcpOptions {
  mss?: number;
  /** RFC 7323 window scale shift count as sent (the receiver clamps it to 14). */
  windowScale?: number;
  sackPermitted?: boolean;
  /** RFC 7323 timestamps. */
  timestamp?: { value: number; echo: number };
  sack?: SackBlock[];
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The control bits as one byte (see FIN..CWR). */
  flags: number;
  /** The 16-bit window field as on the wire (not scaled). */
  window: number;
  /** Checksum field as on the wire: 0 over UDP, the Internet checksum over raw IP. */
  checksum: number;
  urgentPointer: number;
  options: TcpOptions;
  payload: Uint8Array;
  /** On decoded segments: a view of the option bytes exactly as received (padding included). Ignored on encode. */
  rawOptions?: Uint8Array;
}

/** Why a datagram or header could not be decoded. Each reason is counted by the endpoint. */
export type DecodeError =
  | 'short'
  | 'bad-version'
  | 'bad-type'
  | 'bad-data-offset'
  | 'bad-option-length'
  | 'bad-crc'
  | 'bad-port';

export const DECODE_ERRORS: readonly DecodeError[] = [
  'short',
  'bad-version',
  'bad-type',
  'bad-data-offset',
  'bad-option-length',
  'bad-crc',
  'bad-port',
];

/**
 * What every public decoder returns: the value, or why the input was refused (a string-literal reason that is
 * counted, never an exception). The hot paths inside the endpoint use the unwrapped form `T | reason`.
 */
export type DecodeResult<T, R extends string = DecodeError> = { ok: true; value: T } | { ok: false; reason: R };

export function flagsToString(flags: number): string {
  let s = '';
  if (flags & SYN) s += 'S';
  if (flags & FIN) s += 'F';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & URG) s += 'U';
  if (flags & ECE) s += 'E';
  if (flags & CWR) s += 'W';
  if (flags & ACK) s += '.';
  return s;
}

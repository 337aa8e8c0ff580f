// Raw-IP framing of the core's TCP segments: an IPv4 (RFC 791) or IPv6 (RFC 8200) header, the TCP header and
// payload exactly as the core coded them, and the real TCP checksum over the pseudo-header (RFC 9293 3.1). No
// encapsulation header, no CRC trailer. The core keeps speaking its UDP encapsulation; this module converts
// between the two, so the core's segment logic is unchanged and only the framing differs.
import { wire } from '../core/index.js';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from './address.js';
import { finishChecksum, internetChecksum, onesSum } from './checksum.js';

const { crc32, CRC_BYTES, ENCAP_HEADER_BYTES, ENCAP_VERSION, KIND_SEGMENT } = wire;

export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
const PROTO_TCP = 6;
const DEFAULT_TTL = 64;

/** Why an IP packet was dropped. Each reason is counted by the driver. */
export type IpDropReason =
  | 'ip-short'
  | 'ip-version'
  | 'ip-header-length'
  | 'ip-total-length'
  | 'ip-header-checksum'
  | 'ip-fragment'
  | 'ip-not-tcp'
  | 'ip-ipv6-extension'
  | 'tcp-short'
  | 'tcp-checksum'
  | 'not-a-segment';

/** An IP packet turned back into the core's datagram. */
export interface IpPacketDecoded {
  src: string;
  dst: string;
  family: 4 | 6;
  datagram: Uint8Array;
}

/** The core's decoder convention (wire.DecodeResult): the value, or the reason it was dropped. */
export type IpDecodeResult = wire.DecodeResult<IpPacketDecoded, IpDropReason>;

/**
 * An encapsulated stevens datagram (a TCP segment) as an IP packet from `src` to `dst` (same family).
 * Unreliable stevens datagrams have no IP form: they give { ok: false, reason: 'not-a-segment' }; the value is the packet.
 */
export function datagramToIp(datagram: Uint8Array, src: string, dst: string, ident = 0): wire.DecodeResult<Uint8Array, IpDropReason> {
  if (datagram.length < ENCAP_HEADER_BYTES + 20 + CRC_BYTES || datagram[1] !== KIND_SEGMENT) return { ok: false, reason: 'not-a-segment' };
  const tcp = datagram.subarray(ENCAP_HEADER_BYTES, datagram.length - CRC_BYTES);
  const v6 = src.includes(':');
  const ipHeader = v6 ? IPV6_HEADER_BYTES : IPV4_HEADER_BYTES;
  const packet = new Uint8Array(ipHeader + tcp.length);
  const srcBytes = v6 ? ipv6ToBytes(src) : ipv4ToBytes(src);
  const dstBytes = v6 ? ipv6ToBytes(dst) : ipv4ToBytes(dst);
  if (v6) {
    packet[0] = 0x60;
    packet[4] = tcp.length >> 8;
    packet[5] = tcp.length & 0xff;
    packet[6] = PROTO_TCP;
    packet[7] = DEFAULT_TTL;
    packet.set(srcBytes, 8);
    packet.set(dstBytes, 24);
  } else {
    const total = packet.length;
    packet[0] = 0x45;
    packet[2] = total >> 8;
    packet[3] = total & 0xff;
    packet[4] = (ident >> 8) & 0xff;
    packet[5] = ident & 0xff;
    packet[6] = 0x40; // DF: stevens never relies on fragmentation
    packet[8] = DEFAULT_TTL;
    packet[9] = PROTO_TCP;
    packet.set(srcBytes, 12);
    packet.set(dstBytes, 16);
    const c = internetChecksum(packet, 0, IPV4_HEADER_BYTES);
    packet[10] = c >> 8;
    packet[11] = c & 0xff;
  }
  packet.set(tcp, ipHeader);
  // The TCP checksum field was 0 over UDP; fill it over the pseudo-header.
  packet[ipHeader + 16] = 0;
  packet[ipHeader + 17] = 0;
  const c = tcpChecksum(packet, ipHeader, packet.length, srcBytes, dstBytes);
  packet[ipHeader + 16] = c >> 8;
  packet[ipHeader + 17] = c & 0xff;
  return { ok: true, value: packet };
}

/** RFC 9293 3.1 (IPv4 pseudo-header) and RFC 8200 8.1 (IPv6 pseudo-header). */
export function tcpChecksum(packet: Uint8Array, tcpStart: number, tcpEnd: number, src: Uint8Array, dst: Uint8Array): number {
  const len = tcpEnd - tcpStart;
  let sum = onesSum(src, 0, src.length);
  sum = onesSum(dst, 0, dst.length, sum);
  sum += PROTO_TCP;
  sum += src.length === 16 ? (len >>> 16) + (len & 0xffff) : len;
  sum = onesSum(packet, tcpStart, tcpEnd, sum);
  return finishChecksum(sum);
}

/** An IP packet (from a TUN device) as an encapsulated stevens datagram, after every check; never throws. */
export function ipToDatagram(packet: Uint8Array): IpDecodeResult {
  if (packet.length < 1) return { ok: false, reason: 'ip-short' };
  const version = packet[0]! >> 4;
  let tcpStart: number;
  let tcpEnd: number;
  let src: Uint8Array;
  let dst: Uint8Array;
  let srcText: string;
  let dstText: string;
  if (version === 4) {
    if (packet.length < IPV4_HEADER_BYTES) return { ok: false, reason: 'ip-short' };
    const ihl = (packet[0]! & 0x0f) * 4;
    if (ihl < IPV4_HEADER_BYTES || ihl > packet.length) return { ok: false, reason: 'ip-header-length' };
    const total = (packet[2]! << 8) | packet[3]!;
    if (total < ihl || total > packet.length) return { ok: false, reason: 'ip-total-length' };
    if (internetChecksum(packet, 0, ihl) !== 0) return { ok: false, reason: 'ip-header-checksum' };
    const fragment = ((packet[6]! & 0x3f) << 8) | packet[7]!; // MF flag and offset
    if (fragment !== 0) return { ok: false, reason: 'ip-fragment' };
    if (packet[9] !== PROTO_TCP) return { ok: false, reason: 'ip-not-tcp' };
    tcpStart = ihl;
    tcpEnd = total;
    src = packet.subarray(12, 16);
    dst = packet.subarray(16, 20);
    srcText = bytesToIpv4(packet, 12);
    dstText = bytesToIpv4(packet, 16);
  } else if (version === 6) {
    if (packet.length < IPV6_HEADER_BYTES) return { ok: false, reason: 'ip-short' };
    const payload = (packet[4]! << 8) | packet[5]!;
    if (IPV6_HEADER_BYTES + payload > packet.length) return { ok: false, reason: 'ip-total-length' };
    const next = packet[6];
    if (next === 44) return { ok: false, reason: 'ip-fragment' };
    if (next !== PROTO_TCP) return { ok: false, reason: next === 0 || next === 43 || next === 60 ? 'ip-ipv6-extension' : 'ip-not-tcp' };
    tcpStart = IPV6_HEADER_BYTES;
    tcpEnd = IPV6_HEADER_BYTES + payload;
    src = packet.subarray(8, 24);
    dst = packet.subarray(24, 40);
    srcText = bytesToIpv6(packet, 8);
    dstText = bytesToIpv6(packet, 24);
  } else {
    return { ok: false, reason: 'ip-version' };
  }
  if (tcpEnd - tcpStart < 20) return { ok: false, reason: 'tcp-short' };
  if (tcpChecksum(packet, tcpStart, tcpEnd, src, dst) !== 0) return { ok: false, reason: 'tcp-checksum' };
  const tcpLen = tcpEnd - tcpStart;
  const datagram = new Uint8Array(ENCAP_HEADER_BYTES + tcpLen + CRC_BYTES);
  datagram[0] = ENCAP_VERSION;
  datagram[1] = KIND_SEGMENT;
  datagram.set(packet.subarray(tcpStart, tcpEnd), ENCAP_HEADER_BYTES);
  // The core expects the field it would have sent itself over UDP.
  datagram[ENCAP_HEADER_BYTES + 16] = 0;
  datagram[ENCAP_HEADER_BYTES + 17] = 0;
  const crc = crc32(datagram, 0, datagram.length - CRC_BYTES);
  const o = datagram.length - CRC_BYTES;
  datagram[o] = crc >>> 24;
  datagram[o + 1] = (crc >>> 16) & 0xff;
  datagram[o + 2] = (crc >>> 8) & 0xff;
  datagram[o + 3] = crc & 0xff;
  return { ok: true, value: { src: srcText, dst: dstText, family: version === 4 ? 4 : 6, datagram } };
}

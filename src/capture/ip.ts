// IPv4 and IPv6 headers, the Internet checksum (RFC 1071) and the TCP/UDP pseudo-header (RFC 9293 3.1,
// RFC 768, RFC 8200 8.1): enough to re-frame stevens traffic as packets any capture tool understands.
import { bytesToIpv4, bytesToIpv6 } from '../ip/address.js';
import { finishChecksum, onesSum as rawOnesSum } from '../ip/checksum.js';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
export const UDP_HEADER_BYTES = 8;

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4; anything else unchanged (a zone id dropped). */
export function plainAddress(address: string): string {
  const noZone = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  const lower = noZone.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : noZone;
}

/** Dotted-quad IPv4 to 4 bytes, or undefined when it is not one. */
export function parseIpv4(address: string): Uint8Array | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** An IPv6 address in any RFC 4291 2.2 text form (a trailing dotted quad and a zone id allowed) to 16 bytes. */
export function parseIpv6(address: string): Uint8Array | undefined {
  let text = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  // A trailing dotted quad stands for the last two 16-bit words.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const words: number[] = [];
  const known = head.length + rest.length;
  if (halves.length === 1) {
    if (known !== 8) return undefined;
    words.push(...head);
  } else {
    if (known > 7) return undefined;
    words.push(...head, ...new Array<number>(8 - known).fill(0), ...rest);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >>> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** 4 or 16 bytes for an address in text form; throws TypeError for anything else. */
export function addressBytes(address: string): Uint8Array {
  const plain = plainAddress(address);
  const bytes = plain.includes(':') ? parseIpv6(plain) : parseIpv4(plain);
  if (bytes === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  return bytes;
}

/** Text form of 4 or 16 address bytes (IPv6 compressed as RFC 5952 recommends). */
export function formatAddress(b: Uint8Array): string {
  return b.length === 4 ? bytesToIpv4(b, 0) : bytesToIpv6(b, 0);
}

/** The one's-complement sum of bytes[start, end) folded to 16 bits, added to `initial` (not complemented). */
export function onesSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  return ~finishChecksum(rawOnesSum(bytes, start, end, initial)) & 0xffff;
}

/** RFC 1071: the complement of the one's-complement sum (src/ip/checksum.ts does the arithmetic). */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return finishChecksum(rawOnesSum(bytes, start, end, initial));
}

/** The pseudo-header's sum for TCP or UDP over IPv4 (RFC 9293 3.1) or IPv6 (RFC 8200 8.1). */
function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = onesSum(src, 0, src.length);
  sum = onesSum(dst, 0, dst.length, sum);
  if (src.length === 4) sum += protocol + length;
  else sum += (length >>> 16) + (length & 0xffff) + protocol;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

let ipv4Identification = 0;

/**
 * An IP packet around `l4` (a TCP segment or a UDP datagram, header included) from src to dst, with the IP
 * header checksum (IPv4) and the transport checksum (at l4ChecksumOffset within l4) filled in. The transport
 * checksum field of `l4` is overwritten in the copy, never in `l4` itself.
 */
export function ipPacket(src: Uint8Array, dst: Uint8Array, protocol: number, l4: Uint8Array, l4ChecksumOffset: number): Uint8Array {
  if (src.length !== dst.length) throw new TypeError('source and destination addresses are of different families');
  const v4 = src.length === 4;
  const hl = v4 ? IPV4_HEADER_BYTES : IPV6_HEADER_BYTES;
  const total = hl + l4.length;
  if (v4 && total > 0xffff) throw new RangeError(`an IPv4 packet of ${total} bytes is over 65535`);
  if (!v4 && l4.length > 0xffff) throw new RangeError(`an IPv6 payload of ${l4.length} bytes is over 65535`);
  const out = new Uint8Array(total);
  if (v4) {
    out[0] = 0x45;
    out[2] = total >>> 8;
    out[3] = total & 0xff;
    const id = (ipv4Identification = (ipv4Identification + 1) & 0xffff);
    out[4] = id >>> 8;
    out[5] = id & 0xff;
    out[6] = 0x40; // don't fragment
    out[8] = 64; // TTL
    out[9] = protocol;
    out.set(src, 12);
    out.set(dst, 16);
    const sum = internetChecksum(out, 0, IPV4_HEADER_BYTES);
    out[10] = sum >>> 8;
    out[11] = sum & 0xff;
  } else {
    out[0] = 0x60;
    out[4] = l4.length >>> 8;
    out[5] = l4.length & 0xff;
    out[6] = protocol;
    out[7] = 64; // hop limit
    out.set(src, 8);
    out.set(dst, 24);
  }
  out.set(l4, hl);
  out[hl + l4ChecksumOffset] = 0;
  out[hl + l4ChecksumOffset + 1] = 0;
  let sum = internetChecksum(out, hl, total, pseudoHeaderSum(src, dst, protocol, l4.length));
  // RFC 768: a computed UDP checksum of 0 is sent as all ones (0 means "none").
  if (sum === 0 && protocol === IPPROTO_UDP) sum = 0xffff;
  out[hl + l4ChecksumOffset] = sum >>> 8;
  out[hl + l4ChecksumOffset + 1] = sum & 0xff;
  return out;
}

/** Is the transport checksum of this IP packet's payload right (pseudo-header included)? */
export function transportChecksumOk(src: Uint8Array, dst: Uint8Array, protocol: number, l4: Uint8Array): boolean {
  return internetChecksum(l4, 0, l4.length, pseudoHeaderSum(src, dst, protocol, l4.length)) === 0;
}

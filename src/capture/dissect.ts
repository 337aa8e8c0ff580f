// Finding the TCP segments in a capture, whatever its view: real TCP packets (the TCP view, or any TCP capture)
// and stevens datagrams inside UDP (the UDP view, or a plain tcpdump of a stevens port: any UDP payload that passes
// the stevens checks, CRC-32 included, counts). Link types: RAW (101, and 12/14 as some systems write it), IPv4
// (228), IPv6 (229), Ethernet (1, with 802.1Q tags), BSD loopback (0 and 108), Linux cooked (113, 276).
import { wire } from '../core/index.js';
import { IPPROTO_TCP, IPPROTO_UDP, formatAddress } from './ip.js';
import type { CaptureFile } from './read.js';

const { decodeDatagram, decodeTcpHeader } = wire;
type TcpSegment = wire.TcpSegment;

export interface SegmentEndpoint {
  address: string;
  /** The TCP port. */
  port: number;
  /** The UDP port, when the segment travelled in a stevens datagram. */
  udpPort?: number;
}

export interface CapturedSegment {
  /** Index of the packet in the capture. */
  index: number;
  timeNs: bigint;
  src: SegmentEndpoint;
  dst: SegmentEndpoint;
  segment: TcpSegment;
  /** How it was carried: a TCP packet, or a stevens datagram in UDP. */
  carrier: 'tcp' | 'stevens-udp';
  comments: string[];
}

export interface UnreliableDatagram {
  index: number;
  timeNs: bigint;
  src: SegmentEndpoint;
  dst: SegmentEndpoint;
  payloadBytes: number;
}

export interface DissectedCapture {
  segments: CapturedSegment[];
  datagrams: UnreliableDatagram[];
  /** Packets that were neither: other protocols, bad stevens datagrams, unknown link types, fragments. */
  skipped: number;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** The IP packet inside a link-layer frame, or undefined. */
function ipPayload(linkType: number, b: Uint8Array): Uint8Array | undefined {
  switch (linkType) {
    case 101:
    case 12:
    case 14:
    case 228:
    case 229:
      return b;
    case 0:
    case 108:
      // A 4-byte address family (host order for 0, network order for 108): the version nibble tells the rest.
      return b.length > 4 ? b.subarray(4) : undefined;
    case 1: {
      let at = 12;
      let type = (b[at]! << 8) | b[at + 1]!;
      while ((type === 0x8100 || type === 0x88a8) && at + 6 <= b.length) {
        at += 4;
        type = (b[at]! << 8) | b[at + 1]!;
      }
      return type === ETH_IPV4 || type === ETH_IPV6 ? b.subarray(at + 2) : undefined;
    }
    case 113: {
      if (b.length < 16) return undefined;
      const type = (b[14]! << 8) | b[15]!;
      return type === ETH_IPV4 || type === ETH_IPV6 ? b.subarray(16) : undefined;
    }
    case 276: {
      if (b.length < 20) return undefined;
      const type = (b[0]! << 8) | b[1]!;
      return type === ETH_IPV4 || type === ETH_IPV6 ? b.subarray(20) : undefined;
    }
    default:
      return undefined;
  }
}

interface IpInfo {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
}

/** Addresses, protocol and transport payload of an unfragmented IPv4/IPv6 packet. */
export function parseIp(p: Uint8Array): IpInfo | undefined {
  if (p.length < 1) return undefined;
  const version = p[0]! >>> 4;
  if (version === 4) {
    const hl = (p[0]! & 0x0f) * 4;
    if (hl < 20 || p.length < hl) return undefined;
    const total = Math.min((p[2]! << 8) | p[3]!, p.length);
    const fragment = ((p[6]! << 8) | p[7]!) & 0x3fff;
    if (fragment !== 0 || total < hl) return undefined;
    return { src: formatAddress(p.subarray(12, 16)), dst: formatAddress(p.subarray(16, 20)), protocol: p[9]!, payload: p.subarray(hl, total) };
  }
  if (version === 6) {
    if (p.length < 40) return undefined;
    const end = Math.min(40 + ((p[4]! << 8) | p[5]!), p.length);
    let next = p[6]!;
    let at = 40;
    // Hop-by-hop, routing and destination options are skipped; a fragment header ends the search.
    while (next === 0 || next === 43 || next === 60) {
      if (at + 8 > end) return undefined;
      const n = p[at]!;
      at += (p[at + 1]! + 1) * 8;
      next = n;
    }
    if (next === 44 || at > end) return undefined;
    return { src: formatAddress(p.subarray(8, 24)), dst: formatAddress(p.subarray(24, 40)), protocol: next, payload: p.subarray(at, end) };
  }
  return undefined;
}

export function dissectCapture(capture: CaptureFile): DissectedCapture {
  const out: DissectedCapture = { segments: [], datagrams: [], skipped: 0 };
  capture.packets.forEach((pkt, index) => {
    const linkType = capture.interfaces[pkt.interfaceId]?.linkType ?? -1;
    const raw = ipPayload(linkType, pkt.bytes);
    const ip = raw && parseIp(raw);
    if (ip === undefined) {
      out.skipped++;
      return;
    }
    const l4 = ip.payload;
    if (ip.protocol === IPPROTO_TCP) {
      const r = decodeTcpHeader(l4, 0, l4.length);
      if (!r.ok) {
        out.skipped++;
        return;
      }
      const seg = r.value;
      out.segments.push({
        index,
        timeNs: pkt.timeNs,
        src: { address: ip.src, port: seg.srcPort },
        dst: { address: ip.dst, port: seg.dstPort },
        segment: seg,
        carrier: 'tcp',
        comments: pkt.comments,
      });
      return;
    }
    if (ip.protocol === IPPROTO_UDP && l4.length >= 8) {
      const srcUdp = (l4[0]! << 8) | l4[1]!;
      const dstUdp = (l4[2]! << 8) | l4[3]!;
      const udpLen = Math.min((l4[4]! << 8) | l4[5]!, l4.length);
      if (udpLen < 8) {
        out.skipped++;
        return;
      }
      const d = decodeDatagram(l4.subarray(8, udpLen));
      if (!d.ok) {
        out.skipped++;
        return;
      }
      if (d.value.kind === 'segment') {
        const seg = d.value.segment;
        out.segments.push({
          index,
          timeNs: pkt.timeNs,
          src: { address: ip.src, port: seg.srcPort, udpPort: srcUdp },
          dst: { address: ip.dst, port: seg.dstPort, udpPort: dstUdp },
          segment: seg,
          carrier: 'stevens-udp',
          comments: pkt.comments,
        });
      } else {
        out.datagrams.push({
          index,
          timeNs: pkt.timeNs,
          src: { address: ip.src, port: d.value.srcPort, udpPort: srcUdp },
          dst: { address: ip.dst, port: d.value.dstPort, udpPort: dstUdp },
          payloadBytes: d.value.payload.length,
        });
      }
      return;
    }
    out.skipped++;
  });
  return out;
}

/** "address:port" (with brackets for IPv6), the UDP port after a slash when there is one. */
export function endpointLabel(e: SegmentEndpoint): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return e.udpPort === undefined ? `${host}:${e.port}` : `${host}:${e.port}/udp${e.udpPort}`;
}

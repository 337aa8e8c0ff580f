// Two ways to look at one stevens datagram in a capture:
//   tcpView: the TCP segment it carries, re-framed as a genuine IPv4/IPv6 + TCP packet between the two hosts'
//            addresses with the segment's own TCP ports and a real TCP checksum, so Wireshark's TCP analysis
//            (retransmissions, dup ACKs, SACK, window full, the Stevens graph) works unchanged;
//   udpView: the datagram as it was sent, inside a synthesized IPv4/IPv6 + UDP header (UDP ports, real checksums),
//            for checking the encapsulation itself (wireshark/stevens.lua decodes it).
// Both return packets for link type RAW (101): the first nibble tells IPv4 from IPv6.
import { wire, type Remote } from '../core/index.js';
import { IPPROTO_TCP, IPPROTO_UDP, UDP_HEADER_BYTES, addressBytes, ipPacket } from './ip.js';

const { CRC_BYTES, ENCAP_HEADER_BYTES, decodeDatagram } = wire;

/** pcap/pcapng link type for raw IP packets (version in the first nibble). */
export const LINKTYPE_RAW = 101;
/** Offset of the checksum field in a TCP header and in a UDP header. */
const TCP_CHECKSUM_OFFSET = 16;
const UDP_CHECKSUM_OFFSET = 6;

/**
 * The TCP segment inside a stevens datagram as an IP + TCP packet from src to dst (only their addresses are used:
 * the TCP ports are the segment's own). undefined when the datagram is not a valid segment datagram: an
 * unreliable datagram, or one that fails the stevens checks (short, bad CRC, bad header).
 * The header and options are copied byte for byte; only the checksum field gets the real TCP checksum.
 */
export function tcpView(datagram: Uint8Array, src: Remote, dst: Remote): Uint8Array | undefined {
  const d = decodeDatagram(datagram);
  if (!d.ok || d.value.kind !== 'segment') return undefined;
  const segment = datagram.subarray(ENCAP_HEADER_BYTES, datagram.length - CRC_BYTES);
  return ipPacket(addressBytes(src.address), addressBytes(dst.address), IPPROTO_TCP, segment, TCP_CHECKSUM_OFFSET);
}

/** Any UDP payload (a stevens datagram, valid or not) as an IP + UDP packet from src to dst, ports included. */
export function udpView(datagram: Uint8Array, src: Remote, dst: Remote): Uint8Array {
  const length = UDP_HEADER_BYTES + datagram.length;
  if (length > 0xffff) throw new RangeError(`a UDP datagram of ${length} bytes is over 65535`);
  const udp = new Uint8Array(length);
  udp[0] = (src.port >>> 8) & 0xff;
  udp[1] = src.port & 0xff;
  udp[2] = (dst.port >>> 8) & 0xff;
  udp[3] = dst.port & 0xff;
  udp[4] = length >>> 8;
  udp[5] = length & 0xff;
  udp.set(datagram, UDP_HEADER_BYTES);
  return ipPacket(addressBytes(src.address), addressBytes(dst.address), IPPROTO_UDP, udp, UDP_CHECKSUM_OFFSET);
}

export type CaptureView = 'tcp' | 'udp';

/**
 * The packet to write for one datagram in the given view. In the TCP view an unreliable datagram (or one that
 * is not a valid stevens datagram) is written as UDP, so nothing that crossed the wire is hidden: `kind` says so.
 */
export function viewPacket(view: CaptureView, datagram: Uint8Array, src: Remote, dst: Remote): { bytes: Uint8Array; kind: 'tcp' | 'udp' } {
  if (view === 'tcp') {
    const tcp = tcpView(datagram, src, dst);
    if (tcp !== undefined) return { bytes: tcp, kind: 'tcp' };
  }
  return { bytes: udpView(datagram, src, dst), kind: 'udp' };
}

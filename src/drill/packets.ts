// Conversion between script packets and wire datagrams: building the inbound ones, and reading outbound ones
// back into script-relative form.

import type { OptionSpec, PacketEvent } from './ast.js';
import type { PacketView, RenderedOption } from './render.js';
import type { SeqSpace } from './seq.js';
import { wire } from '../core/index.js';

const { decodeDatagram, decodeOptionList, encodeOptionList, encodeSegmentDatagram } = wire;
type TcpOption = wire.TcpOption;
type TcpSegment = wire.TcpSegment;

/** Window field of an inbound packet whose line has no `win`. */
export const DEFAULT_INBOUND_WINDOW = 65535;

export interface Ports {
  /** The endpoint's TCP port. */
  local: number;
  /** The script peer's TCP port. */
  peer: number;
}

function inboundOption(o: OptionSpec, space: SeqSpace): TcpOption {
  if (o.kind === 'fastopen' || o.kind === 'md5' || o.kind === 'accecn') throw new Error(`option ${o.kind} reached the wire encoder (the runner refuses it first)`);
  if (o.kind === 'sack') {
    // Inbound SACK blocks acknowledge the endpoint's data: its sequence space.
    return { kind: 'sack', blocks: o.blocks.map((b) => ({ left: space.localAbs(b.left), right: space.localAbs(b.right) })) };
  }
  return o;
}

/** The UDP payload for an inbound script packet (payload bytes are zeros). */
export function buildInbound(p: PacketEvent, space: SeqSpace, ports: Ports): Uint8Array {
  const options = p.options === undefined || p.options === 'any' ? [] : p.options.map((o) => inboundOption(o, space));
  const raw = encodeOptionList(options);
  const segment: TcpSegment & { optionBytes: Uint8Array } = {
    srcPort: ports.peer,
    dstPort: ports.local,
    seq: space.peerAbs(p.seq),
    ack: p.ack === undefined ? 0 : space.localAbs(p.ack),
    flags: p.flags,
    window: p.window ?? DEFAULT_INBOUND_WINDOW,
    checksum: 0,
    urgentPointer: p.urgentPointer ?? 0,
    options: {},
    optionBytes: raw,
    payload: new Uint8Array(p.length),
  };
  return encodeSegmentDatagram(segment);
}

/** The view of an inbound script packet, for --verbose. */
export function inboundView(p: PacketEvent): PacketView {
  return {
    direction: 'in',
    flags: p.flags,
    seq: p.seq,
    length: p.length,
    ack: p.ack,
    window: p.window ?? DEFAULT_INBOUND_WINDOW,
    urgentPointer: p.urgentPointer,
    options: p.options ?? [],
  };
}

export type DecodedOutbound =
  | { kind: 'segment'; segment: TcpSegment }
  | { kind: 'datagram' }
  | { kind: 'error'; reason: string };

export function decodeOutbound(bytes: Uint8Array): DecodedOutbound {
  const r = decodeDatagram(bytes);
  if (!r.ok) return { kind: 'error', reason: `undecodable datagram (${r.reason}, ${bytes.length} bytes)` };
  if (r.value.kind === 'datagram') return { kind: 'datagram' };
  return { kind: 'segment', segment: r.value.segment };
}

/** An outbound segment in script-relative form; options undecodable -> an error string. */
export function outboundView(seg: TcpSegment, space: SeqSpace): PacketView | string {
  let options: RenderedOption[] = [];
  const raw = seg.rawOptions;
  if (raw !== undefined && raw.length > 0) {
    const r = decodeOptionList(raw);
    if (!r.ok) return `outbound segment with undecodable options (${r.reason})`;
    options = r.value.map((o): RenderedOption => {
      // Outbound SACK blocks acknowledge the peer's data: its sequence space.
      if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map((b) => ({ left: space.peerRel(b.left), right: space.peerRel(b.right) })) };
      return o;
    });
  }
  return {
    direction: 'out',
    flags: seg.flags,
    seq: space.localRel(seg.seq),
    length: seg.payload.length,
    ack: space.peerRel(seg.ack),
    window: seg.window,
    urgentPointer: seg.urgentPointer,
    options,
  };
}

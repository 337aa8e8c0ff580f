// Connections in a capture (TCP view, UDP view, or a raw tcpdump of stevens' UDP port), each plotted from the
// direction that carried the most data. A capture has no cwnd; in-flight bytes, RTT (TS echo or data -> ACK
// matching), SRTT and RTO are estimated from what was seen.
import { wire } from '../core/index.js';
import { dissectCapture, endpointLabel, type CapturedSegment, type SegmentEndpoint } from '../capture/dissect.js';
import type { CaptureFile } from '../capture/read.js';
import { ConnectionBuilder, type PlotInput } from './model.js';

const { ACK, FIN, SYN } = wire;

function key(e: SegmentEndpoint): string {
  return `${e.address}|${e.udpPort ?? ''}|${e.port}`;
}

interface Flow {
  a: SegmentEndpoint;
  b: SegmentEndpoint;
  segments: CapturedSegment[];
  /** SYN sequence numbers seen from a and b (a new SYN with another ISN starts a new connection). */
  synA?: number;
  synB?: number;
}

export function plotInputFromCapture(capture: CaptureFile): PlotInput {
  const d = dissectCapture(capture);
  const flows: Flow[] = [];
  const open = new Map<string, Flow>();
  for (const s of d.segments) {
    const ka = key(s.src);
    const kb = key(s.dst);
    const k = ka < kb ? `${ka}#${kb}` : `${kb}#${ka}`;
    let f = open.get(k);
    const isSyn = (s.segment.flags & SYN) !== 0;
    if (f !== undefined && isSyn) {
      // The same ports again with a new ISN: a new connection.
      const fromA = key(f.a) === ka;
      const known = fromA ? f.synA : f.synB;
      if (known !== undefined && known !== s.segment.seq) f = undefined;
    }
    if (f === undefined) {
      f = { a: s.src, b: s.dst, segments: [] };
      open.set(k, f);
      flows.push(f);
    }
    if (isSyn) {
      if (key(f.a) === ka) f.synA ??= s.segment.seq;
      else f.synB ??= s.segment.seq;
    }
    f.segments.push(s);
  }
  const first = capture.packets.length > 0 ? capture.packets.reduce((m, p) => (p.timeNs < m ? p.timeNs : m), capture.packets[0]!.timeNs) : 0n;
  const originMs = Number(first / 1000n) / 1000;
  const sec = (ns: bigint) => Number(ns - first) / 1e9;
  const connections = flows.map((f, i) => buildFlow(f, i + 1, sec));
  const views = new Set(d.segments.map((s) => s.carrier));
  const description = `${capture.format}, ${views.size === 0 ? 'no TCP segments' : [...views].map((v) => (v === 'tcp' ? 'TCP packets' : 'stevens datagrams in UDP')).join(' and ')}`;
  return { kind: 'capture', description, originMs, connections };
}

function buildFlow(f: Flow, index: number, sec: (ns: bigint) => number) {
  const ka = key(f.a);
  let bytesA = 0;
  let bytesB = 0;
  for (const s of f.segments) {
    if (key(s.src) === ka) bytesA += s.segment.payload.length;
    else bytesB += s.segment.payload.length;
  }
  const [snd, rcv] = bytesA >= bytesB ? [f.a, f.b] : [f.b, f.a];
  const ks = key(snd);
  const synS = f.segments.find((s) => key(s.src) === ks && s.segment.flags & SYN);
  const synR = f.segments.find((s) => key(s.src) !== ks && s.segment.flags & SYN);
  const firstS = f.segments.find((s) => key(s.src) === ks);
  const isn = synS ? synS.segment.seq : ((firstS?.segment.seq ?? 0) - 1) >>> 0;
  const b = new ConnectionBuilder(index, `${endpointLabel(snd)} -> ${endpointLabel(rcv)}`, 'capture', isn);
  // RFC 7323 2.2: the receiver's window is scaled only when both SYNs carried the option.
  const wsOk = synS?.segment.options.windowScale !== undefined && synR?.segment.options.windowScale !== undefined;
  const rcvShift = wsOk ? Math.min(14, synR!.segment.options.windowScale!) : 0;
  for (const s of f.segments) {
    const seg = s.segment;
    const t = sec(s.timeNs);
    if (key(s.src) === ks) {
      if (seg.flags & SYN) b.syn(t, seg.options.timestamp?.value);
      else b.segment(t, seg.seq, seg.payload.length, (seg.flags & FIN) !== 0, undefined, seg.options.timestamp?.value);
    } else if (seg.flags & ACK) {
      const window = seg.flags & SYN ? seg.window : seg.window << rcvShift;
      b.ackSegment(t, seg.ack, window, seg.options.sack, seg.options.timestamp?.echo);
    }
  }
  const p = b.finish();
  p.notes.push('cwnd and ssthresh live inside the sender: a capture cannot show them (plot a trace for those)');
  p.notes.push('in flight: estimated as the highest sequence number sent less the highest ACK seen');
  p.notes.push(
    f.segments.some((s) => s.segment.options.timestamp !== undefined)
      ? 'RTT: from timestamp echoes; SRTT and RTO: RFC 6298 applied to those samples'
      : 'RTT: data -> ACK matching (Karn: retransmitted segments skipped); SRTT and RTO: RFC 6298 applied to those samples',
  );
  if (!synS) p.notes.push('the SYN is not in the capture: sequence numbers are relative to the first segment seen');
  if (!wsOk && synS) p.notes.push('no window scaling negotiated (or not seen): windows shown unscaled');
  return p;
}

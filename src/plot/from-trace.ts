// Connections in a JSON-lines trace (src/capture/trace.ts): one per (endpoint label, connection id), each plotted
// from its own side: what it sent, the ACKs it received, its cwnd, ssthresh, RTT samples, SRTT and RTO.
import { wire } from '../core/index.js';
import type { TraceRecord } from '../capture/trace.js';
import { ConnectionBuilder, type PlotInput } from './model.js';

const { ACK, FIN, SYN } = wire;

export function plotInputFromTrace(records: TraceRecord[]): PlotInput {
  const groups = new Map<string, TraceRecord[]>();
  let originMs = Infinity;
  for (const r of records) {
    if (r.atMs < originMs) originMs = r.atMs;
    if (r.type === 'drop' || r.connectionId === undefined) continue;
    const k = `${r.endpoint ?? ''}#${r.connectionId}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(r);
  }
  if (!Number.isFinite(originMs)) originMs = 0;
  const sec = (ms: number) => (ms - originMs) / 1000;
  const connections = [...groups.entries()].map(([k, events], i) => {
    const [endpoint, id] = [k.slice(0, k.lastIndexOf('#')), k.slice(k.lastIndexOf('#') + 1)];
    const synSent = events.find((e) => e.type === 'send' && e.flags & SYN);
    const firstSend = events.find((e) => e.type === 'send');
    const isn = synSent?.type === 'send' ? synSent.seq : firstSend?.type === 'send' ? (firstSend.seq - 1) >>> 0 : 0;
    const b = new ConnectionBuilder(i + 1, `${endpoint === '' ? 'endpoint' : endpoint}#${id}`, 'trace', isn);
    for (const e of events) {
      const t = sec(e.atMs);
      switch (e.type) {
        case 'send':
          if (e.flags & SYN) b.syn(t);
          else b.segment(t, e.seq, e.lengthBytes, (e.flags & FIN) !== 0, e.retransmit);
          break;
        case 'receive':
          if (e.flags & ACK) b.ackSegment(t, e.ack, e.windowBytes, undefined);
          break;
        case 'rtt':
          b.rttEvent(t, e.sampleMs, e.srttMs, e.rtoMs);
          break;
        case 'cwnd':
          b.cwndEvent(t, e.cwndBytes, e.ssthreshBytes);
          break;
        case 'rto':
          b.timeout(t, e.rtoMs);
          break;
        default:
          break;
      }
    }
    const p = b.finish();
    p.notes.push('SACK blocks are not in trace events: plot a capture of the same run to see them');
    p.notes.push('in flight: estimated as the highest sequence number sent less the highest ACK received');
    if (!b.usesTraceRtt) p.notes.push('no RTT events in the trace: RTT estimated from data -> ACK matching');
    return p;
  });
  return { kind: 'trace', description: 'JSON-lines trace', originMs, connections };
}

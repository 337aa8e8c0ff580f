// What a plot shows for one connection, whatever it came from (a capture or a trace): series of [time, value]
// points on a time axis shared by every connection of the input (seconds since the input's first packet or
// event). Sequence numbers are relative to the sender's first data byte (ISN + 1), unwrapped past 2^32.
import { seqDiff } from '../core/index.js';

export type Point = [number, number];

export interface ConnectionPlot {
  /** 1-based, in order of first appearance. */
  index: number;
  /** "client#1 192.0.2.1:49152 -> 192.0.2.2:5000" or similar. */
  label: string;
  source: 'capture' | 'trace';
  /** New data bytes the plotted (sending) direction carried. */
  dataBytes: number;
  dataSegments: number;
  retransmissions: number;
  firstS: number;
  lastS: number;
  /** Time-sequence graph: segments sent (their relative seq), retransmissions, the ACK line, the window's edge. */
  sent: Point[];
  retransmitted: Point[];
  ack: Point[];
  windowEdge: Point[];
  /** SACK blocks as [t, left, right]. */
  sack: [number, number, number][];
  cwnd: Point[];
  ssthresh: Point[];
  inFlight: Point[];
  /** RTT samples, SRTT and RTO, in ms. */
  rtt: Point[];
  srtt: Point[];
  rto: Point[];
  /** Retransmission timeouts that fired: [t, the RTO in ms]. */
  timeouts: Point[];
  /** Acknowledged bytes per time bin, bits per second, at each bin's start. */
  goodput: Point[];
  /** What was estimated or is missing, for the reader. */
  notes: string[];
}

export interface PlotInput {
  kind: 'capture' | 'trace';
  /** e.g. "pcapng, TCP view" or "JSON-lines trace". */
  description: string;
  /** Absolute time of t = 0, in ms (epoch for captures, the trace's clock for traces). */
  originMs: number;
  connections: ConnectionPlot[];
}

/** Relative, unwrapped sequence numbers from a base. */
export class SeqUnwrapper {
  private lastRaw: number;
  private lastRel = 0;
  constructor(readonly base: number) {
    this.lastRaw = base >>> 0;
  }
  rel(raw: number): number {
    const r = this.lastRel + seqDiff(raw >>> 0, this.lastRaw);
    if (r > this.lastRel) {
      this.lastRel = r;
      this.lastRaw = raw >>> 0;
    }
    return r;
  }
}

/** The minimum RTO stevens uses by default (config.ts), for RTO estimates from captures. */
const MIN_RTO_MS = 200;

/**
 * Accumulates one sending direction's events in time order and derives what a capture cannot say directly:
 * in-flight bytes, RTT samples (TS echo, else data -> ACK matching with Karn's rule), SRTT and RTO estimates
 * (RFC 6298), goodput.
 */
export class ConnectionBuilder {
  readonly plot: ConnectionPlot;
  private readonly seq: SeqUnwrapper;
  private highestEnd = 0;
  private highestAck = Number.NEGATIVE_INFINITY;
  private readonly tsSent = new Map<number, number>();
  /** First transmissions not yet acknowledged: [end, t, retransmitted]. */
  private readonly unacked: { end: number; t: number; rel: number; retransmitted: boolean }[] = [];
  private readonly ackAdvances: Point[] = [];
  private haveRttEvents = false;
  private estSrtt: number | undefined;
  private estRttvar = 0;

  constructor(index: number, label: string, source: 'capture' | 'trace', isn: number) {
    this.seq = new SeqUnwrapper((isn + 1) >>> 0);
    this.plot = {
      index,
      label,
      source,
      dataBytes: 0,
      dataSegments: 0,
      retransmissions: 0,
      firstS: Infinity,
      lastS: -Infinity,
      sent: [],
      retransmitted: [],
      ack: [],
      windowEdge: [],
      sack: [],
      cwnd: [],
      ssthresh: [],
      inFlight: [],
      rtt: [],
      srtt: [],
      rto: [],
      timeouts: [],
      goodput: [],
      notes: [],
    };
  }

  private touch(t: number): void {
    if (t < this.plot.firstS) this.plot.firstS = t;
    if (t > this.plot.lastS) this.plot.lastS = t;
  }

  /**
   * A data or FIN segment of the sending direction. `retransmit`: what the sender said (traces); undefined: judged
   * from the sequence numbers (a segment that does not advance the highest sequence number sent).
   */
  segment(t: number, seqRaw: number, len: number, fin: boolean, retransmit?: boolean, tsVal?: number): void {
    this.touch(t);
    const rel = this.seq.rel(seqRaw);
    const end = rel + len + (fin ? 1 : 0);
    if (end === rel) return;
    const isRetransmit = retransmit ?? rel < this.highestEnd;
    if (isRetransmit) {
      this.plot.retransmitted.push([t, rel]);
      this.plot.retransmissions++;
      for (const u of this.unacked) if (u.rel <= rel && rel < u.end) u.retransmitted = true;
    } else {
      this.plot.sent.push([t, rel]);
      this.plot.dataSegments++;
      this.plot.dataBytes += Math.max(0, Math.min(len, end - this.highestEnd));
      this.unacked.push({ end, t, rel, retransmitted: false });
      if (tsVal !== undefined && !this.tsSent.has(tsVal)) this.tsSent.set(tsVal, t);
    }
    if (end > this.highestEnd) this.highestEnd = end;
    this.pushInFlight(t);
  }

  /** A SYN of the sending direction (only its timestamp matters, for RTT from TS echo). */
  syn(t: number, tsVal?: number): void {
    this.touch(t);
    if (tsVal !== undefined && !this.tsSent.has(tsVal)) this.tsSent.set(tsVal, t);
  }

  /** An ACK from the receiving direction; windowBytes already scaled; SACK blocks raw. */
  ackSegment(t: number, ackRaw: number, windowBytes: number | undefined, sack: { left: number; right: number }[] | undefined, tsEcr?: number): void {
    this.touch(t);
    const rel = this.seq.rel(ackRaw);
    if (rel < 0 || rel > this.highestEnd + (1 << 30)) return;
    this.plot.ack.push([t, rel]);
    if (windowBytes !== undefined) this.plot.windowEdge.push([t, rel + windowBytes]);
    if (sack !== undefined) for (const b of sack) this.plot.sack.push([t, this.seq.rel(b.left), this.seq.rel(b.right)]);
    if (rel > this.highestAck) {
      const prev = this.highestAck;
      this.highestAck = rel;
      if (Number.isFinite(prev)) this.ackAdvances.push([t, rel - prev]);
      // RTT from captures: the TS echo when there is one, else the newest segment this ACK covers (Karn: never a
      // retransmitted one).
      let sample: number | undefined;
      if (tsEcr !== undefined && this.tsSent.has(tsEcr)) sample = (t - this.tsSent.get(tsEcr)!) * 1000;
      let last: (typeof this.unacked)[number] | undefined;
      let i = 0;
      while (i < this.unacked.length && this.unacked[i]!.end <= rel) last = this.unacked[i++];
      if (i > 0) this.unacked.splice(0, i);
      if (sample === undefined && tsEcr === undefined && last !== undefined && !last.retransmitted) sample = (t - last.t) * 1000;
      if (sample !== undefined && !this.haveRttEvents) this.estimateRtt(t, sample);
    }
    this.pushInFlight(t);
  }

  private estimateRtt(t: number, sampleMs: number): void {
    this.plot.rtt.push([t, sampleMs]);
    // RFC 6298 2.2 and 2.3.
    if (this.estSrtt === undefined) {
      this.estSrtt = sampleMs;
      this.estRttvar = sampleMs / 2;
    } else {
      this.estRttvar = 0.75 * this.estRttvar + 0.25 * Math.abs(this.estSrtt - sampleMs);
      this.estSrtt = 0.875 * this.estSrtt + 0.125 * sampleMs;
    }
    this.plot.srtt.push([t, this.estSrtt]);
    this.plot.rto.push([t, Math.max(MIN_RTO_MS, this.estSrtt + 4 * this.estRttvar)]);
  }

  private pushInFlight(t: number): void {
    if (!Number.isFinite(this.highestAck)) return;
    this.plot.inFlight.push([t, Math.max(0, this.highestEnd - this.highestAck)]);
  }

  /** RTT as the sender measured it (traces). */
  rttEvent(t: number, sampleMs: number, srttMs: number, rtoMs: number): void {
    if (!this.haveRttEvents) {
      this.haveRttEvents = true;
      this.plot.rtt.length = 0;
      this.plot.srtt.length = 0;
      this.plot.rto.length = 0;
    }
    this.touch(t);
    this.plot.rtt.push([t, sampleMs]);
    this.plot.srtt.push([t, srttMs]);
    this.plot.rto.push([t, rtoMs]);
  }

  cwndEvent(t: number, cwnd: number, ssthresh: number | null | undefined): void {
    this.touch(t);
    this.plot.cwnd.push([t, cwnd]);
    if (typeof ssthresh === "number" && Number.isFinite(ssthresh) && ssthresh < 0x7fffffff) this.plot.ssthresh.push([t, ssthresh]);
  }

  timeout(t: number, rtoMs: number): void {
    this.touch(t);
    this.plot.timeouts.push([t, rtoMs]);
  }

  /** Goodput bins and the final notes. */
  finish(): ConnectionPlot {
    const p = this.plot;
    if (!Number.isFinite(p.firstS)) p.firstS = p.lastS = 0;
    const span = Math.max(p.lastS - p.firstS, 1e-3);
    // Bins of at least two round trips, so a window's worth of ACKs arriving together does not read as a spike.
    const rtts = p.rtt.map((x) => x[1]).sort((a, b) => a - b);
    const medianRttS = rtts.length > 0 ? rtts[Math.floor(rtts.length / 2)]! / 1000 : 0;
    const bin = Math.max(span / 100, 2 * medianRttS, 0.01);
    const bins = new Map<number, number>();
    for (const [t, bytes] of this.ackAdvances) {
      const k = Math.floor((t - p.firstS) / bin);
      bins.set(k, (bins.get(k) ?? 0) + bytes);
    }
    const nBins = Math.floor(span / bin) + 1;
    for (let k = 0; k < nBins; k++) p.goodput.push([p.firstS + k * bin, ((bins.get(k) ?? 0) * 8) / bin]);
    return p;
  }

  get usesTraceRtt(): boolean {
    return this.haveRttEvents;
  }
}

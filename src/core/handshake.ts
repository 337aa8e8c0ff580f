// The three-way handshake (RFC 9293 3.5): active and passive opens, the options the two SYNs negotiate (MSS,
// window scale, SACK-permitted, timestamps), SYN-SENT's processing of arriving segments (3.10.7.3), and
// SYN-RECEIVED's own cases: the peer's SYN again, a simultaneous open, and the ACK that completes the handshake.
import type { Connection } from './connection.js';
import { connectionError } from './errors.js';
import { MAX_WINDOW_SHIFT } from './receive-window.js';
import { seqAdd, seqGt, seqLe } from './seq.js';
import { booleanOf, fieldsOf, numberOf, toPlain, type Plain } from './snapshot.js';
import type { CookieOptions } from './syn-cookies.js';
import { Timer } from './timers.js';
import { ACK, RST, SYN, type TcpSegment } from './wire/segment.js';

/** RFC 9293 3.7.1: the MSS assumed when the peer sends none. */
export const DEFAULT_PEER_MSS = 536;

export class Handshake {
  /** The SYN (or SYN-ACK) is due: first sent, or resent by the retransmission timer. */
  synPending = true;
  /** When the last SYN or SYN-ACK left (its RTT sample). */
  synSentMs = 0;
  /** The handshake gives no RTT sample (a SYN cookie's: the SYN-ACK's time and TSval are not ours to know). */
  private untimed = false;
  /** The peer's SYN carried an MSS option (our SYN-ACK answers only what was offered). */
  peerOfferedMss = true;
  /**
   * Passive opens: bytes we may still send towards the peer before it is validated (received minus sent; the
   * handshake's third segment validates it). Anti-amplification: we never send more than we received (1x).
   */
  private creditBytes = Infinity;

  constructor(private readonly c: Connection) {}

  /** Active open (RFC 9293 3.10.1): SYN-SENT, SYN on the next poll. */
  openActive(nowMs: number): void {
    const c = this.c;
    c.nowMs = nowMs;
    c.setState('SYN-SENT', nowMs);
    c.lastReceiveMs = nowMs;
    c.host.wantsTransmit(c);
  }

  /** Passive open: the SYN that created this connection from a listener (RFC 9293 3.10.7.2). */
  openPassive(nowMs: number, seg: TcpSegment, synDatagramBytes: number): void {
    const c = this.c;
    c.nowMs = nowMs;
    this.creditBytes = synDatagramBytes;
    this.onPeerSyn(seg);
    c.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 2.2)
    c.maxSndWnd = c.sndWnd;
    c.lastReceiveMs = nowMs;
    c.setState('SYN-RECEIVED', nowMs);
    c.host.wantsTransmit(c);
  }

  /** The peer's SYN: its sequence numbers, and its options applied (ours offered everything the config enables). */
  private onPeerSyn(seg: TcpSegment): void {
    const c = this.c;
    const cfg = c.config;
    const opts = seg.options;
    c.irs = seg.seq;
    c.receiveBuffer.rcvNxt = seqAdd(seg.seq, 1);
    this.peerOfferedMss = opts.mss !== undefined;
    c.peerMss = opts.mss !== undefined && opts.mss > 0 ? opts.mss : DEFAULT_PEER_MSS;
    // RFC 7323 2.2: scaling applies only when both SYNs carried the option.
    c.wscaleOk = cfg.windowScaling && opts.windowScale !== undefined;
    c.sndShift = c.wscaleOk ? Math.min(opts.windowScale!, MAX_WINDOW_SHIFT) : 0;
    c.window.onSynchronized(c.receiveBuffer.rcvNxt, c.wscaleOk);
    c.sackOk = cfg.sack && opts.sackPermitted === true;
    c.ts.ok = cfg.timestamps && opts.timestamp !== undefined;
    c.cc.setMss(c.mssBytes);
    if (c.ts.ok) c.ts.recent = opts.timestamp!.value;
  }

  /**
   * A connection built from a valid SYN cookie, as if its SYN-ACK had just been sent: the ACK that carried the
   * cookie is processed next, the ordinary SYN-RECEIVED way. `synAckWindow` is the window that SYN-ACK offered.
   */
  openFromCookie(nowMs: number, peerIsn: number, peerMss: number, options: CookieOptions, peerTsValue: number | undefined, synAckWindow: number): void {
    const c = this.c;
    const cfg = c.config;
    c.nowMs = nowMs;
    c.irs = peerIsn;
    c.receiveBuffer.rcvNxt = seqAdd(peerIsn, 1);
    c.peerMss = peerMss;
    c.wscaleOk = cfg.windowScaling && peerTsValue !== undefined && options.windowScale !== undefined;
    c.sndShift = c.wscaleOk ? Math.min(options.windowScale!, MAX_WINDOW_SHIFT) : 0;
    c.window.onSynchronized(c.receiveBuffer.rcvNxt, c.wscaleOk);
    c.sackOk = cfg.sack && peerTsValue !== undefined && options.sackPermitted;
    c.ts.ok = cfg.timestamps && peerTsValue !== undefined;
    c.cc.setMss(c.mssBytes);
    if (c.ts.ok) c.ts.recent = peerTsValue!;
    c.window.onSynSent(c.receiveBuffer.rcvNxt, synAckWindow);
    c.sndNxt = seqAdd(c.iss, 1);
    c.lastReceiveMs = nowMs;
    this.synPending = false;
    this.untimed = true;
    this.creditBytes = Infinity;
    c.setState('SYN-RECEIVED', nowMs);
  }

  /** A datagram of `bytes` arrived from the peer while it is not validated: that much more may be sent to it. */
  onUnvalidatedInput(bytes: number): void {
    if (this.creditBytes !== Infinity) this.creditBytes += bytes;
  }

  /** May a datagram of `bytes` go to a peer not yet validated? Spends the credit when it may. */
  spend(bytes: number): boolean {
    if (this.creditBytes === Infinity || this.c.state !== 'SYN-RECEIVED') return true;
    if (bytes > this.creditBytes) return false;
    this.creditBytes -= bytes;
    return true;
  }

  /** RFC 9293 3.10.7.3: a segment arrives in SYN-SENT. */
  onSegmentInSynSent(nowMs: number, seg: TcpSegment): void {
    const c = this.c;
    const flags = seg.flags;
    // First, the ACK bit.
    if (flags & ACK) {
      if (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndNxt)) {
        if (!(flags & RST)) c.output.sendReset(seg.ack, 0, false);
        c.countDrop('bad-ack');
        return;
      }
    }
    // Second, the RST bit: only with an acceptable ACK (RFC 5961 3.2's SYN-SENT rule).
    if (flags & RST) {
      if (flags & ACK) c.enterClosed(connectionError('ECONNREFUSED', 'connection refused by peer'));
      else c.countDrop('rst-without-ack');
      return;
    }
    // Fourth, the SYN bit.
    if (!(flags & SYN)) {
      c.countDrop('no-syn');
      return;
    }
    c.heard(nowMs);
    this.onPeerSyn(seg);
    if (flags & ACK) {
      c.sndUna = seg.ack;
      c.sndWnd = seg.window; // RFC 7323 2.2: a SYN's window is never scaled.
      c.sndWl1 = seg.seq;
      c.sndWl2 = seg.ack;
      c.maxSndWnd = c.sndWnd;
      this.completed(nowMs, seg, 'ESTABLISHED');
      c.delack.ackNow = true;
      // Data or FIN carried on the SYN-ACK (RFC 9293: continue at the sixth step).
      c.processDataAndFin(nowMs, seg, seqAdd(seg.seq, 1));
      if (c.finQueued && c.state === 'ESTABLISHED') c.setState('FIN-WAIT-1', nowMs);
      else if (c.finQueued && c.state === 'CLOSE-WAIT') c.setState('LAST-ACK', nowMs);
    } else {
      // Simultaneous open: SYN-RECEIVED, our SYN is sent again as a SYN-ACK.
      c.sndWnd = seg.window;
      c.maxSndWnd = c.sndWnd;
      this.synPending = true;
      c.host.wantsTransmit(c);
      c.setState('SYN-RECEIVED', nowMs);
      c.timers.clear(Timer.Retransmit);
    }
  }

  /** SYN-RECEIVED's cases before the sequence check; true when the segment was dealt with here. */
  onSegmentInSynReceived(nowMs: number, seg: TcpSegment): boolean {
    const c = this.c;
    const flags = seg.flags;
    // The peer retransmitted its SYN (our SYN-ACK was lost): answer with the SYN-ACK again.
    if (flags & SYN && !(flags & ACK) && seg.seq === c.irs) {
      c.heard(nowMs);
      this.synPending = true;
      c.host.wantsTransmit(c);
      return true;
    }
    // Simultaneous open: the peer's SYN-ACK repeats its SYN (SEQ = IRS) and acknowledges ours; RFC 9293
    // Figure 8 goes to ESTABLISHED here (the sequence check would otherwise reject the SYN).
    if ((flags & (SYN | ACK | RST)) === (SYN | ACK) && seg.seq === c.irs && seg.ack === c.sndNxt && !this.synPending) {
      c.heard(nowMs);
      c.sndUna = seg.ack;
      c.sndWnd = seg.window;
      c.sndWl1 = seg.seq;
      c.sndWl2 = seg.ack;
      c.timers.clear(Timer.Retransmit);
      this.sampleRtt(nowMs, seg);
      c.setState(c.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED', nowMs);
      c.announce('connected');
      c.delack.ackNow = true;
      return true;
    }
    return false;
  }

  /** SYN-RECEIVED, fifth step: the ACK of our SYN completes the handshake. False: the segment is dropped. */
  onAckInSynReceived(nowMs: number, seg: TcpSegment): boolean {
    const c = this.c;
    if (seqLe(seg.ack, c.sndUna) || seqGt(seg.ack, c.sndNxt)) {
      c.output.sendReset(seg.ack, 0, false);
      c.countDrop('bad-ack');
      return false;
    }
    c.sndWnd = seg.window << c.sndShift;
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    this.completed(nowMs, seg, c.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED', seg.ack);
    return true;
  }

  /** Our SYN was acknowledged: the timer stops, the RTT is sampled, the application is told. */
  private completed(nowMs: number, seg: TcpSegment, next: 'ESTABLISHED' | 'FIN-WAIT-1', sndUna?: number): void {
    const c = this.c;
    c.timers.clear(Timer.Retransmit);
    this.sampleRtt(nowMs, seg);
    if (sndUna !== undefined) c.sndUna = sndUna;
    if (c.retransmitTimer.synRetransmitted) c.rtt.resetAfterSynTimeout();
    this.creditBytes = Infinity;
    c.setState(next, nowMs);
    c.announce(c.active ? 'connected' : 'accepted');
  }

  /** The handshake's RTT: from the timestamp echo, or from the SYN if it was sent once (Karn). */
  private sampleRtt(nowMs: number, seg: TcpSegment): void {
    const c = this.c;
    if (this.untimed) return;
    const ts = seg.options.timestamp;
    if (c.ts.ok && ts !== undefined && ts.echo !== 0) {
      const d = (c.ts.now(nowMs) - ts.echo) | 0;
      if (d >= 0) c.acks.onRttSample(nowMs, d);
    } else if (!c.retransmitTimer.synRetransmitted) {
      c.acks.onRttSample(nowMs, nowMs - this.synSentMs);
    }
  }

  save(): Plain {
    return { synPending: this.synPending, synSentMs: this.synSentMs, untimed: this.untimed, peerOfferedMss: this.peerOfferedMss, creditBytes: toPlain(this.creditBytes) };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'handshake');
    this.synPending = booleanOf(f, 'synPending');
    this.synSentMs = numberOf(f, 'synSentMs');
    this.untimed = booleanOf(f, 'untimed');
    this.peerOfferedMss = booleanOf(f, 'peerOfferedMss');
    this.creditBytes = numberOf(f, 'creditBytes');
  }
}

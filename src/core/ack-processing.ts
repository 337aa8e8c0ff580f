// What an arriving ACK means for the sender (RFC 9293 3.10.7.4's fifth step, with RFC 5961 5.2's acceptable
// range): SACK blocks onto the scoreboard (RFC 2018), duplicate ACKs (RFC 5681 2), SND.UNA and the send buffer,
// RTT samples (RFC 6298 3 with Karn's rule, RFC 7323 4.1), congestion window growth, loss recovery's view of the
// ACK, the retransmission, reordering and persist timers, and the send window from the newest segment.
import type { Connection } from './connection.js';
import type { AckInfo } from './loss-recovery.js';
import type { SackUpdate, SentSegment } from './sack-scoreboard.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import { Timer } from './timers.js';
import { FIN, SYN, type TcpSegment } from './wire/segment.js';

const NONE_DELIVERED: SentSegment[] = [];
/** What an ACK meant, handed to loss recovery (which keeps nothing of it): one object for every connection,
 * refilled per ACK (ACKs are processed one at a time), so it is no connection's state. */
const INFO: AckInfo = { ack: 0, advanced: false, duplicate: false, sack: undefined, tsEcho: undefined, delivered: NONE_DELIVERED, srttMs: 0 };

export class AckProcessing {
  constructor(private readonly c: Connection) {}

  /** The segment's ACK field, in a synchronized state. Returns false when the segment is to be dropped. */
  onAck(nowMs: number, seg: TcpSegment): boolean {
    const c = this.c;
    const ack = seg.ack;
    const board = c.board;
    const recovery = c.recovery;
    // RFC 5961 5.2: ACKs older than one maximum window, or for data never sent, are answered and dropped.
    if (seqGt(ack, c.sndNxt) || seqLt(ack, seqAdd(c.sndUna, -Math.max(c.maxSndWnd, 1)))) {
      c.countDrop('bad-ack');
      c.ackInvalid(nowMs, seg);
      return false;
    }
    const window = seg.window << c.sndShift;
    let sack: SackUpdate | undefined;
    const blocks = seg.options.sack;
    // Only RACK wants the delivered segments: the common case allocates no list and no callback.
    const delivered: SentSegment[] = recovery.rack !== undefined ? [] : NONE_DELIVERED;
    const collect = recovery.rack !== undefined ? (s: SentSegment) => delivered.push(s) : undefined;
    if (c.sackOk && blocks !== undefined && blocks.length > 0) {
      sack = board.applySack(blocks, ack, collect);
      c.counters.sackedBytes += sack.newlySackedBytes;
    }
    const advanced = seqGt(ack, c.sndUna);
    // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no data, and leaves the window alone.
    const duplicate = !advanced && ack === c.sndUna && seg.payload.length === 0 && !(seg.flags & (FIN | SYN)) && window === c.sndWnd && !board.isEmpty;
    if (duplicate) c.counters.duplicateAcks++;
    if (advanced) this.onNewAck(nowMs, seg, ack, collect);

    // Loss detection and recovery (part of the ACK's meaning, before the window decides what may be sent).
    // (A D-SACK after everything was acknowledged still matters: it may undo the episode.)
    if (!board.isEmpty || advanced || sack !== undefined) {
      const info = INFO;
      info.ack = ack;
      info.advanced = advanced;
      info.duplicate = duplicate;
      info.sack = sack;
      info.tsEcho = c.ts.ok ? seg.options.timestamp?.echo : undefined;
      info.delivered = delivered;
      info.srttMs = c.rtt.srttMs;
      const before = recovery.state;
      recovery.onAck(nowMs, info, c.mssBytes, c.sndNxt);
      this.armReorderTimer(nowMs);
      // RFC 8985 7.2: no tail loss probe during recovery; a probe timer armed before it becomes the RTO.
      if (recovery.tlp.timerIsProbe && !recovery.canProbe()) c.retransmitTimer.arm(nowMs);
      if (recovery.state !== before || recovery.fastRetransmitNow) {
        if (c.host.trace) c.traceCwnd(nowMs);
        c.host.wantsTransmit(c);
      }
      if (duplicate || sack !== undefined) c.host.wantsTransmit(c);
      info.sack = undefined;
      info.delivered = NONE_DELIVERED;
    }

    // RFC 9293 3.10.7.4: update the send window from the newest segment only.
    if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLe(c.sndWl2, ack))) {
      const opened = window > c.sndWnd;
      c.sndWnd = window;
      c.sndWl1 = seg.seq;
      c.sndWl2 = ack;
      if (window > c.maxSndWnd) c.maxSndWnd = window;
      if (opened) c.host.wantsTransmit(c);
      c.host.trace?.({ type: 'window', atMs: nowMs, connectionId: c.id, sendWindowBytes: c.sndWnd, receiveWindowBytes: c.window.offeredBytes(c.receiveBuffer.rcvNxt) });
    }
    if (c.persist.onAck(c.sndWnd)) {
      // The window opened: a probe byte the peer did not take (it opened the window with a pure update) goes
      // again now.
      const head = board.first();
      if (head !== undefined && head.seq === ack) board.markLost(head);
      if (!board.isEmpty) c.retransmitTimer.arm(nowMs);
      c.host.wantsTransmit(c);
    }
    return c.state !== 'CLOSED';
  }

  /** SND.UNA moves: release acknowledged bytes, sample the RTT, grow the window, restart the timer. */
  private onNewAck(nowMs: number, seg: TcpSegment, ack: number, onDelivered: ((s: SentSegment) => void) | undefined): void {
    const c = this.c;
    const pipeBefore = c.recovery.pipeBytes(c.mssBytes);
    // Bytes of data (not SYN/FIN) newly acknowledged leave the send buffer.
    const dataEnd = c.finSeq();
    const dataAcked = Math.max(0, seqDiff(seqLt(ack, dataEnd) ? ack : dataEnd, c.sndBufSeq));
    if (dataAcked > 0) {
      c.sendBuffer.acknowledge(dataAcked);
      c.sndBufSeq = seqAdd(c.sndBufSeq, dataAcked);
    }
    // RFC 6298 3 (Karn): only segments sent once give samples, unless timestamps identify the transmission.
    const newestOnceSentMs = c.board.acknowledge(ack, onDelivered);
    const ts = seg.options.timestamp;
    if (c.ts.ok && ts !== undefined && ts.echo !== 0) {
      // RFC 7323 4.1: every ACK that acknowledges new data gives a sample, retransmissions included.
      const d = (c.ts.now(nowMs) - ts.echo) | 0;
      if (d >= 0) this.onRttSample(nowMs, d);
    } else if (newestOnceSentMs >= 0) {
      this.onRttSample(nowMs, nowMs - newestOnceSentMs);
    }
    c.sndUna = ack;
    c.retransmitTimer.onProgress();
    c.lastProgressMs = nowMs;
    const tlp = c.recovery.tlp;
    if (tlp.highSeq === undefined) tlp.timerIsProbe = false;
    // RFC 5681: the window grows on new ACKs, except during fast recovery (RFC 6675 holds cwnd there).
    if (dataAcked > 0 && c.recovery.state !== 'recovery') {
      c.cc.onAck(nowMs, dataAcked, pipeBefore, c.rtt.srttMs);
      if (c.host.trace) c.traceCwnd(nowMs);
    }
    // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, restart it otherwise.
    if (c.board.isEmpty) c.timers.clear(Timer.Retransmit);
    else if (!c.persist.armed) c.retransmitTimer.arm(nowMs);
    c.onSndUnaAdvanced(nowMs);
  }

  /** An RTT sample (ms) reaches the estimator. */
  onRttSample(nowMs: number, sampleMs: number): void {
    const c = this.c;
    c.rtt.onSample(sampleMs);
    c.host.trace?.({ type: 'rtt', atMs: nowMs, connectionId: c.id, sampleMs, srttMs: c.rtt.srttMs, rttvarMs: c.rtt.rttvarMs, rtoMs: c.rtt.rtoMs });
  }

  /** RFC 8985 6.3: RACK asks to look again when a segment's reordering allowance runs out. */
  armReorderTimer(nowMs: number): void {
    const c = this.c;
    const wait = c.recovery.reorderWaitMs;
    if (wait === undefined) c.timers.clear(Timer.Reorder);
    else c.timers.set(Timer.Reorder, nowMs + wait);
  }
}

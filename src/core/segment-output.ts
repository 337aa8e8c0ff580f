// What a connection sends, decided when the driver polls (so ACKs coalesce and Nagle can wait): the SYN or
// SYN-ACK, queued unreliable datagrams, probes, retransmissions chosen by loss recovery, new data within the
// windows, a lone FIN, and last bare ACKs (keepalive, challenge, delayed or immediate). Each segment is built
// and sealed here; RSTs too.
import { ENCAP_OVERHEAD_BYTES } from './config.js';
import type { Connection } from './connection.js';
import type { SentSegment } from './sack-scoreboard.js';
import { seqAdd, seqDiff } from './seq.js';
import { fieldsOf, numberOf, type Plain } from './snapshot.js';
import { TIMESTAMP_OPTION_BYTES } from './timestamps.js';
import { Timer } from './timers.js';
import { TCP_MAX_WINDOW_FIELD } from './receive-window.js';
import { allocSegmentDatagram, allocSynchronizedSegmentDatagram, encodeUnreliableDatagram, sealDatagram, CRC_BYTES } from './wire/encapsulation.js';
import { maxSackBlocks } from './wire/tcp-options.js';
import { TCP_HEADER_BYTES } from './wire/tcp-header.js';
import { ACK, FIN, PSH, RST, SYN, type SackBlock, type TcpOptions } from './wire/segment.js';

export class SegmentOutput {
  /** When the last segment left (RFC 5681 4.1's idle restart). */
  private lastSendMs = 0;
  /** Counts every data transmission, so the scoreboard knows which was sent after which. */
  private sendOrder = 0;

  constructor(private readonly c: Connection) {}

  /** The next datagram this connection wants to send now, or undefined. */
  poll(nowMs: number): Uint8Array | undefined {
    const c = this.c;
    switch (c.state) {
      case 'CLOSED':
        return undefined;
      case 'SYN-SENT':
        return c.handshake.synPending ? this.sendSyn(nowMs, false) : undefined;
      case 'SYN-RECEIVED':
        return c.handshake.synPending ? this.sendSyn(nowMs, true) : this.pollAckOnly(nowMs);
    }
    if (c.datagrams.outbound.length > 0) {
      const payload = c.datagrams.outbound.shift()!;
      c.counters.datagramsSent++;
      return encodeUnreliableDatagram(c.localPort, c.remotePort, payload);
    }
    return this.pollData(nowMs) ?? this.pollAckOnly(nowMs);
  }

  private sendSyn(nowMs: number, synAck: boolean): Uint8Array {
    const c = this.c;
    const cfg = c.config;
    // A SYN-ACK answers only what the SYN offered, the MSS too: never larger than the SYN (1x amplification).
    const options: TcpOptions = synAck && !c.handshake.peerOfferedMss ? {} : { mss: c.localMss };
    if (synAck) {
      // Only what the peer offered is answered (RFC 7323 1.3, RFC 2018 2).
      if (c.sackOk) options.sackPermitted = true;
      if (c.ts.ok) options.timestamp = { value: c.ts.now(nowMs), echo: c.ts.recent };
      if (c.wscaleOk) options.windowScale = c.window.shift;
    } else {
      if (cfg.sack) options.sackPermitted = true;
      if (cfg.timestamps) options.timestamp = { value: c.ts.now(nowMs), echo: 0 };
      if (cfg.windowScaling) options.windowScale = c.window.offeredShift;
    }
    const rb = c.receiveBuffer;
    const window = Math.min(rb.freeBytes, TCP_MAX_WINDOW_FIELD);
    const flags = synAck ? SYN | ACK : SYN;
    const ack = synAck ? rb.rcvNxt : 0;
    const bytes = allocSegmentDatagram({ srcPort: c.localPort, dstPort: c.remotePort, seq: c.iss, ack, flags, window, checksum: 0, urgentPointer: 0, options }, 0);
    sealDatagram(bytes);
    c.window.onSynSent(rb.rcvNxt, window);
    const retransmit = c.retransmitTimer.synRetries > 0;
    c.handshake.synPending = false;
    c.handshake.synSentMs = nowMs;
    c.sndNxt = seqAdd(c.iss, 1);
    c.retransmitTimer.arm(nowMs);
    this.afterSend(nowMs, c.iss, ack, flags, 0, window, retransmit);
    return bytes;
  }

  /**
   * Data, FIN and probes. Order: a due zero-window or tail loss probe; a retransmission chosen by loss
   * recovery (RFC 6675 NextSeg rules 1, 3, 4); new data within min(cwnd - pipe, the peer's window), with
   * sender SWS avoidance (RFC 9293 3.8.6.2.1) and Nagle (RFC 896); a FIN on its own.
   */
  private pollData(nowMs: number): Uint8Array | undefined {
    const c = this.c;
    if (c.state === 'TIME-WAIT' || c.state === 'FIN-WAIT-2') return undefined;
    const dataEnd = c.finSeq();
    const unsent = Math.max(0, seqDiff(dataEnd, c.sndNxt));
    const maxPayload = this.maxPayloadBytes();
    const rwndRoom = seqDiff(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
    const board = c.board;

    if (c.persist.due) {
      c.persist.onProbeSent(nowMs, c.rtt.rtoMs);
      c.counters.zeroWindowProbes++;
      // RFC 9293 3.8.6.1: one byte beyond a zero window (or what fits a small one); an unanswered earlier
      // probe is simply sent again.
      const head = board.first();
      if (head !== undefined) return this.retransmitSegment(nowMs, head, dataEnd, 'probe');
      if (unsent > 0) return this.sendNewData(nowMs, Math.max(1, Math.min(unsent, Math.max(rwndRoom, 0), maxPayload)), dataEnd, true);
    }

    const tlp = c.recovery.tlp;
    if (tlp.due) {
      tlp.due = false;
      // RFC 8985 7.3: new data if the window allows, otherwise the last segment again; then the RTO.
      if (unsent > 0 && rwndRoom > 0) {
        const len = Math.min(unsent, maxPayload, rwndRoom);
        const out = this.sendNewData(nowMs, len, dataEnd, false);
        tlp.onProbeSent(c.sndNxt, false);
        c.retransmitTimer.arm(nowMs);
        return out;
      }
      const last = board.last();
      if (last !== undefined) {
        tlp.onProbeSent(c.sndNxt, true);
        const out = this.retransmitSegment(nowMs, last, dataEnd, 'probe');
        c.retransmitTimer.arm(nowMs);
        return out;
      }
    }

    const cwnd = c.cc.cwndBytes;
    const mss = c.mssBytes;
    const pipe = c.recovery.pipeBytes(mss);
    const rexmit = c.recovery.nextRetransmission(pipe, cwnd, unsent > 0 && rwndRoom > 0, mss);
    if (rexmit !== undefined) return this.retransmitSegment(nowMs, rexmit, dataEnd, c.recovery.state === 'recovery' ? 'fast' : 'rto');

    if (unsent > 0) {
      let len = Math.min(unsent, maxPayload);
      if (len > rwndRoom) len = Math.max(rwndRoom, 0);
      const idle = board.isEmpty;
      if (len > 0 && len < maxPayload) {
        // Sender SWS avoidance and Nagle: a short segment only if it empties the queue and nothing is
        // outstanding (or Nagle is off, or a FIN follows), or if it is at least half the peer's largest window.
        const pushAll = len === unsent && (c.noDelay || idle || c.finQueued);
        const halfWindow = len >= c.maxSndWnd / 2 && (c.noDelay || idle);
        if (!pushAll && !halfWindow) len = 0;
      }
      if (len > 0 && pipe + len > cwnd && !(pipe === 0 && len <= cwnd)) len = 0;
      if (len > 0) return this.sendNewData(nowMs, len, dataEnd, false);
      // Could not send for the peer's window with nothing in flight: only the persist timer can help.
      if (idle && rwndRoom < Math.min(unsent, maxPayload)) c.persist.start(nowMs, c.rtt.rtoMs);
      return undefined;
    }

    // A FIN on its own (no data left to carry it).
    if (c.finQueued && c.sndNxt === dataEnd && this.finAllowedInState()) return this.sendNewData(nowMs, 0, dataEnd, false);
    return undefined;
  }

  private finAllowedInState(): boolean {
    const s = this.c.state;
    return s === 'FIN-WAIT-1' || s === 'LAST-ACK' || s === 'CLOSING';
  }

  /** Data bytes that fit in the next segment with the options it will carry. */
  private maxPayloadBytes(): number {
    const c = this.c;
    const optionBytes = this.segmentOptionsLength();
    const mss = Math.min(c.peerMss, c.localMss);
    return Math.max(1, Math.min(mss - optionBytes, c.config.maxDatagramBytes - ENCAP_OVERHEAD_BYTES - TCP_HEADER_BYTES - optionBytes));
  }

  private segmentOptionsLength(): number {
    const c = this.c;
    const tsOk = c.ts.ok;
    let len = tsOk ? TIMESTAMP_OPTION_BYTES : 0;
    const dsack = c.delack.pendingDsack;
    if (c.sackOk && (c.receiveBuffer.hasOutOfOrder || dsack !== undefined)) {
      const blocks = Math.min(c.receiveBuffer.sackBlockCount + (dsack ? 1 : 0), maxSackBlocks(tsOk));
      len += 4 + 8 * blocks;
    }
    return len;
  }

  /** New data (and the FIN when it follows) at SND.NXT. */
  private sendNewData(nowMs: number, len: number, dataEnd: number, probe: boolean): Uint8Array {
    const c = this.c;
    const seq = c.sndNxt;
    const fin = c.finQueued && seqAdd(seq, len) === dataEnd && this.finAllowedInState();
    const span = len + (fin ? 1 : 0);
    const board = c.board;
    if (board.isEmpty) {
      c.lastProgressMs = nowMs;
      // RFC 5681 4.1: after an idle period longer than an RTO, restart from a smaller window.
      if (this.lastSendMs > 0 && nowMs - this.lastSendMs > c.rtt.rtoMs && len > 0) {
        c.cc.onIdle(nowMs);
        if (c.host.trace) c.traceCwnd(nowMs);
      }
    }
    const bytes = this.emitSegment(nowMs, seq, len, fin, dataEnd, false);
    board.push({ seq, len: span, dataBytes: len, fin, sentMs: nowMs, tsVal: c.ts.now(nowMs), xmits: 1, sentOrder: this.sendOrder++, sacked: false, lost: false, retransmitted: false });
    c.sndNxt = seqAdd(seq, span);
    c.counters.bytesSent += len;
    if (!probe && !c.timers.isArmed(Timer.Retransmit)) c.retransmitTimer.arm(nowMs);
    return bytes;
  }

  /** Send a scoreboard record again (cut to the current segment size if options grew). */
  private retransmitSegment(nowMs: number, s: SentSegment, dataEnd: number, reason: 'rto' | 'fast' | 'probe'): Uint8Array {
    const c = this.c;
    const maxPayload = this.maxPayloadBytes();
    if (s.dataBytes > maxPayload) c.board.split(s, maxPayload);
    const bytes = this.emitSegment(nowMs, s.seq, s.dataBytes, s.fin, dataEnd, true, s.dataBytes > 0 && c.host.corruptRetransmission());
    const tsVal = c.ts.now(nowMs);
    c.board.onRetransmit(s, nowMs, tsVal, this.sendOrder++);
    if (reason !== 'probe') c.recovery.onRetransmitted(c.ts.ok ? tsVal : undefined);
    c.counters.segmentsRetransmitted++;
    c.counters.bytesRetransmitted += s.dataBytes;
    if (c.host.trace) c.host.trace({ type: 'retransmit', atMs: nowMs, connectionId: c.id, seq: s.seq, lengthBytes: s.dataBytes, reason });
    if (reason !== 'probe' && !c.timers.isArmed(Timer.Retransmit)) c.retransmitTimer.arm(nowMs);
    return bytes;
  }

  /** Build, fill and seal one data or FIN segment. */
  private emitSegment(nowMs: number, seq: number, len: number, fin: boolean, dataEnd: number, retransmit: boolean, corrupt = false): Uint8Array {
    const c = this.c;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len > 0 && seqAdd(seq, len) === dataEnd) flags |= PSH;
    const bytes = this.buildSegment(nowMs, seq, flags, len);
    if (len > 0) c.sendBuffer.copy(seqDiff(seq, c.sndBufSeq), bytes, bytes.length - CRC_BYTES - len, len);
    // A planted bug for testing the lab (EndpointOptions.faults): the CRC is computed after, so it is accepted.
    if (corrupt) bytes[bytes.length - CRC_BYTES - len] ^= 0x01;
    sealDatagram(bytes);
    this.afterSend(nowMs, seq, c.window.lastAckSent, flags, len, c.window.lastWindowSentBytes, retransmit);
    return bytes;
  }

  private pollAckOnly(nowMs: number): Uint8Array | undefined {
    const c = this.c;
    if (c.keepalive.due) {
      c.keepalive.due = false;
      c.counters.keepalivesSent++;
      // RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT - 1 draws an ACK.
      return this.sendBareAck(nowMs, seqAdd(c.sndNxt, -1));
    }
    if (c.challengeAcks.pending) {
      c.challengeAcks.pending = false;
      return this.sendBareAck(nowMs, c.sndNxt);
    }
    // Window updates are decided where the window opens (read()), so nothing else is due here.
    if (!c.delack.ackNow) return undefined;
    return this.sendBareAck(nowMs, c.sndNxt);
  }

  private sendBareAck(nowMs: number, seq: number): Uint8Array {
    const bytes = this.buildSegment(nowMs, seq, ACK, 0);
    sealDatagram(bytes);
    const w = this.c.window;
    this.afterSend(nowMs, seq, w.lastAckSent, ACK, 0, w.lastWindowSentBytes, false);
    return bytes;
  }

  /** Header with ACK, window and options for a synchronized state; the payload is copied by the caller. */
  private buildSegment(nowMs: number, seq: number, flags: number, payloadBytes: number): Uint8Array {
    const c = this.c;
    const rb = c.receiveBuffer;
    const delack = c.delack;
    const tsOk = c.ts.ok;
    let sack: SackBlock[] | undefined;
    if (c.sackOk && (rb.hasOutOfOrder || delack.pendingDsack !== undefined)) {
      const max = maxSackBlocks(tsOk);
      // RFC 2883: a D-SACK block goes first, then the usual blocks, most recent first.
      sack = delack.pendingDsack !== undefined ? [delack.pendingDsack, ...rb.sackBlocks(max - 1)] : rb.sackBlocks(max);
      delack.pendingDsack = undefined;
    }
    const windowField = c.window.fieldToAdvertise(rb.freeBytes, rb.rcvNxt, c.mssBytes);
    const ack = rb.rcvNxt;
    const bytes = allocSynchronizedSegmentDatagram(c.localPort, c.remotePort, seq, ack, flags, windowField, tsOk, c.ts.now(nowMs), c.ts.recent, sack, payloadBytes);
    c.window.onAdvertised(ack, windowField);
    return bytes;
  }

  private afterSend(nowMs: number, seq: number, ack: number, flags: number, len: number, window: number, retransmit: boolean): void {
    const c = this.c;
    c.counters.segmentsSent++;
    c.delack.onSent();
    this.lastSendMs = nowMs;
    if (c.host.trace) c.host.trace({ type: 'send', atMs: nowMs, connectionId: c.id, seq, ack, flags, lengthBytes: len, windowBytes: window, retransmit });
  }

  /** An RST (with the ACK when `withAck`), queued to leave even if the connection is gone. */
  sendReset(seq: number, ack: number, withAck: boolean): void {
    const c = this.c;
    const flags = withAck ? RST | ACK : RST;
    const bytes = allocSegmentDatagram({ srcPort: c.localPort, dstPort: c.remotePort, seq, ack: withAck ? ack : 0, flags, window: 0, checksum: 0, urgentPointer: 0, options: {} }, 0);
    sealDatagram(bytes);
    c.counters.segmentsSent++;
    if (c.host.trace) c.host.trace({ type: 'send', atMs: c.nowMs, connectionId: c.id, seq, ack, flags, lengthBytes: 0, windowBytes: 0, retransmit: false });
    c.host.sendControl(c.remote, bytes);
  }

  save(): Plain {
    return { lastSendMs: this.lastSendMs, sendOrder: this.sendOrder };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'segment output');
    this.lastSendMs = numberOf(f, 'lastSendMs');
    this.sendOrder = numberOf(f, 'sendOrder');
  }
}

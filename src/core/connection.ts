// One TCP connection: the transmission control block, the application's calls, and arriving segments processed
// in RFC 9293 3.10.7's order (sequence check, RST, SYN, ACK, data, FIN). Every other mechanism lives in a file of
// its own and owns its state (src/core/README.md maps them): what to send (segment-output.ts), the window we
// advertise, delayed ACKs, timestamps, the persist timer, keepalive, challenge ACKs, loss recovery with RACK and
// tail loss probes, RTT and RTO, congestion control, statistics.
import type { ConnectionConfig } from './config.js';
import { ENCAP_OVERHEAD_BYTES } from './config.js';
import { AckProcessing } from './ack-processing.js';
import type { CongestionController } from './congestion/controller.js';
import { createController } from './congestion/controllers.js';
import { ChallengeAckLimiter } from './challenge-ack.js';
import { InvalidAckLimiter } from './reply-limits.js';
import type { CookieOptions } from './syn-cookies.js';
import { EndpointSlot, type ConnectionHost } from './connection-host.js';
import { restoreConnection, saveConnection } from './connection-snapshot.js';
import { ConnectionCounters, connectionStats, type ConnectionStats } from './connection-stats.js';
import { DatagramChannel } from './datagram-channel.js';
import { DelayedAck } from './delayed-ack.js';
import type { ConnectionDropReason } from './drop-reason.js';
import { CallError, connectionError, type ConnectionError } from './errors.js';
import type { Remote } from './events.js';
import { DEFAULT_PEER_MSS, Handshake } from './handshake.js';
import { Keepalive } from './keepalive.js';
import { LossRecovery } from './loss-recovery.js';
import { PersistTimer } from './persist-timer.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { ReceiveWindow } from './receive-window.js';
import { RetransmissionTimer } from './retransmission-timer.js';
import { RttEstimator } from './rtt.js';
import { Scoreboard } from './sack-scoreboard.js';
import { SegmentOutput } from './segment-output.js';
import { SegmentText } from './segment-text.js';
import { SendBuffer } from './send-buffer.js';
import { Teardown } from './teardown.js';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import type { Plain } from './snapshot.js';
import { isSynchronized, type TcpState } from './state.js';
import { Timer, TimerTable } from './timers.js';
import { TIMESTAMP_OPTION_BYTES, Timestamps } from './timestamps.js';
import { CRC_BYTES, DATAGRAM_HEADER_BYTES, ENCAP_HEADER_BYTES } from './wire/encapsulation.js';
import { TCP_HEADER_BYTES } from './wire/tcp-header.js';
import { ACK, FIN, RST, SYN, type TcpSegment } from './wire/segment.js';

export type { ConnectionStats } from './connection-stats.js';
export type { ConnectionHost } from './connection-host.js';

const EMPTY = new Uint8Array(0);

/**
 * The fields are the TCB, shared with the connection's mechanisms (each in its own file, holding its own state);
 * applications use the methods and stats().
 */
export class Connection {
  state: TcpState = 'CLOSED';
  /** Set when the connection failed; also carried by the 'closed' event. */
  error: ConnectionError | undefined;
  readonly config: ConnectionConfig;
  /** True for the side that called connect(). */
  readonly active: boolean;
  /** The endpoint's bookkeeping (endpoint.ts only). */
  readonly slot: EndpointSlot;

  // --- Send sequence variables (RFC 9293 3.3.1). New data always goes at SND.NXT; retransmissions are
  // chosen from the scoreboard, so SND.NXT is also the highest sequence number sent. ---
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** Peer's window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** Sequence number of the first byte held in sendBuffer. */
  sndBufSeq: number;
  readonly sendBuffer: SendBuffer;
  /** The application asked for a FIN (shutdown or close). */
  finQueued = false;

  // --- Receive sequence variables: IRS; RCV.NXT lives in the receive buffer, RCV.WND in the window. ---
  irs = 0;
  readonly receiveBuffer: ReceiveBuffer;
  /** Sequence number of the peer's FIN, once seen (it may arrive before the data in front of it). */
  peerFinSeq: number | undefined;
  peerFinDone = false;

  // --- Negotiated options (RFC 9293 3.7.1, RFC 7323, RFC 2018). ---
  readonly localMss: number;
  peerMss = DEFAULT_PEER_MSS;
  /** The peer's window shift. */
  sndShift = 0;
  wscaleOk = false;
  sackOk = false;

  // --- Time. ---
  /** The latest time any input or poll brought (application calls carry no time of their own). */
  nowMs = 0;
  lastReceiveMs = 0;
  /** When data was last acknowledged or began to flow (the user timeout counts from here). */
  lastProgressMs = 0;

  // --- The application's side. ---
  appClosed = false;
  writeBlocked = false;
  readablePending = false;
  noDelay: boolean;
  /** The host has been told this connection is ready for the application ('accepted' or 'connected'). */
  announced = false;
  closedEmitted = false;
  finEmitted = false;

  // --- Mechanisms, each owning its state. ---
  readonly timers = new TimerTable();
  readonly window: ReceiveWindow;
  readonly delack: DelayedAck;
  readonly ts: Timestamps;
  readonly rtt: RttEstimator;
  readonly cc: CongestionController;
  /** Every segment in flight, with its SACK and loss marks. */
  readonly board = new Scoreboard();
  readonly recovery: LossRecovery;
  readonly retransmitTimer: RetransmissionTimer;
  readonly persist: PersistTimer;
  readonly keepalive: Keepalive;
  readonly challengeAcks = new ChallengeAckLimiter();
  readonly invalidAcks = new InvalidAckLimiter();
  readonly datagrams: DatagramChannel;
  readonly handshake: Handshake;
  readonly acks: AckProcessing;
  readonly text: SegmentText;
  readonly teardown: Teardown;
  readonly output: SegmentOutput;
  readonly counters = new ConnectionCounters();

  constructor(
    readonly host: ConnectionHost,
    readonly id: number,
    readonly remote: Remote,
    readonly localPort: number,
    readonly remotePort: number,
    config: ConnectionConfig,
    iss: number,
    tsOffset: number,
    active: boolean,
  ) {
    this.config = config;
    this.active = active;
    this.slot = new EndpointSlot(this);
    this.noDelay = config.noDelay;
    this.sendBuffer = new SendBuffer(config.sendBufferBytes);
    this.receiveBuffer = new ReceiveBuffer(config.receiveBufferBytes);
    this.window = new ReceiveWindow(config.receiveBufferBytes, config.windowScaling);
    this.delack = new DelayedAck(config.delayedAckMs, this.timers);
    this.localMss = config.maxDatagramBytes - ENCAP_OVERHEAD_BYTES - TCP_HEADER_BYTES;
    this.ts = new Timestamps(tsOffset);
    this.rtt = new RttEstimator(config.initialRtoMs, config.minRtoMs, config.maxRtoMs, config.clockGranularityMs, config.rtoBackoff);
    this.cc = createController(config.congestionControl, { mssBytes: this.localMss, minCwndSegments: config.minCwndSegments, slowStartAckLimitSegments: config.slowStartAckLimitSegments });
    this.recovery = new LossRecovery(this.board, this.cc, () => this.sackOk, config);
    this.persist = new PersistTimer(config, this.timers);
    this.keepalive = new Keepalive(config, this.timers);
    this.retransmitTimer = new RetransmissionTimer(this);
    this.datagrams = new DatagramChannel(config.maxQueuedDatagrams);
    this.handshake = new Handshake(this);
    this.acks = new AckProcessing(this);
    this.text = new SegmentText(this);
    this.teardown = new Teardown(this);
    this.output = new SegmentOutput(this);
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndBufSeq = seqAdd(this.iss, 1);
  }

  // ================================================================== application calls

  /** Queue bytes; returns how many the bounded send buffer accepted. */
  write(bytes: Uint8Array): number {
    const calls = this.host.calls;
    return calls === undefined ? this.writeNow(bytes) : calls.call(this, 'write', [bytes], () => this.writeNow(bytes));
  }

  private writeNow(bytes: Uint8Array): number {
    if (this.finQueued || this.state === 'CLOSED' || this.appClosed) {
      const e = this.error;
      throw new CallError(e?.code ?? 'EPIPE', e ? `write after the connection failed: ${e.message}` : 'write after end');
    }
    const n = this.sendBuffer.write(bytes);
    if (n < bytes.length) this.writeBlocked = true;
    if (n > 0) this.host.wantsTransmit(this);
    return n;
  }

  /** Up to maxBytes of in-order data, or an empty array. */
  read(maxBytes?: number): Uint8Array {
    const calls = this.host.calls;
    return calls === undefined ? this.readNow(maxBytes) : calls.call(this, 'read', [maxBytes], () => this.readNow(maxBytes));
  }

  private readNow(maxBytes: number = Number.MAX_SAFE_INTEGER): Uint8Array {
    this.readablePending = false;
    const rb = this.receiveBuffer;
    if (rb.readableBytes === 0) return EMPTY;
    const out = rb.read(maxBytes);
    this.counters.bytesRead += out.length;
    // RFC 1122 4.2.3.3: tell the peer when the window opened by enough to matter.
    // (Not once the peer's FIN arrived: it can send nothing more.)
    if (isSynchronized(this.state) && !this.peerFinDone && this.window.updateWorthSending(rb.freeBytes, rb.rcvNxt, this.mssBytes)) {
      this.delack.ackNow = true;
      this.host.wantsTransmit(this);
    }
    return out;
  }

  /** When a segment from the peer last arrived (ms, the core's time). */
  get lastReceivedMs(): number {
    return this.lastReceiveMs;
  }

  /** RCV.NXT. */
  get rcvNxt(): number {
    return this.receiveBuffer.rcvNxt;
  }

  /** Bytes ready for read(). */
  get readableBytes(): number {
    return this.receiveBuffer.readableBytes;
  }

  /** The peer's FIN has arrived in order (no more data will come). */
  get ended(): boolean {
    return this.peerFinDone;
  }

  /** Free space in the send buffer. */
  get writableBytes(): number {
    return this.sendBuffer.freeBytes;
  }

  /** Timestamps are in use on this connection (RFC 7323). */
  get tsOk(): boolean {
    return this.ts.ok;
  }

  /** Half-close: a FIN follows the data already written (RFC 9293 3.10.4). */
  shutdown(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.teardown.shutdown() : calls.call(this, 'shutdown', [], () => this.teardown.shutdown());
  }

  /** Full close: no more reads or writes. Unread data means the peer's data is lost, so RST (RFC 2525 2.17). */
  close(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.teardown.close() : calls.call(this, 'close', [], () => this.teardown.close());
  }

  /** Abort: RST to the peer, everything discarded (RFC 9293 3.10.5). */
  abort(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.teardown.abort() : calls.call(this, 'abort', [], () => this.teardown.abort());
  }

  /** An unreliable datagram with this connection's ports; false when the queue is full or not connected. */
  sendDatagram(bytes: Uint8Array): boolean {
    const calls = this.host.calls;
    return calls === undefined ? this.sendDatagramNow(bytes) : calls.call(this, 'sendDatagram', [bytes], () => this.sendDatagramNow(bytes));
  }

  private sendDatagramNow(bytes: Uint8Array): boolean {
    const max = this.maxDatagramPayloadBytes;
    if (bytes.length > max) throw new RangeError(`datagram of ${bytes.length} bytes exceeds the maximum of ${max}`);
    if (!isSynchronized(this.state) || this.state === 'TIME-WAIT') return false;
    if (!this.datagrams.queue(bytes)) {
      this.countDrop('datagram-queue-full');
      return false;
    }
    this.host.wantsTransmit(this);
    return true;
  }

  get maxDatagramPayloadBytes(): number {
    return this.config.maxDatagramBytes - ENCAP_HEADER_BYTES - DATAGRAM_HEADER_BYTES - CRC_BYTES;
  }

  setNoDelay(on: boolean): void {
    const calls = this.host.calls;
    return calls === undefined ? this.setNoDelayNow(on) : calls.call(this, 'setNoDelay', [on], () => this.setNoDelayNow(on));
  }

  private setNoDelayNow(on: boolean): void {
    this.noDelay = on;
    if (on) this.host.wantsTransmit(this);
  }

  stats(): ConnectionStats {
    return connectionStats(this);
  }

  // ================================================================== opening (handshake.ts)

  /** Active open (RFC 9293 3.10.1): SYN-SENT, SYN on the next poll. */
  openActive(nowMs: number): void {
    this.handshake.openActive(nowMs);
  }

  /** Passive open: the SYN that created this connection from a listener (RFC 9293 3.10.7.2). */
  openPassive(nowMs: number, seg: TcpSegment, synDatagramBytes: number): void {
    this.handshake.openPassive(nowMs, seg, synDatagramBytes);
  }

  /** A connection built from a returned SYN cookie (syn-cookies.ts); the ACK that returned it comes next. */
  openFromCookie(nowMs: number, peerIsn: number, peerMss: number, options: CookieOptions, peerTsValue: number | undefined, synAckWindow: number): void {
    this.handshake.openFromCookie(nowMs, peerIsn, peerMss, options, peerTsValue, synAckWindow);
  }

  /** Data bytes in a full segment: the smaller MSS less the timestamp option (RFC 6691). */
  get mssBytes(): number {
    return Math.min(this.peerMss, this.localMss) - (this.ts.ok ? TIMESTAMP_OPTION_BYTES : 0);
  }

  // ================================================================== arriving segments (RFC 9293 3.10.7)

  handleSegment(nowMs: number, seg: TcpSegment): void {
    this.nowMs = nowMs;
    this.counters.segmentsReceived++;
    const trace = this.host.trace;
    if (trace) {
      trace({ type: 'receive', atMs: nowMs, connectionId: this.id, seq: seg.seq, ack: seg.ack, flags: seg.flags, lengthBytes: seg.payload.length, windowBytes: seg.window << (seg.flags & SYN ? 0 : this.sndShift) });
    }
    switch (this.state) {
      case 'CLOSED':
        return;
      case 'SYN-SENT':
        this.handshake.onSegmentInSynSent(nowMs, seg);
        break;
      default:
        this.handleSynchronizedOrSynReceived(nowMs, seg);
    }
    this.afterInput();
  }

  private handleSynchronizedOrSynReceived(nowMs: number, seg: TcpSegment): void {
    const flags = seg.flags;
    const rb = this.receiveBuffer;

    if (this.state === 'SYN-RECEIVED' && this.handshake.onSegmentInSynReceived(nowMs, seg)) return;

    if (this.ts.ok && !(flags & RST)) {
      const tsOpt = seg.options.timestamp;
      // RFC 7323 3.2: once negotiated, every non-RST segment carries timestamps; one without is dropped (a blind
      // injection could otherwise skip PAWS).
      if (tsOpt === undefined) {
        this.countDrop('missing-timestamp');
        return;
      }
      // RFC 7323 5.3: PAWS, before the sequence check.
      if (this.ts.isOld(tsOpt.value)) {
        this.countDrop('paws');
        this.ackInvalid(nowMs, seg);
        return;
      }
    }

    // First, the sequence number (RFC 9293 3.10.7.4, the acceptability table).
    const segLen = seg.payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (!segmentAcceptable(seg.seq, segLen, rb.rcvNxt, this.window.offeredBytes(rb.rcvNxt))) {
      if (!(flags & RST)) {
        this.countDrop('out-of-window');
        // RFC 2883: data we already had is reported back as a D-SACK block (spurious retransmission).
        const end = seqAdd(seg.seq, seg.payload.length);
        const duplicate = seg.payload.length > 0 && seqLe(end, rb.rcvNxt) && seqLt(seqAdd(rb.rcvNxt, -Math.max(this.window.offeredBytes(rb.rcvNxt), this.config.receiveBufferBytes)), end);
        if (this.sackOk && duplicate) this.delack.pendingDsack = { left: seg.seq, right: end };
        // A plausible retransmission of data we had is always answered (the sender learns at once); anything else
        // out of the window may be forged: its ACK is rate-limited.
        // RFC 1122 4.2.3.6: a keepalive probe (SEG.SEQ = RCV.NXT - 1, at most one byte) is answered, and shows
        // the peer alive: its number is as hard to guess blind as an in-window one.
        const keepaliveProbe = seg.payload.length <= 1 && !(flags & (SYN | FIN)) && seg.seq === seqAdd(rb.rcvNxt, -1);
        if (keepaliveProbe) this.heard(nowMs);
        if (duplicate || keepaliveProbe) this.delack.ackNow = true;
        else this.ackInvalid(nowMs, seg);
        // TIME-WAIT: a retransmitted FIN restarts 2 MSL (RFC 9293 3.10.7.4, eighth step).
        if (this.state === 'TIME-WAIT' && flags & FIN) this.timers.set(Timer.Linger, nowMs + 2 * this.config.mslMs);
      } else {
        this.countDrop('rst-out-of-window');
      }
      return;
    }

    // The segment is acceptable: the peer was heard (an out-of-window one refreshes no idle or keepalive timer).
    this.heard(nowMs);

    // Second, the RST bit (RFC 5961 3.2: exact match resets, otherwise a challenge ACK).
    if (flags & RST) {
      if (seg.seq !== rb.rcvNxt) {
        this.sendChallengeAck(nowMs);
        return;
      }
      this.teardown.onReset();
      return;
    }

    // Fourth, the SYN bit (RFC 5961 4.2: challenge ACK in any synchronized state and in SYN-RECEIVED).
    if (flags & SYN) {
      this.sendChallengeAck(nowMs);
      return;
    }

    // Fifth, the ACK field.
    if (!(flags & ACK)) {
      this.countDrop('no-ack');
      return;
    }
    if (this.state === 'SYN-RECEIVED' && !this.handshake.onAckInSynReceived(nowMs, seg)) return;
    if (!this.acks.onAck(nowMs, seg)) return;

    // Sixth and seventh: segment text, then the FIN bit.
    this.processDataAndFin(nowMs, seg, seg.seq);
  }

  /** SND.UNA moved (ack-processing.ts did the sender's part): the application may write again; our FIN acked? */
  onSndUnaAdvanced(nowMs: number): void {
    if (this.writeBlocked && this.sendBuffer.freeBytes > 0 && !this.finQueued) {
      this.writeBlocked = false;
      this.host.emit({ type: 'writable', connection: this });
    }
    this.host.wantsTransmit(this);
    this.teardown.onAcked(nowMs);
  }

  /** Sixth and seventh steps: place data, then the FIN (RFC 9293 3.10.7.4). */
  processDataAndFin(nowMs: number, seg: TcpSegment, dataSeq: number): void {
    const rb = this.receiveBuffer;
    const flags = seg.flags;
    const ts = seg.options.timestamp;
    if (this.ts.ok && ts !== undefined) this.ts.onAcceptable(ts.value, seg.seq, this.window.lastAckSent);

    const payload = seg.payload;
    const canReceive = this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2';
    if (payload.length > 0) {
      if (!canReceive || this.peerFinDone) {
        // The peer's FIN was consumed: nothing after it can be data.
        this.delack.ackNow = true;
        return;
      }
      if (this.appClosed && seqGt(seqAdd(dataSeq, payload.length), rb.rcvNxt)) {
        // Nobody will read this: the peer must learn its data is lost (as Linux does after close()).
        this.output.sendReset(this.sndNxt, seqAdd(dataSeq, payload.length), true);
        this.enterClosed(undefined);
        return;
      }
      this.text.receive(nowMs, dataSeq, payload);
    }

    if (flags & FIN && this.peerFinSeq === undefined) {
      const finSeq = seqAdd(dataSeq, payload.length);
      // A FIN beyond the window is not accepted yet; the peer will send it again.
      if (seqLe(finSeq, this.window.rightEdge) || finSeq === rb.rcvNxt) this.peerFinSeq = finSeq;
      this.delack.ackNow = true;
    }
    if (this.peerFinSeq !== undefined && !this.peerFinDone && rb.rcvNxt === this.peerFinSeq) this.teardown.onPeerFin(nowMs);
  }

  private sendChallengeAck(nowMs: number): void {
    // RFC 5961 7 per connection, and a global limit (as Linux's tcp_challenge_ack_limit).
    if (!this.challengeAcks.request(nowMs, () => this.host.allowReply('challenge', nowMs))) {
      this.countDrop('challenge-ack-limited');
      return;
    }
    this.counters.challengeAcks++;
  }

  /** An ACK in answer to an invalid segment, as rate-limited as Linux's tcp_invalid_ratelimit (reply-limits.ts). */
  ackInvalid(nowMs: number, _seg: TcpSegment): void {
    if (this.invalidAcks.allow(nowMs) && this.host.allowReply('invalid-ack', nowMs)) {
      this.delack.ackNow = true;
      this.counters.invalidAcksSent++;
    } else this.countDrop('invalid-ack-limited');
  }

  /** An acceptable segment arrived: the peer is alive. */
  heard(nowMs: number): void {
    this.lastReceiveMs = nowMs;
    this.keepalive.onHeard();
  }

  /** An unreliable datagram arrived for this connection. */
  receiveDatagram(payload: Uint8Array): void {
    if (!isSynchronized(this.state) && this.state !== 'SYN-RECEIVED') {
      this.countDrop('datagram-not-connected');
      return;
    }
    // The application closed the connection: nothing is delivered after close().
    if (this.appClosed) {
      this.countDrop('datagram-after-close');
      return;
    }
    this.counters.datagramsReceived++;
    if (!this.announced) {
      // The handshake's last ACK may come after (or be lost before) the peer's first datagram: hold it until
      // the application has the connection.
      if (!this.datagrams.hold(payload)) this.countDrop('datagram-queue-full');
      return;
    }
    this.host.emit({ type: 'datagram', connection: this, bytes: payload.slice() });
  }

  // ================================================================== timers

  handleTimeout(nowMs: number): void {
    this.nowMs = nowMs;
    const t = this.timers;
    if (t.get(Timer.Retransmit) <= nowMs) {
      t.clear(Timer.Retransmit);
      this.retransmitTimer.onTimeout(nowMs);
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.Persist) <= nowMs) {
      t.clear(Timer.Persist);
      if (this.persist.onTimeout(nowMs, this.lastReceiveMs)) this.host.wantsTransmit(this);
      else this.enterClosed(connectionError('ETIMEDOUT', 'zero-window probes went unanswered'));
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.DelayedAck) <= nowMs) {
      t.clear(Timer.DelayedAck);
      this.delack.ackNow = true;
    }
    if (t.get(Timer.Reorder) <= nowMs) {
      t.clear(Timer.Reorder);
      this.recovery.onReorderTimeout(nowMs, this.sndNxt, this.rtt.srttMs);
      this.acks.armReorderTimer(nowMs);
      if (this.board.lostBytes > 0) this.host.wantsTransmit(this);
    }
    if (t.get(Timer.Keepalive) <= nowMs) {
      t.clear(Timer.Keepalive);
      const verdict = this.keepalive.onTimeout(nowMs, this.lastReceiveMs, isSynchronized(this.state), !this.board.isEmpty || this.persist.armed);
      if (verdict === 'dead') this.enterClosed(connectionError('ETIMEDOUT', `no answer to ${this.config.keepaliveProbes} keepalive probes`));
      else if (verdict === 'probe') this.host.wantsTransmit(this);
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.Linger) <= nowMs) {
      t.clear(Timer.Linger);
      // TIME-WAIT done (RFC 9293 3.10.8), or an orphaned FIN-WAIT-2 gave up waiting.
      this.enterClosed(undefined);
    }
    this.afterInput();
  }

  /** A method, not a field test, so control-flow narrowing does not assume the state is unchanged. */
  isClosed(): boolean {
    return this.state === 'CLOSED';
  }

  /** Earliest deadline of this connection (Infinity when none). */
  nextDeadlineMs(): number {
    return this.timers.earliest();
  }

  // ================================================================== sending

  /** The next datagram this connection wants to send now, or undefined (see segment-output.ts). */
  pollTransmit(nowMs: number): Uint8Array | undefined {
    this.nowMs = nowMs;
    const bytes = this.output.poll(nowMs);
    // Anti-amplification: towards a peer not yet validated, never more bytes than it sent (handshake.ts).
    if (bytes !== undefined && !this.handshake.spend(bytes.length)) {
      this.countDrop('amplification-limited');
      return undefined;
    }
    return bytes;
  }

  /** Sequence number of our FIN (valid once queued), which is also the end of the data written. */
  finSeq(): number {
    return seqAdd(this.sndBufSeq, this.sendBuffer.lengthBytes);
  }

  // ================================================================== state changes

  setState(next: TcpState, nowMs = this.nowMs): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    if (this.host.trace) this.host.trace({ type: 'state', atMs: nowMs, connectionId: this.id, from: prev, to: next });
    if (next === 'ESTABLISHED') this.keepalive.arm(nowMs, this.lastReceiveMs);
  }

  announce(type: 'accepted' | 'connected'): void {
    if (this.announced) return;
    this.announced = true;
    this.host.emit({ type, connection: this });
    for (const bytes of this.datagrams.takeEarly()) this.host.emit({ type: 'datagram', connection: this, bytes });
  }

  /** CLOSED: forget everything; tell the application once. */
  enterClosed(error: ConnectionError | undefined): void {
    if (this.state === 'CLOSED' && this.closedEmitted) return;
    this.error = error;
    this.setState('CLOSED');
    this.timers.clearAll();
    this.datagrams.clearOutbound();
    this.emitClosed(error);
    this.host.timersChanged(this);
    this.host.closed(this);
  }

  emitClosed(error: ConnectionError | undefined): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    // A passive connection the application never saw disappears silently.
    if (!this.announced && !this.active) return;
    this.host.emit(error ? { type: 'closed', connection: this, error } : { type: 'closed', connection: this });
  }

  /** Called after every input: report timer changes and pending output to the host. */
  private afterInput(): void {
    if (this.delack.ackNow || this.challengeAcks.pending || this.persist.due || this.keepalive.due || this.handshake.synPending) this.host.wantsTransmit(this);
    this.host.timersChanged(this);
  }

  countDrop(reason: ConnectionDropReason): void {
    this.counters.countDrop(reason);
    if (this.host.trace) this.host.trace({ type: 'drop', atMs: this.nowMs, reason, connectionId: this.id, remote: this.remote });
  }

  traceCwnd(nowMs: number): void {
    this.host.trace?.({ type: 'cwnd', atMs: nowMs, connectionId: this.id, cwndBytes: this.cc.cwndBytes, ssthreshBytes: this.cc.ssthreshBytes });
  }

  // ================================================================== snapshots

  /** The whole connection as plain data (see Endpoint.snapshot; connection-snapshot.ts). */
  snapshot(): Plain {
    return saveConnection(this);
  }

  /** A connection rebuilt from Connection.snapshot() under a (new) endpoint. */
  static restore(host: ConnectionHost, plain: Plain): Connection {
    return restoreConnection(host, plain);
  }
}

/** RFC 9293 3.10.7.4: the four cases of segment acceptability. */
export function segmentAcceptable(seq: number, segLen: number, rcvNxt: number, rcvWnd: number): boolean {
  const windowEnd = seqAdd(rcvNxt, rcvWnd);
  if (segLen === 0) {
    if (rcvWnd === 0) return seq === rcvNxt;
    return seqLe(rcvNxt, seq) && seqLt(seq, windowEnd);
  }
  if (rcvWnd === 0) return false;
  const last = seqAdd(seq, segLen - 1);
  return (seqLe(rcvNxt, seq) && seqLt(seq, windowEnd)) || (seqLe(rcvNxt, last) && seqLt(last, windowEnd));
}

export { windowShiftFor } from './receive-window.js';

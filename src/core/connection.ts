// One TCP connection: the transmission control block and the RFC 9293 state machine.
// Arriving segments are processed in RFC 9293 3.10.7's order (sequence check, RST, SYN, ACK, data, FIN);
// what to send is decided when the driver polls (pollTransmit), so ACKs coalesce and Nagle can wait.
import type { ConnectionConfig } from './config.js';
import { ENCAP_OVERHEAD_BYTES } from './config.js';
import type { CongestionController } from './congestion/controller.js';
import { NewReno } from './congestion/newreno.js';
import { Cubic } from './congestion/cubic.js';
import { LossRecovery, type AckInfo } from './loss-recovery.js';
import { Scoreboard, type SackUpdate, type SentSegment } from './sack-scoreboard.js';
import type { CallObserver, ConnectionError, EndpointEvent, ErrorCode, Remote, TraceEvent } from './events.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { RttEstimator } from './rtt.js';
import { SendBuffer } from './send-buffer.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from './seq.js';
import { isSynchronized, type TcpState } from './state.js';
import { Timer, TimerTable } from './timers.js';
import { fromPlain, restoreFields, saveFields, toPlain, type Plain } from './snapshot.js';
import { allocSegmentDatagram, allocSynchronizedSegmentDatagram, encodeUnreliableDatagram, sealDatagram, CRC_BYTES, DATAGRAM_HEADER_BYTES, ENCAP_HEADER_BYTES } from './wire/encapsulation.js';
import { optionsLength, maxSackBlocks } from './wire/tcp-options.js';
import { TCP_HEADER_BYTES } from './wire/tcp-header.js';
import { ACK, FIN, PSH, RST, SYN, type SackBlock, type TcpOptions, type TcpSegment } from './wire/segment.js';

/** What a connection needs from its endpoint. */
export interface ConnectionHost {
  emit(event: EndpointEvent): void;
  /** Queue a datagram that must leave even if the connection is gone (RST). */
  sendControl(remote: Remote, bytes: Uint8Array): void;
  /** The connection has something to send. */
  wantsTransmit(conn: Connection): void;
  /** The connection's deadlines changed. */
  timersChanged(conn: Connection): void;
  /** The connection reached CLOSED and can be forgotten. */
  closed(conn: Connection): void;
  /** Test-only fault injection: should this retransmission carry a corrupted byte? */
  corruptRetransmission(): boolean;
  readonly trace: ((event: TraceEvent) => void) | undefined;
  /** Sees the application's calls (the recorder), when set. */
  readonly calls: CallObserver | undefined;
}

/** RFC 9293 3.7.1: the MSS assumed when the peer sends none. */
const DEFAULT_PEER_MSS = 536;
/** RFC 7323 2.3: the largest shift count. */
const MAX_WINDOW_SHIFT = 14;
const TIMESTAMP_OPTION_BYTES = 12;
/** RFC 5961 7: challenge ACKs at most this many per second per connection. */
const CHALLENGE_ACKS_PER_S = 10;
const TCP_MAX_WINDOW_FIELD = 65535;
const EMPTY = new Uint8Array(0);
const NONE_DELIVERED: SentSegment[] = [];

export interface ConnectionStats {
  id: number;
  state: TcpState;
  profile: string;
  remote: Remote;
  localPort: number;
  remotePort: number;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  /** Highest sequence number sent; equal to sndNxt (retransmissions never move SND.NXT back). */
  sndMax: number;
  sndWl1: number;
  sndWl2: number;
  rcvNxt: number;
  /** Effective data bytes per segment (MSS less the timestamp option when in use). */
  mssBytes: number;
  peerMssBytes: number;
  sendWindowBytes: number;
  receiveWindowBytes: number;
  sendWindowShift: number;
  receiveWindowShift: number;
  sackPermitted: boolean;
  timestamps: boolean;
  cwndBytes: number;
  ssthreshBytes: number;
  /** RFC 6675 pipe: bytes the network is believed to hold. */
  inFlightBytes: number;
  /** SND.NXT - SND.UNA. */
  outstandingBytes: number;
  lostBytes: number;
  recoveryState: string;
  congestionControl: string;
  srttMs: number;
  rttvarMs: number;
  rtoMs: number;
  sendBufferedBytes: number;
  receiveBufferedBytes: number;
  outOfOrderBytes: number;
  bytesSent: number;
  bytesRetransmitted: number;
  bytesReceived: number;
  bytesRead: number;
  segmentsSent: number;
  segmentsReceived: number;
  segmentsRetransmitted: number;
  datagramsSent: number;
  datagramsReceived: number;
  timeouts: number;
  duplicateAcks: number;
  fastRetransmits: number;
  sackedBytes: number;
  spuriousRetransmits: number;
  recoveryEpisodes: number;
  tailLossProbes: number;
  dsacksReceived: number;
  zeroWindowProbes: number;
  keepalivesSent: number;
  challengeAcks: number;
  drops: Record<string, number>;
  timers: Partial<Record<string, number>>;
}

export class Connection {
  state: TcpState = 'CLOSED';
  /** Set when the connection failed; also carried by the 'closed' event. */
  error: ConnectionError | undefined;
  readonly config: ConnectionConfig;
  /** True for the side that called connect(). */
  readonly active: boolean;

  // --- Send sequence variables (RFC 9293 3.3.1). New data always goes at SND.NXT; retransmissions are
  // chosen from the scoreboard, so SND.NXT is also the highest sequence number sent. ---
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Peer's window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** Sequence number of the first byte held in sendBuffer. */
  private sndBufSeq = 0;
  private readonly sendBuffer: SendBuffer;
  /** The application asked for a FIN (shutdown or close). */
  private finQueued = false;

  // --- Receive side. ---
  irs = 0;
  private readonly receiveBuffer: ReceiveBuffer;
  /** Right edge of the window last advertised (RCV.NXT + RCV.WND when it was sent). */
  private rcvAdvRight = 0;
  /** Sequence number of the peer's FIN, once seen (it may arrive before the data in front of it). */
  private peerFinSeq: number | undefined;
  private peerFinDone = false;
  private lastAckSent = 0;
  /** The window (bytes, scaled) of the last segment sent, for the trace. */
  private lastWindowSentBytes = 0;
  /** What an ACK meant, handed to loss recovery (which keeps nothing of it): one object, refilled per ACK. */
  private readonly ackInfo: AckInfo = { ack: 0, advanced: false, duplicate: false, sack: undefined, tsEcho: undefined, delivered: NONE_DELIVERED, srttMs: 0 };

  // --- Negotiated options. ---
  private localMss: number;
  peerMss = DEFAULT_PEER_MSS;
  private sndShift = 0;
  private rcvShift = 0;
  private readonly offeredShift: number;
  private wscaleOk = false;
  sackOk = false;
  tsOk = false;
  private tsRecent = 0;
  private readonly tsOffset: number;

  // --- ACK state. ---
  private ackNow = false;
  private unackedFullSegments = 0;

  // --- Timers and their state. ---
  readonly timers = new TimerTable();
  /** The earliest deadline last reported to the host (its timer heap key). */
  heapDeadlineMs = Infinity;
  heapIndex = -1;
  /** Bookkeeping flags of the endpoint's queues. */
  queuedForTransmit = false;
  queuedForTimers = false;
  private readonly rtt: RttEstimator;
  readonly cc: CongestionController;
  private synRetries = 0;
  /** Consecutive RTO expirations without progress. */
  private rtoRetries = 0;
  private persistBackoffs = 0;
  private probeNow = false;
  /** A tail loss probe is due (RFC 8985 7.3). */
  private tlpNow = false;
  private probesWithoutAnswer = 0;
  private keepaliveProbes = 0;
  private keepaliveNow = false;
  private lastReceiveMs = 0;
  /** The latest time any input or poll brought (application calls carry no time of their own). */
  private nowMs = 0;
  private lastSendMs = 0;
  private lastProgressMs = 0;
  /** Karn's rule: one timed segment at a time when there are no timestamps. */
  /** The SYN (or SYN-ACK) is due: first sent, or resent by the retransmission timer. */
  private synPending = true;
  private synSentMs = 0;
  private synRetransmitted = false;
  /** Every segment in flight, with its SACK and loss marks. */
  private readonly board = new Scoreboard();
  readonly recovery: LossRecovery;
  /** The retransmission timer is armed as a tail loss probe timeout (RFC 8985 7.2). */
  private timerIsProbe = false;
  /** Counts every data transmission, so the scoreboard knows which was sent after which. */
  private sendOrder = 0;
  /** A D-SACK block (RFC 2883) to report first in the next ACK. */
  private pendingDsack: SackBlock | undefined;
  private challengeWindowStartMs = -Infinity;
  private challengeAcksInWindow = 0;
  private pendingChallengeAck = false;

  // --- Application state. ---
  private appClosed = false;
  private writeBlocked = false;
  private readablePending = false;
  private noDelay: boolean;
  private readonly datagramQueue: Uint8Array[] = [];
  private readonly earlyDatagrams: Uint8Array[] = [];
  /** The host has been told this connection is ready for the application ('accepted' or 'connected'). */
  private announced = false;
  private closedEmitted = false;
  private finEmitted = false;

  // --- Counters. ---
  private readonly counters = {
    bytesSent: 0,
    bytesRetransmitted: 0,
    bytesReceived: 0,
    bytesRead: 0,
    segmentsSent: 0,
    segmentsReceived: 0,
    segmentsRetransmitted: 0,
    datagramsSent: 0,
    datagramsReceived: 0,
    timeouts: 0,
    duplicateAcks: 0,
    sackedBytes: 0,
    zeroWindowProbes: 0,
    keepalivesSent: 0,
    challengeAcks: 0,
  };
  private readonly drops: Record<string, number> = {};

  constructor(
    private readonly host: ConnectionHost,
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
    this.noDelay = config.noDelay;
    this.sendBuffer = new SendBuffer(config.sendBufferBytes);
    this.receiveBuffer = new ReceiveBuffer(config.receiveBufferBytes);
    this.localMss = config.maxDatagramBytes - ENCAP_OVERHEAD_BYTES - TCP_HEADER_BYTES;
    this.offeredShift = config.windowScaling ? windowShiftFor(config.receiveBufferBytes) : 0;
    this.tsOffset = tsOffset >>> 0;
    this.rtt = new RttEstimator(config.initialRtoMs, config.minRtoMs, config.maxRtoMs, config.clockGranularityMs, config.rtoBackoff);
    const floor = config.minCwndSegments;
    this.cc = config.congestionControl === 'newreno' ? new NewReno(this.localMss, floor, config.slowStartAckLimitSegments) : new Cubic(this.localMss, floor, true, config.slowStartAckLimitSegments);
    this.recovery = new LossRecovery(this.board, this.cc, () => this.sackOk, config.dupThresh, config.lossDetection === 'rack');
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
    if (this.finQueued || this.state === 'CLOSED' || this.appClosed) throw sendError(this.error);
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
    if (this.receiveBuffer.readableBytes === 0) return EMPTY;
    const out = this.receiveBuffer.read(maxBytes);
    this.counters.bytesRead += out.length;
    // RFC 1122 4.2.3.3: tell the peer when the window opened by enough to matter.
    // (Not once the peer's FIN arrived: it can send nothing more.)
    if (isSynchronized(this.state) && !this.peerFinDone && this.windowUpdateWorthSending()) {
      this.ackNow = true;
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

  /** Half-close: a FIN follows the data already written (RFC 9293 3.10.4). */
  shutdown(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.shutdownNow() : calls.call(this, 'shutdown', [], () => this.shutdownNow());
  }

  private shutdownNow(): void {
    if (this.finQueued || this.state === 'CLOSED') return;
    switch (this.state) {
      case 'SYN-SENT':
        // Nothing was sent yet that needs a FIN; the FIN goes after the handshake.
        this.finQueued = true;
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.finQueued = true;
        if (this.state === 'ESTABLISHED') this.setState('FIN-WAIT-1');
        break;
      case 'CLOSE-WAIT':
        this.finQueued = true;
        this.setState('LAST-ACK');
        break;
      default:
        return;
    }
    this.host.wantsTransmit(this);
  }

  /** Full close: no more reads or writes. Unread data means the peer's data is lost, so RST (RFC 2525 2.17). */
  close(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.closeNow() : calls.call(this, 'close', [], () => this.closeNow());
  }

  private closeNow(): void {
    if (this.state === 'CLOSED' || this.appClosed) return;
    if (this.receiveBuffer.readableBytes > 0) {
      this.abortNow();
      return;
    }
    this.appClosed = true;
    if (this.state === 'SYN-SENT') {
      this.enterClosed(undefined);
      return;
    }
    // Already half-closed and waiting for the peer's FIN: an orphan does not wait forever.
    if (this.state === 'FIN-WAIT-2') this.timers.set(Timer.Linger, this.nowMs + this.finWait2TimeoutMs());
    this.shutdownNow();
    this.host.timersChanged(this);
  }

  /** How long an orphaned FIN-WAIT-2 waits for the peer's FIN (as Linux's tcp_fin_timeout). */
  private finWait2TimeoutMs(): number {
    return Math.max(2 * this.config.mslMs, 1000);
  }

  /** Abort: RST to the peer, everything discarded (RFC 9293 3.10.5). */
  abort(): void {
    const calls = this.host.calls;
    return calls === undefined ? this.abortNow() : calls.call(this, 'abort', [], () => this.abortNow());
  }

  private abortNow(): void {
    if (this.state === 'CLOSED') return;
    if (this.state !== 'SYN-SENT' && this.state !== 'TIME-WAIT') this.sendReset(this.sndNxt, this.receiveBuffer.rcvNxt, true);
    this.enterClosed(undefined);
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
    if (this.datagramQueue.length >= this.config.maxQueuedDatagrams) {
      this.countDrop('datagram-queue-full');
      return false;
    }
    this.datagramQueue.push(bytes.slice());
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

  // ================================================================== opening

  /** Active open (RFC 9293 3.10.1): SYN-SENT, SYN on the next poll. */
  openActive(nowMs: number): void {
    this.nowMs = nowMs;
    this.setState('SYN-SENT', nowMs);
    this.lastReceiveMs = nowMs;
    this.host.wantsTransmit(this);
  }

  /** Passive open: the SYN that created this connection from a listener (RFC 9293 3.10.7.2). */
  openPassive(nowMs: number, seg: TcpSegment): void {
    this.nowMs = nowMs;
    this.irs = seg.seq;
    this.receiveBuffer.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdvRight = this.receiveBuffer.rcvNxt;
    this.negotiate(seg.options);
    if (this.tsOk) this.tsRecent = seg.options.timestamp!.value;
    this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 2.2)
    this.maxSndWnd = this.sndWnd;
    this.lastReceiveMs = nowMs;
    this.setState('SYN-RECEIVED', nowMs);
    this.host.wantsTransmit(this);
  }

  /** Apply the peer's SYN options (ours offered everything the config enables). */
  private negotiate(opts: TcpOptions): void {
    const c = this.config;
    this.peerMss = opts.mss !== undefined && opts.mss > 0 ? opts.mss : DEFAULT_PEER_MSS;
    // RFC 7323 2.2: scaling applies only when both SYNs carried the option.
    this.wscaleOk = c.windowScaling && opts.windowScale !== undefined;
    this.sndShift = this.wscaleOk ? Math.min(opts.windowScale!, MAX_WINDOW_SHIFT) : 0;
    this.rcvShift = this.wscaleOk ? this.offeredShift : 0;
    this.sackOk = c.sack && opts.sackPermitted === true;
    this.tsOk = c.timestamps && opts.timestamp !== undefined;
    this.cc.setMss(this.mssBytes);
  }

  /** Data bytes in a full segment: the smaller MSS less the timestamp option (RFC 6691). */
  get mssBytes(): number {
    return Math.min(this.peerMss, this.localMss) - (this.tsOk ? TIMESTAMP_OPTION_BYTES : 0);
  }

  // ================================================================== arriving segments (RFC 9293 3.10.7)

  handleSegment(nowMs: number, seg: TcpSegment): void {
    this.nowMs = nowMs;
    this.counters.segmentsReceived++;
    this.lastReceiveMs = nowMs;
    this.keepaliveProbes = 0;
    const trace = this.host.trace;
    if (trace) {
      trace({ type: 'receive', atMs: nowMs, connectionId: this.id, seq: seg.seq, ack: seg.ack, flags: seg.flags, lengthBytes: seg.payload.length, windowBytes: seg.window << (seg.flags & SYN ? 0 : this.sndShift) });
    }
    switch (this.state) {
      case 'CLOSED':
        return;
      case 'SYN-SENT':
        this.handleInSynSent(nowMs, seg);
        break;
      default:
        this.handleSynchronizedOrSynReceived(nowMs, seg);
    }
    this.afterInput();
  }

  /** RFC 9293 3.10.7.3. */
  private handleInSynSent(nowMs: number, seg: TcpSegment): void {
    const flags = seg.flags;
    // First, the ACK bit.
    if (flags & ACK) {
      if (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt)) {
        if (!(flags & RST)) this.sendReset(seg.ack, 0, false);
        this.countDrop('bad-ack');
        return;
      }
    }
    // Second, the RST bit: only with an acceptable ACK (RFC 5961 3.2's SYN-SENT rule).
    if (flags & RST) {
      if (flags & ACK) this.enterClosed(errorOf('ECONNREFUSED', 'connection refused by peer'));
      else this.countDrop('rst-without-ack');
      return;
    }
    // Fourth, the SYN bit.
    if (!(flags & SYN)) {
      this.countDrop('no-syn');
      return;
    }
    this.irs = seg.seq;
    this.receiveBuffer.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdvRight = this.receiveBuffer.rcvNxt;
    this.negotiate(seg.options);
    if (this.tsOk) this.tsRecent = seg.options.timestamp!.value;
    if (flags & ACK) {
      this.sndUna = seg.ack;
      this.sndWnd = seg.window; // RFC 7323 2.2: a SYN's window is never scaled.
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.maxSndWnd = this.sndWnd;
      this.sampleSynRtt(nowMs, seg);
      this.timers.clear(Timer.Retransmit);
      if (this.synRetransmitted) this.rtt.resetAfterSynTimeout();
      this.setState('ESTABLISHED', nowMs);
      this.announce('connected');
      this.ackNow = true;
      // Data or FIN carried on the SYN-ACK (RFC 9293: continue at the sixth step).
      this.processDataAndFin(nowMs, seg, seqAdd(seg.seq, 1));
      if (this.finQueued && this.state === 'ESTABLISHED') this.setState('FIN-WAIT-1', nowMs);
      else if (this.finQueued && this.state === 'CLOSE-WAIT') this.setState('LAST-ACK', nowMs);
    } else {
      // Simultaneous open: SYN-RECEIVED, our SYN is sent again as a SYN-ACK.
      this.sndWnd = seg.window;
      this.maxSndWnd = this.sndWnd;
      this.synPending = true;
      this.host.wantsTransmit(this);
      this.setState('SYN-RECEIVED', nowMs);
      this.timers.clear(Timer.Retransmit);
    }
  }

  private handleSynchronizedOrSynReceived(nowMs: number, seg: TcpSegment): void {
    const flags = seg.flags;
    const rb = this.receiveBuffer;

    // SYN-RECEIVED: the peer retransmitted its SYN (our SYN-ACK was lost): answer with the SYN-ACK again.
    if (this.state === 'SYN-RECEIVED' && flags & SYN && !(flags & ACK) && seg.seq === this.irs) {
      this.synPending = true;
      this.host.wantsTransmit(this);
      return;
    }
    // Simultaneous open: the peer's SYN-ACK repeats its SYN (SEQ = IRS) and acknowledges ours; RFC 9293
    // Figure 8 goes to ESTABLISHED here (the sequence check would otherwise reject the SYN).
    if (this.state === 'SYN-RECEIVED' && (flags & (SYN | ACK | RST)) === (SYN | ACK) && seg.seq === this.irs && seg.ack === this.sndNxt && !this.synPending) {
      this.sndUna = seg.ack;
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.timers.clear(Timer.Retransmit);
      this.sampleSynRtt(nowMs, seg);
      this.setState(this.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED', nowMs);
      this.announce('connected');
      this.ackNow = true;
      return;
    }

    // RFC 7323 5.3: PAWS, before the sequence check (not for RST).
    if (this.tsOk && !(flags & RST) && seg.options.timestamp !== undefined && seqLt(seg.options.timestamp.value, this.tsRecent)) {
      this.countDrop('paws');
      this.ackNow = true;
      return;
    }

    // First, the sequence number (RFC 9293 3.10.7.4, the acceptability table).
    const segLen = seg.payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const rcvWnd = Math.max(0, seqDiff(this.rcvAdvRight, rb.rcvNxt));
    if (!segmentAcceptable(seg.seq, segLen, rb.rcvNxt, rcvWnd)) {
      if (!(flags & RST)) {
        this.countDrop('out-of-window');
        this.ackNow = true;
        // RFC 2883: data we already had is reported back as a D-SACK block (spurious retransmission).
        const end = seqAdd(seg.seq, seg.payload.length);
        if (this.sackOk && seg.payload.length > 0 && seqLe(end, rb.rcvNxt)) this.pendingDsack = { left: seg.seq, right: end };
        // TIME-WAIT: a retransmitted FIN restarts 2 MSL (RFC 9293 3.10.7.4, eighth step).
        if (this.state === 'TIME-WAIT' && flags & FIN) this.timers.set(Timer.Linger, nowMs + 2 * this.config.mslMs);
      } else {
        this.countDrop('rst-out-of-window');
      }
      return;
    }

    // Second, the RST bit (RFC 5961 3.2: exact match resets, otherwise a challenge ACK).
    if (flags & RST) {
      if (seg.seq !== rb.rcvNxt) {
        this.sendChallengeAck(nowMs);
        return;
      }
      this.onReset();
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
    if (this.state === 'SYN-RECEIVED') {
      if (seqLe(seg.ack, this.sndUna) || seqGt(seg.ack, this.sndNxt)) {
        this.sendReset(seg.ack, 0, false);
        this.countDrop('bad-ack');
        return;
      }
      this.sndWnd = seg.window << this.sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.timers.clear(Timer.Retransmit);
      this.sampleSynRtt(nowMs, seg);
      this.sndUna = seg.ack;
      if (this.synRetransmitted) this.rtt.resetAfterSynTimeout();
      this.setState(this.finQueued ? 'FIN-WAIT-1' : 'ESTABLISHED', nowMs);
      this.announce(this.active ? 'connected' : 'accepted');
    }
    if (!this.processAck(nowMs, seg)) return;

    // Sixth and seventh: segment text, then the FIN bit.
    this.processDataAndFin(nowMs, seg, seg.seq);
  }

  /** RFC 9293 3.10.7.4's ACK processing plus RFC 5961 5.2's acceptable range. Returns false to drop the segment. */
  private processAck(nowMs: number, seg: TcpSegment): boolean {
    const ack = seg.ack;
    // RFC 5961 5.2: ACKs older than one maximum window, or for data never sent, are answered and dropped.
    if (seqGt(ack, this.sndNxt) || seqLt(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 1)))) {
      this.countDrop('bad-ack');
      this.ackNow = true;
      return false;
    }
    const window = seg.window << this.sndShift;
    let sack: SackUpdate | undefined;
    const blocks = seg.options.sack;
    // Only RACK wants the delivered segments: the common case allocates no list and no callback.
    const delivered: SentSegment[] = this.recovery.rack !== undefined ? [] : NONE_DELIVERED;
    const collect = this.recovery.rack !== undefined ? (s: SentSegment) => delivered.push(s) : undefined;
    if (this.sackOk && blocks !== undefined && blocks.length > 0) {
      sack = this.board.applySack(blocks, ack, collect);
      this.counters.sackedBytes += sack.newlySackedBytes;
    }
    const advanced = seqGt(ack, this.sndUna);
    // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no data, and leaves the window alone.
    const duplicate = !advanced && ack === this.sndUna && seg.payload.length === 0 && !(seg.flags & (FIN | SYN)) && window === this.sndWnd && !this.board.isEmpty;
    if (duplicate) this.counters.duplicateAcks++;
    if (advanced) this.onNewAck(nowMs, seg, ack, collect);

    // Loss detection and recovery (part of the ACK's meaning, before the window decides what may be sent).
    // (A D-SACK after everything was acknowledged still matters: it may undo the episode.)
    if (!this.board.isEmpty || advanced || sack !== undefined) {
      const info = this.ackInfo;
      info.ack = ack;
      info.advanced = advanced;
      info.duplicate = duplicate;
      info.sack = sack;
      info.tsEcho = this.tsOk ? seg.options.timestamp?.echo : undefined;
      info.delivered = delivered;
      info.srttMs = this.rtt.srttMs;
      const before = this.recovery.state;
      this.recovery.onAck(nowMs, info, this.mssBytes, this.sndNxt);
      this.armReorderTimer(nowMs);
      // RFC 8985 7.2: no tail loss probe during recovery; a probe timer armed before it becomes the RTO.
      if (this.timerIsProbe && !this.recovery.canProbe()) this.armRetransmit(nowMs);
      if (this.recovery.state !== before || this.recovery.fastRetransmitNow) {
        if (this.host.trace) this.traceCwnd(nowMs);
        this.host.wantsTransmit(this);
      }
      if (duplicate || sack !== undefined) this.host.wantsTransmit(this);
      info.sack = undefined;
      info.delivered = NONE_DELIVERED;
    }

    // RFC 9293 3.10.7.4: update the send window from the newest segment only.
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack))) {
      const opened = window > this.sndWnd;
      this.sndWnd = window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
      if (opened) this.host.wantsTransmit(this);
      if (this.host.trace) this.traceWindow(nowMs);
    }
    if (this.timers.isArmed(Timer.Persist)) {
      // Any answer resets the count of unanswered probes; an open window ends probing.
      this.probesWithoutAnswer = 0;
      if (this.sndWnd > 0) {
        this.timers.clear(Timer.Persist);
        this.persistBackoffs = 0;
        // A probe byte the peer did not take (it opened the window with a pure update) goes again now.
        const head = this.board.first();
        if (head !== undefined && head.seq === ack) this.board.markLost(head);
        if (!this.board.isEmpty) this.armRetransmit(nowMs);
        this.host.wantsTransmit(this);
      }
    }
    return this.state !== 'CLOSED';
  }

  /** SND.UNA moves: release acknowledged bytes, sample the RTT, restart the timer. */
  private onNewAck(nowMs: number, seg: TcpSegment, ack: number, onDelivered: ((s: SentSegment) => void) | undefined): void {
    const pipeBefore = this.recovery.pipeBytes(this.mssBytes);
    // Bytes of data (not SYN/FIN) newly acknowledged leave the send buffer.
    const dataEnd = seqAdd(this.sndBufSeq, this.sendBuffer.lengthBytes);
    const dataAcked = Math.max(0, seqDiff(seqLt(ack, dataEnd) ? ack : dataEnd, this.sndBufSeq));
    if (dataAcked > 0) {
      this.sendBuffer.acknowledge(dataAcked);
      this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
    }
    // RFC 6298 3 (Karn): only segments sent once give samples, unless timestamps identify the transmission.
    const newestOnceSentMs = this.board.acknowledge(ack, onDelivered);
    const ts = seg.options.timestamp;
    if (this.tsOk && ts !== undefined && ts.echo !== 0) {
      // RFC 7323 4.1: every ACK that acknowledges new data gives a sample, retransmissions included.
      const d = (this.tsNow(nowMs) - ts.echo) | 0;
      if (d >= 0) this.onRttSample(nowMs, d);
    } else if (newestOnceSentMs >= 0) {
      this.onRttSample(nowMs, nowMs - newestOnceSentMs);
    }
    this.sndUna = ack;
    this.rtoRetries = 0;
    this.lastProgressMs = nowMs;
    if (this.recovery.tlpHighSeq === undefined) this.timerIsProbe = false;
    // RFC 5681: the window grows on new ACKs, except during fast recovery (RFC 6675 holds cwnd there).
    if (dataAcked > 0 && this.recovery.state !== 'recovery') {
      this.cc.onAck(nowMs, dataAcked, pipeBefore, this.rtt.srttMs);
      if (this.host.trace) this.traceCwnd(nowMs);
    }
    // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, restart it otherwise.
    if (this.board.isEmpty) this.timers.clear(Timer.Retransmit);
    else if (!this.timers.isArmed(Timer.Persist)) this.armRetransmit(nowMs);
    if (this.writeBlocked && this.sendBuffer.freeBytes > 0 && !this.finQueued) {
      this.writeBlocked = false;
      this.host.emit({ type: 'writable', connection: this });
    }
    this.host.wantsTransmit(this);

    // Our FIN acknowledged?
    if (this.finQueued && this.sndUna === seqAdd(this.finSeq(), 1)) {
      switch (this.state) {
        case 'FIN-WAIT-1':
          this.setState('FIN-WAIT-2', nowMs);
          // An orphaned FIN-WAIT-2 does not wait forever for the peer's FIN (as Linux's tcp_fin_timeout).
          if (this.appClosed) this.timers.set(Timer.Linger, nowMs + this.finWait2TimeoutMs());
          break;
        case 'CLOSING':
          this.enterTimeWait(nowMs);
          break;
        case 'LAST-ACK':
          this.enterClosed(undefined);
          break;
      }
    }
  }

  /** The handshake's RTT: from the timestamp echo, or from the SYN if it was sent once (Karn). */
  private sampleSynRtt(nowMs: number, seg: TcpSegment): void {
    const ts = seg.options.timestamp;
    if (this.tsOk && ts !== undefined && ts.echo !== 0) {
      const d = (this.tsNow(nowMs) - ts.echo) | 0;
      if (d >= 0) this.onRttSample(nowMs, d);
    } else if (!this.synRetransmitted) {
      this.onRttSample(nowMs, nowMs - this.synSentMs);
    }
  }

  private onRttSample(nowMs: number, sampleMs: number): void {
    this.rtt.onSample(sampleMs);
    if (this.host.trace) {
      this.host.trace({ type: 'rtt', atMs: nowMs, connectionId: this.id, sampleMs, srttMs: this.rtt.srttMs, rttvarMs: this.rtt.rttvarMs, rtoMs: this.rtt.rtoMs });
    }
  }

  /** Sixth and seventh steps: place data, then the FIN (RFC 9293 3.10.7.4). */
  private processDataAndFin(nowMs: number, seg: TcpSegment, dataSeq: number): void {
    const rb = this.receiveBuffer;
    const flags = seg.flags;
    // RFC 7323 4.3: TS.Recent follows segments that cover Last.ACK.sent.
    const ts = seg.options.timestamp;
    if (this.tsOk && ts !== undefined && seqGe(ts.value, this.tsRecent) && seqLe(seg.seq, this.lastAckSent)) this.tsRecent = ts.value;

    const payload = seg.payload;
    const canReceive = this.state === 'ESTABLISHED' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2';
    if (payload.length > 0) {
      if (!canReceive || this.peerFinDone) {
        // The peer's FIN was consumed: nothing after it can be data.
        this.ackNow = true;
        return;
      }
      if (this.appClosed && seqGt(seqAdd(dataSeq, payload.length), rb.rcvNxt)) {
        // Nobody will read this: the peer must learn its data is lost (as Linux does after close()).
        this.sendReset(this.sndNxt, seqAdd(dataSeq, payload.length), true);
        this.enterClosed(undefined);
        return;
      }
      const windowBytes = Math.max(0, seqDiff(this.rcvAdvRight, rb.rcvNxt));
      const before = rb.rcvNxt;
      // RFC 2883 4: data we already hold (below RCV.NXT or inside an out-of-order range) goes back as a D-SACK.
      if (this.sackOk) {
        const end = seqAdd(dataSeq, payload.length);
        if (seqLt(dataSeq, rb.rcvNxt)) this.pendingDsack = { left: dataSeq, right: seqLt(end, rb.rcvNxt) ? end : rb.rcvNxt };
        else if (rb.holds(dataSeq, end)) this.pendingDsack = { left: dataSeq, right: end };
      }
      const { delivered, result } = rb.receive(dataSeq, payload, windowBytes);
      if (result !== 'ok') this.countDrop(result);
      if (delivered > 0) {
        this.counters.bytesReceived += delivered;
        if (!this.readablePending) {
          this.readablePending = true;
          this.host.emit({ type: 'readable', connection: this });
        }
      }
      // RFC 5681 4.2: out-of-order data, or data filling a hole, is acknowledged at once.
      if (dataSeq !== before || rb.hasOutOfOrder || result !== 'ok' || delivered > payload.length) {
        this.ackNow = true;
      } else if (this.config.delayedAckMs <= 0) {
        this.ackNow = true;
      } else {
        if (payload.length >= this.mssBytes) this.unackedFullSegments++;
        if (this.unackedFullSegments >= 2) this.ackNow = true;
        else if (!this.timers.isArmed(Timer.DelayedAck)) this.timers.set(Timer.DelayedAck, nowMs + this.config.delayedAckMs);
      }
    }

    if (flags & FIN && this.peerFinSeq === undefined) {
      const finSeq = seqAdd(dataSeq, payload.length);
      // A FIN beyond the window is not accepted yet; the peer will send it again.
      if (seqLe(finSeq, seqAdd(this.rcvAdvRight, 0)) || finSeq === rb.rcvNxt) this.peerFinSeq = finSeq;
      this.ackNow = true;
    }
    if (this.peerFinSeq !== undefined && !this.peerFinDone && rb.rcvNxt === this.peerFinSeq) this.onPeerFin(nowMs);
  }

  /** The FIN is next in sequence: consume it (RFC 9293 3.10.7.4, eighth step). */
  private onPeerFin(nowMs: number): void {
    const rb = this.receiveBuffer;
    this.peerFinDone = true;
    rb.rcvNxt = seqAdd(rb.rcvNxt, 1);
    this.rcvAdvRight = seqMax(this.rcvAdvRight, rb.rcvNxt);
    this.ackNow = true;
    this.timers.clear(Timer.DelayedAck);
    // 'end' comes before the 'closed' that TIME-WAIT may emit.
    if (!this.finEmitted && !this.appClosed) {
      this.finEmitted = true;
      this.host.emit({ type: 'end', connection: this });
    }
    switch (this.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        this.setState('CLOSE-WAIT', nowMs);
        break;
      case 'FIN-WAIT-1':
        if (this.sndUna === seqAdd(this.finSeq(), 1)) this.enterTimeWait(nowMs);
        else this.setState('CLOSING', nowMs);
        break;
      case 'FIN-WAIT-2':
        this.enterTimeWait(nowMs);
        break;
    }
  }

  private onReset(): void {
    switch (this.state) {
      case 'SYN-RECEIVED':
        // A passive open goes back to LISTEN silently; an active one was refused (RFC 9293 3.10.7.4).
        this.enterClosed(this.active ? errorOf('ECONNREFUSED', 'connection refused by peer') : undefined);
        return;
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        this.enterClosed(this.appClosed ? undefined : errorOf('ECONNRESET', 'connection reset by peer'));
        return;
      default:
        // CLOSING, LAST-ACK, TIME-WAIT: the application is done with it already.
        this.enterClosed(undefined);
    }
  }

  private sendChallengeAck(nowMs: number): void {
    if (nowMs - this.challengeWindowStartMs >= 1000) {
      this.challengeWindowStartMs = nowMs;
      this.challengeAcksInWindow = 0;
    }
    if (this.challengeAcksInWindow >= CHALLENGE_ACKS_PER_S) {
      this.countDrop('challenge-ack-limited');
      return;
    }
    this.challengeAcksInWindow++;
    this.counters.challengeAcks++;
    this.pendingChallengeAck = true;
  }

  // ================================================================== timers

  handleTimeout(nowMs: number): void {
    this.nowMs = nowMs;
    const t = this.timers;
    if (t.get(Timer.Retransmit) <= nowMs) {
      t.clear(Timer.Retransmit);
      this.onRetransmitTimeout(nowMs);
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.Persist) <= nowMs) {
      t.clear(Timer.Persist);
      this.onPersistTimeout(nowMs);
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.DelayedAck) <= nowMs) {
      t.clear(Timer.DelayedAck);
      this.ackNow = true;
    }
    if (t.get(Timer.Reorder) <= nowMs) {
      t.clear(Timer.Reorder);
      this.recovery.onReorderTimeout(nowMs, this.sndNxt, this.rtt.srttMs);
      this.armReorderTimer(nowMs);
      if (this.board.lostBytes > 0) this.host.wantsTransmit(this);
    }
    if (t.get(Timer.Keepalive) <= nowMs) {
      t.clear(Timer.Keepalive);
      this.onKeepaliveTimeout(nowMs);
    }
    if (this.isClosed()) return this.afterInput();
    if (t.get(Timer.Linger) <= nowMs) {
      t.clear(Timer.Linger);
      // TIME-WAIT done (RFC 9293 3.10.8), or an orphaned FIN-WAIT-2 gave up waiting.
      this.enterClosed(undefined);
    }
    this.afterInput();
  }

  private onRetransmitTimeout(nowMs: number): void {
    const c = this.config;
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      this.counters.timeouts++;
      if (this.synRetries >= c.synRetries) {
        this.enterClosed(errorOf('ETIMEDOUT', `no answer to the ${this.state === 'SYN-SENT' ? 'SYN' : 'SYN-ACK'} after ${c.synRetries} retries`));
        return;
      }
      this.synRetries++;
      this.synRetransmitted = true;
      this.rtt.onTimeout();
      this.synPending = true;
      this.traceRto(nowMs);
      this.host.wantsTransmit(this);
      return;
    }
    if (this.board.isEmpty) return;
    if (this.timerIsProbe) {
      // RFC 8985 7.3: the probe timeout fired before the RTO: send a probe, then wait for the RTO.
      this.timerIsProbe = false;
      this.tlpNow = true;
      this.host.wantsTransmit(this);
      return;
    }
    this.counters.timeouts++;
    const userTimedOut = c.userTimeoutMs > 0 && nowMs - this.lastProgressMs >= c.userTimeoutMs;
    if (this.rtoRetries >= c.maxRetransmits || userTimedOut) {
      this.enterClosed(errorOf('ETIMEDOUT', userTimedOut ? `no acknowledgment within the user timeout of ${c.userTimeoutMs} ms` : `no acknowledgment after ${c.maxRetransmits} retransmissions`));
      return;
    }
    this.rtoRetries++;
    // RFC 6298 5.5-5.6: back off, then resend; every unSACKed segment is presumed lost.
    this.rtt.onTimeout();
    this.recovery.onRto(nowMs, this.sndNxt);
    if (this.host.trace) this.traceCwnd(nowMs);
    this.traceRto(nowMs);
    this.host.wantsTransmit(this);
  }

  private onPersistTimeout(nowMs: number): void {
    const c = this.config;
    if (this.probesWithoutAnswer >= c.maxRetransmits || (c.userTimeoutMs > 0 && nowMs - this.lastReceiveMs >= c.userTimeoutMs)) {
      this.enterClosed(errorOf('ETIMEDOUT', 'zero-window probes went unanswered'));
      return;
    }
    this.probesWithoutAnswer++;
    this.persistBackoffs++;
    this.probeNow = true;
    this.host.wantsTransmit(this);
  }

  private onKeepaliveTimeout(nowMs: number): void {
    const c = this.config;
    if (c.keepaliveIdleMs <= 0 || !isSynchronized(this.state)) return;
    // With data outstanding the retransmission timer watches the peer; look again an idle period later.
    if (!this.board.isEmpty || this.timers.isArmed(Timer.Persist)) {
      this.timers.set(Timer.Keepalive, nowMs + c.keepaliveIdleMs);
      return;
    }
    // Heard from the peer since the timer was armed: wait until the idle period has really passed.
    const dueAtMs = this.lastReceiveMs + c.keepaliveIdleMs;
    if (this.keepaliveProbes === 0 && nowMs < dueAtMs) {
      this.timers.set(Timer.Keepalive, dueAtMs);
      return;
    }
    if (this.keepaliveProbes >= c.keepaliveProbes) {
      this.enterClosed(errorOf('ETIMEDOUT', `no answer to ${c.keepaliveProbes} keepalive probes`));
      return;
    }
    this.keepaliveProbes++;
    this.keepaliveNow = true;
    this.timers.set(Timer.Keepalive, nowMs + c.keepaliveIntervalMs);
    this.host.wantsTransmit(this);
  }

  /** The first probe is due keepaliveIdleMs after the peer was last heard from (RFC 1122 4.2.3.6; as Linux). */
  private armKeepalive(nowMs: number): void {
    if (this.config.keepaliveIdleMs <= 0) return;
    this.timers.set(Timer.Keepalive, Math.max(nowMs, this.lastReceiveMs + this.config.keepaliveIdleMs));
  }

  /** RFC 8985 6.3: RACK asks to look again when a segment's reordering allowance runs out. */
  private armReorderTimer(nowMs: number): void {
    const wait = this.recovery.reorderWaitMs;
    if (wait === undefined) this.timers.clear(Timer.Reorder);
    else this.timers.set(Timer.Reorder, nowMs + wait);
  }

  /** RFC 6298's RTO, or RFC 8985's shorter probe timeout when a tail loss probe may be sent. */
  private armRetransmit(nowMs: number): void {
    const rtoMs = this.rtt.rtoMs;
    this.timerIsProbe = false;
    if (this.config.tailLossProbe && this.recovery.canProbe() && this.rtt.hasSample && this.state !== 'SYN-SENT' && this.state !== 'SYN-RECEIVED') {
      // RFC 8985 7.2: PTO = 2 * SRTT, plus the worst-case delayed ACK when a single segment is in flight.
      let ptoMs = 2 * this.rtt.srttMs;
      if (this.board.count === 1) ptoMs += this.config.tlpDelayedAckAllowanceMs;
      ptoMs = Math.max(ptoMs, 10);
      if (ptoMs < rtoMs) {
        this.timerIsProbe = true;
        this.timers.set(Timer.Retransmit, nowMs + ptoMs);
        return;
      }
    }
    this.timers.set(Timer.Retransmit, nowMs + rtoMs);
  }

  private persistIntervalMs(): number {
    const base = Math.max(this.rtt.rtoMs, this.config.persistMinMs);
    return Math.min(base * Math.pow(2, this.persistBackoffs), this.config.persistMaxMs);
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

  /** The next datagram this connection wants to send now, or undefined. */
  pollTransmit(nowMs: number): Uint8Array | undefined {
    this.nowMs = nowMs;
    switch (this.state) {
      case 'CLOSED':
        return undefined;
      case 'SYN-SENT':
        return this.synPending ? this.sendSyn(nowMs, false) : undefined;
      case 'SYN-RECEIVED':
        return this.synPending ? this.sendSyn(nowMs, true) : this.pollAckOnly(nowMs);
    }
    if (this.datagramQueue.length > 0) {
      const payload = this.datagramQueue.shift()!;
      this.counters.datagramsSent++;
      return encodeUnreliableDatagram(this.localPort, this.remotePort, payload);
    }
    return this.pollData(nowMs) ?? this.pollAckOnly(nowMs);
  }

  private sendSyn(nowMs: number, synAck: boolean): Uint8Array {
    const c = this.config;
    const options: TcpOptions = { mss: this.localMss };
    if (synAck) {
      // Only what the peer offered is answered (RFC 7323 1.3, RFC 2018 2).
      if (this.sackOk) options.sackPermitted = true;
      if (this.tsOk) options.timestamp = { value: this.tsNow(nowMs), echo: this.tsRecent };
      if (this.wscaleOk) options.windowScale = this.rcvShift;
    } else {
      if (c.sack) options.sackPermitted = true;
      if (c.timestamps) options.timestamp = { value: this.tsNow(nowMs), echo: 0 };
      if (c.windowScaling) options.windowScale = this.offeredShift;
    }
    const window = Math.min(this.receiveBuffer.freeBytes, TCP_MAX_WINDOW_FIELD);
    const flags = synAck ? SYN | ACK : SYN;
    const ack = synAck ? this.receiveBuffer.rcvNxt : 0;
    const bytes = allocSegmentDatagram(
      { srcPort: this.localPort, dstPort: this.remotePort, seq: this.iss, ack, flags, window, checksum: 0, urgentPointer: 0, options },
      0,
    );
    sealDatagram(bytes);
    this.rcvAdvRight = seqAdd(this.receiveBuffer.rcvNxt, window);
    this.lastAckSent = this.receiveBuffer.rcvNxt;
    const retransmit = this.synRetries > 0;
    this.synPending = false;
    this.synSentMs = nowMs;
    this.sndNxt = seqAdd(this.iss, 1);
    this.armRetransmit(nowMs);
    this.afterSend(nowMs, this.iss, ack, flags, 0, window, retransmit);
    return bytes;
  }

  /**
   * Data, FIN and probes. Order: a due zero-window or tail loss probe; a retransmission chosen by loss
   * recovery (RFC 6675 NextSeg rules 1, 3, 4); new data within min(cwnd - pipe, the peer's window), with
   * sender SWS avoidance (RFC 9293 3.8.6.2.1) and Nagle (RFC 896); a FIN on its own.
   */
  private pollData(nowMs: number): Uint8Array | undefined {
    if (this.state === 'TIME-WAIT' || this.state === 'FIN-WAIT-2') return undefined;
    const dataEnd = seqAdd(this.sndBufSeq, this.sendBuffer.lengthBytes);
    const unsent = Math.max(0, seqDiff(dataEnd, this.sndNxt));
    const maxPayload = this.maxPayloadBytes();
    const rwndRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);

    if (this.probeNow) {
      this.probeNow = false;
      this.timers.set(Timer.Persist, nowMs + this.persistIntervalMs());
      this.counters.zeroWindowProbes++;
      // RFC 9293 3.8.6.1: one byte beyond a zero window (or what fits a small one); an unanswered earlier
      // probe is simply sent again.
      const head = this.board.first();
      if (head !== undefined) return this.retransmitSegment(nowMs, head, dataEnd, 'probe');
      if (unsent > 0) return this.sendNewData(nowMs, Math.max(1, Math.min(unsent, Math.max(rwndRoom, 0), maxPayload)), dataEnd, true);
    }

    if (this.tlpNow) {
      this.tlpNow = false;
      // RFC 8985 7.3: new data if the window allows, otherwise the last segment again; then the RTO.
      if (unsent > 0 && rwndRoom > 0) {
        const len = Math.min(unsent, maxPayload, rwndRoom);
        const out = this.sendNewData(nowMs, len, dataEnd, false);
        this.recovery.onTailLossProbe(this.sndNxt, false);
        this.armRetransmit(nowMs);
        return out;
      }
      const last = this.board.last();
      if (last !== undefined) {
        this.recovery.onTailLossProbe(this.sndNxt, true);
        const out = this.retransmitSegment(nowMs, last, dataEnd, 'probe');
        this.armRetransmit(nowMs);
        return out;
      }
    }

    const cwnd = this.cc.cwndBytes;
    const pipe = this.recovery.pipeBytes(this.mssBytes);
    const rexmit = this.recovery.nextRetransmission(pipe, cwnd, unsent > 0 && rwndRoom > 0, this.mssBytes);
    if (rexmit !== undefined) {
      const fast = this.recovery.state === 'recovery';
      return this.retransmitSegment(nowMs, rexmit, dataEnd, fast ? 'fast' : 'rto');
    }

    if (unsent > 0) {
      let len = Math.min(unsent, maxPayload);
      if (len > rwndRoom) len = Math.max(rwndRoom, 0);
      const idle = this.board.isEmpty;
      if (len > 0 && len < maxPayload) {
        // Sender SWS avoidance and Nagle: a short segment only if it empties the queue and nothing is
        // outstanding (or Nagle is off, or a FIN follows), or if it is at least half the peer's largest window.
        const pushAll = len === unsent && (this.noDelay || idle || this.finQueued);
        const halfWindow = len >= this.maxSndWnd / 2 && (this.noDelay || idle);
        if (!pushAll && !halfWindow) len = 0;
      }
      if (len > 0 && pipe + len > cwnd && !(pipe === 0 && len <= cwnd)) len = 0;
      if (len > 0) return this.sendNewData(nowMs, len, dataEnd, false);
      // Could not send for the peer's window with nothing in flight: only the persist timer can help.
      if (idle && rwndRoom < Math.min(unsent, maxPayload) && !this.timers.isArmed(Timer.Persist)) {
        this.timers.set(Timer.Persist, nowMs + this.persistIntervalMs());
      }
      return undefined;
    }

    // A FIN on its own (no data left to carry it).
    if (this.finQueued && this.sndNxt === dataEnd && this.finAllowedInState()) return this.sendNewData(nowMs, 0, dataEnd, false);
    return undefined;
  }

  private finAllowedInState(): boolean {
    const s = this.state;
    return s === 'FIN-WAIT-1' || s === 'LAST-ACK' || s === 'CLOSING';
  }

  /** Sequence number of our FIN (valid once queued). */
  private finSeq(): number {
    return seqAdd(this.sndBufSeq, this.sendBuffer.lengthBytes);
  }

  /** Data bytes that fit in the next segment with the options it will carry. */
  private maxPayloadBytes(): number {
    const optionBytes = this.segmentOptionsLength();
    const mss = Math.min(this.peerMss, this.localMss);
    return Math.max(1, Math.min(mss - optionBytes, this.config.maxDatagramBytes - ENCAP_OVERHEAD_BYTES - TCP_HEADER_BYTES - optionBytes));
  }

  private segmentOptionsLength(): number {
    let len = this.tsOk ? TIMESTAMP_OPTION_BYTES : 0;
    if (this.sackOk && (this.receiveBuffer.hasOutOfOrder || this.pendingDsack !== undefined)) {
      const blocks = Math.min(this.receiveBuffer.sackBlockCount + (this.pendingDsack ? 1 : 0), maxSackBlocks(this.tsOk));
      len += 4 + 8 * blocks;
    }
    return len;
  }

  /** New data (and the FIN when it follows) at SND.NXT. */
  private sendNewData(nowMs: number, len: number, dataEnd: number, probe: boolean): Uint8Array {
    const seq = this.sndNxt;
    const fin = this.finQueued && seqAdd(seq, len) === dataEnd && this.finAllowedInState();
    const span = len + (fin ? 1 : 0);
    const wasIdle = this.board.isEmpty;
    if (wasIdle) {
      this.lastProgressMs = nowMs;
      // RFC 5681 4.1: after an idle period longer than an RTO, restart from a smaller window.
      if (this.lastSendMs > 0 && nowMs - this.lastSendMs > this.rtt.rtoMs && len > 0) {
        this.cc.onIdle(nowMs);
        if (this.host.trace) this.traceCwnd(nowMs);
      }
    }
    const bytes = this.emitSegment(nowMs, seq, len, fin, dataEnd, false);
    this.board.push({ seq, len: span, dataBytes: len, fin, sentMs: nowMs, tsVal: this.tsNow(nowMs), xmits: 1, sentOrder: this.sendOrder++, sacked: false, lost: false, retransmitted: false });
    this.sndNxt = seqAdd(seq, span);
    this.counters.bytesSent += len;
    if (!probe && !this.timers.isArmed(Timer.Retransmit)) this.armRetransmit(nowMs);
    return bytes;
  }

  /** Send a scoreboard record again (cut to the current segment size if options grew). */
  private retransmitSegment(nowMs: number, s: SentSegment, dataEnd: number, reason: 'rto' | 'fast' | 'probe'): Uint8Array {
    const maxPayload = this.maxPayloadBytes();
    if (s.dataBytes > maxPayload) this.board.split(s, maxPayload);
    const bytes = this.emitSegment(nowMs, s.seq, s.dataBytes, s.fin, dataEnd, true, s.dataBytes > 0 && this.host.corruptRetransmission());
    const tsVal = this.tsNow(nowMs);
    this.board.onRetransmit(s, nowMs, tsVal, this.sendOrder++);
    if (reason !== 'probe') this.recovery.onRetransmitted(this.tsOk ? tsVal : undefined);
    this.counters.segmentsRetransmitted++;
    this.counters.bytesRetransmitted += s.dataBytes;
    if (this.host.trace) this.host.trace({ type: 'retransmit', atMs: nowMs, connectionId: this.id, seq: s.seq, lengthBytes: s.dataBytes, reason });
    if (reason !== 'probe' && !this.timers.isArmed(Timer.Retransmit)) this.armRetransmit(nowMs);
    return bytes;
  }

  /** Build, fill and seal one data or FIN segment. */
  private emitSegment(nowMs: number, seq: number, len: number, fin: boolean, dataEnd: number, retransmit: boolean, corrupt = false): Uint8Array {
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len > 0 && seqAdd(seq, len) === dataEnd) flags |= PSH;
    const bytes = this.buildSegment(nowMs, seq, flags, len);
    if (len > 0) this.sendBuffer.copy(seqDiff(seq, this.sndBufSeq), bytes, bytes.length - CRC_BYTES - len, len);
    // A planted bug for testing the lab (EndpointOptions.faults): the CRC is computed after, so it is accepted.
    if (corrupt) bytes[bytes.length - CRC_BYTES - len] ^= 0x01;
    sealDatagram(bytes);
    this.afterSend(nowMs, seq, this.lastAckSent, flags, len, this.lastWindowSentBytes, retransmit);
    return bytes;
  }

  private pollAckOnly(nowMs: number): Uint8Array | undefined {
    if (this.keepaliveNow) {
      this.keepaliveNow = false;
      this.counters.keepalivesSent++;
      // RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT - 1 draws an ACK.
      return this.sendBareAck(nowMs, seqAdd(this.sndNxt, -1));
    }
    if (this.pendingChallengeAck) {
      this.pendingChallengeAck = false;
      return this.sendBareAck(nowMs, this.sndNxt);
    }
    // Window updates are decided where the window opens (read()), so nothing else is due here.
    if (!this.ackNow) return undefined;
    return this.sendBareAck(nowMs, this.sndNxt);
  }

  private sendBareAck(nowMs: number, seq: number): Uint8Array {
    const bytes = this.buildSegment(nowMs, seq, ACK, 0);
    sealDatagram(bytes);
    this.afterSend(nowMs, seq, this.lastAckSent, ACK, 0, this.lastWindowSentBytes, false);
    return bytes;
  }

  /**
   * Header with ACK, window and options for a synchronized state; the payload is copied by the caller. The ACK
   * and window it carries are left in lastAckSent and lastWindowSentBytes.
   */
  private buildSegment(nowMs: number, seq: number, flags: number, payloadBytes: number): Uint8Array {
    const rb = this.receiveBuffer;
    let sack: SackBlock[] | undefined;
    if (this.sackOk && (rb.hasOutOfOrder || this.pendingDsack !== undefined)) {
      const max = maxSackBlocks(this.tsOk);
      // RFC 2883: a D-SACK block goes first, then the usual blocks, most recent first.
      sack = this.pendingDsack !== undefined ? [this.pendingDsack, ...rb.sackBlocks(max - 1)] : rb.sackBlocks(max);
      this.pendingDsack = undefined;
    }
    const windowField = this.windowFieldToAdvertise();
    const ack = rb.rcvNxt;
    const bytes = allocSynchronizedSegmentDatagram(this.localPort, this.remotePort, seq, ack, flags, windowField, this.tsOk, this.tsNow(nowMs), this.tsRecent, sack, payloadBytes);
    this.rcvAdvRight = seqMax(this.rcvAdvRight, seqAdd(ack, windowField << this.rcvShift));
    this.lastAckSent = ack;
    this.lastWindowSentBytes = windowField << this.rcvShift;
    return bytes;
  }

  /**
   * The window field to send: RFC 9293 3.8.6.2.2 receiver SWS avoidance (the right edge moves only by
   * min(buffer / 2, MSS) or more) and never shrinking the edge already offered.
   */
  private windowFieldToAdvertise(): number {
    const rb = this.receiveBuffer;
    const free = rb.freeBytes;
    const scale = this.rcvShift;
    const maxWindow = TCP_MAX_WINDOW_FIELD << scale;
    const offered = Math.max(0, seqDiff(this.rcvAdvRight, rb.rcvNxt));
    let window = Math.min(free, maxWindow);
    const threshold = Math.min(this.config.receiveBufferBytes / 2, this.mssBytes);
    if (window - offered < threshold && window > offered) window = offered;
    if (window < offered) window = offered; // never shrink (RFC 9293 3.8.6)
    let field = Math.ceil(window / (1 << scale));
    if (field > TCP_MAX_WINDOW_FIELD) field = TCP_MAX_WINDOW_FIELD;
    // Rounding up may not offer more than the buffer holds unless it keeps an edge already offered.
    if (field << scale > Math.max(free, offered)) field = Math.floor(Math.max(free, offered) / (1 << scale));
    return field;
  }

  /** Would an ACK now open the window by enough to be worth a segment (RFC 1122 4.2.3.3)? */
  private windowUpdateWorthSending(): boolean {
    const rb = this.receiveBuffer;
    const offered = Math.max(0, seqDiff(this.rcvAdvRight, rb.rcvNxt));
    const possible = Math.min(rb.freeBytes, TCP_MAX_WINDOW_FIELD << this.rcvShift);
    const threshold = Math.min(this.config.receiveBufferBytes / 2, 2 * this.mssBytes);
    return possible - offered >= threshold;
  }

  private afterSend(nowMs: number, seq: number, ack: number, flags: number, len: number, window: number, retransmit: boolean): void {
    this.counters.segmentsSent++;
    this.ackNow = false;
    this.unackedFullSegments = 0;
    this.timers.clear(Timer.DelayedAck);
    this.lastSendMs = nowMs;
    if (this.host.trace) {
      this.host.trace({ type: 'send', atMs: nowMs, connectionId: this.id, seq, ack, flags, lengthBytes: len, windowBytes: window, retransmit });
    }
  }

  private tsNow(nowMs: number): number {
    return (Math.floor(nowMs) + this.tsOffset) >>> 0;
  }

  // ================================================================== state changes

  private setState(next: TcpState, nowMs = this.nowMs): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    if (this.host.trace) this.host.trace({ type: 'state', atMs: nowMs, connectionId: this.id, from: prev, to: next });
    if (next === 'ESTABLISHED') this.armKeepalive(nowMs);
  }

  private announce(type: 'accepted' | 'connected'): void {
    if (this.announced) return;
    this.announced = true;
    this.host.emit({ type, connection: this });
    for (const bytes of this.earlyDatagrams) this.host.emit({ type: 'datagram', connection: this, bytes });
    this.earlyDatagrams.length = 0;
  }

  private enterTimeWait(nowMs: number): void {
    this.setState('TIME-WAIT', nowMs);
    this.sendBuffer.release();
    this.receiveBuffer.release();
    this.timers.clearAll();
    this.timers.set(Timer.Linger, nowMs + 2 * this.config.mslMs);
    this.emitClosed(undefined);
  }

  /** CLOSED: forget everything; tell the application once. */
  enterClosed(error: ConnectionError | undefined): void {
    if (this.state === 'CLOSED' && this.closedEmitted) return;
    this.error = error;
    this.setState('CLOSED');
    this.timers.clearAll();
    this.datagramQueue.length = 0;
    this.emitClosed(error);
    this.host.timersChanged(this);
    this.host.closed(this);
  }

  private emitClosed(error: ConnectionError | undefined): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    // A passive connection the application never saw disappears silently.
    if (!this.announced && !this.active) return;
    this.host.emit(error ? { type: 'closed', connection: this, error } : { type: 'closed', connection: this });
  }

  private sendReset(seq: number, ack: number, withAck: boolean): void {
    const bytes = allocSegmentDatagram(
      { srcPort: this.localPort, dstPort: this.remotePort, seq, ack: withAck ? ack : 0, flags: withAck ? RST | ACK : RST, window: 0, checksum: 0, urgentPointer: 0, options: {} },
      0,
    );
    sealDatagram(bytes);
    this.counters.segmentsSent++;
    if (this.host.trace) this.host.trace({ type: 'send', atMs: this.nowMs, connectionId: this.id, seq, ack, flags: withAck ? RST | ACK : RST, lengthBytes: 0, windowBytes: 0, retransmit: false });
    this.host.sendControl(this.remote, bytes);
  }

  /** Called after every input: report timer changes and pending output to the host. */
  private afterInput(): void {
    if (this.ackNow || this.pendingChallengeAck || this.probeNow || this.keepaliveNow || this.synPending) this.host.wantsTransmit(this);
    this.host.timersChanged(this);
  }

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
      if (this.earlyDatagrams.length >= this.config.maxQueuedDatagrams) {
        this.countDrop('datagram-queue-full');
        return;
      }
      this.earlyDatagrams.push(payload.slice());
      return;
    }
    this.host.emit({ type: 'datagram', connection: this, bytes: payload.slice() });
  }

  countDrop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    if (this.host.trace) this.host.trace({ type: 'drop', atMs: this.nowMs, reason, connectionId: this.id, remote: this.remote });
  }

  private traceRto(nowMs: number): void {
    if (this.host.trace) this.host.trace({ type: 'rto', atMs: nowMs, connectionId: this.id, rtoMs: this.rtt.rtoMs, backoffs: this.rtt.backoffs });
  }

  private traceCwnd(nowMs: number): void {
    this.host.trace?.({ type: 'cwnd', atMs: nowMs, connectionId: this.id, cwndBytes: this.cc.cwndBytes, ssthreshBytes: this.cc.ssthreshBytes });
  }

  private traceWindow(nowMs: number): void {
    this.host.trace?.({ type: 'window', atMs: nowMs, connectionId: this.id, sendWindowBytes: this.sndWnd, receiveWindowBytes: Math.max(0, seqDiff(this.rcvAdvRight, this.receiveBuffer.rcvNxt)) });
  }

  /** The whole connection as plain data (see Endpoint.snapshot). */
  snapshot(): Plain {
    return {
      fields: saveFields(this, CONNECTION_REFS),
      config: toPlain(this.config),
      remote: toPlain(this.remote),
      send: toPlain(this.sendBuffer.snapshotBytes()),
      receive: this.receiveBuffer.snapshot(),
      board: saveFields(this.board, []),
      recovery: saveFields(this.recovery, RECOVERY_REFS),
      rack: this.recovery.rack ? saveFields(this.recovery.rack, []) : null,
      rtt: saveFields(this.rtt, []),
      cc: this.cc.save(),
      timers: toPlain(this.timers.deadlines),
      heapDeadlineMs: toPlain(this.heapDeadlineMs),
    };
  }

  /** A connection rebuilt from Connection.snapshot() under a (new) endpoint. */
  static restore(host: ConnectionHost, plain: Plain): Connection {
    const s = plain as { [key: string]: Plain };
    const f = s.fields as { [key: string]: Plain };
    const config = fromPlain(s.config!) as ConnectionConfig;
    const remote = fromPlain(s.remote!) as Remote;
    const conn = new Connection(host, f.id as number, remote, f.localPort as number, f.remotePort as number, config, f.iss as number, f.tsOffset as number, f.active as boolean);
    restoreFields(conn, f);
    const send = fromPlain(s.send!) as Uint8Array;
    if (send.length > 0) conn.sendBuffer.write(send);
    conn.receiveBuffer.restore(s.receive!);
    restoreFields(conn.board, s.board as { [key: string]: Plain });
    restoreFields(conn.recovery, s.recovery as { [key: string]: Plain });
    if (conn.recovery.rack && s.rack) restoreFields(conn.recovery.rack, s.rack as { [key: string]: Plain });
    restoreFields(conn.rtt, s.rtt as { [key: string]: Plain });
    conn.cc.restore(s.cc as Record<string, number>);
    conn.timers.deadlines.set(fromPlain(s.timers!) as Float64Array);
    conn.heapDeadlineMs = fromPlain(s.heapDeadlineMs!) as number;
    return conn;
  }

  stats(): ConnectionStats {
    const rb = this.receiveBuffer;
    return {
      id: this.id,
      state: this.state,
      profile: this.config.profile,
      remote: { ...this.remote },
      localPort: this.localPort,
      remotePort: this.remotePort,
      iss: this.iss,
      irs: this.irs,
      sndUna: this.sndUna,
      sndNxt: this.sndNxt,
      sndMax: this.sndNxt,
      sndWl1: this.sndWl1,
      sndWl2: this.sndWl2,
      rcvNxt: rb.rcvNxt,
      mssBytes: this.mssBytes,
      peerMssBytes: this.peerMss,
      sendWindowBytes: this.sndWnd,
      receiveWindowBytes: Math.max(0, seqDiff(this.rcvAdvRight, rb.rcvNxt)),
      sendWindowShift: this.sndShift,
      receiveWindowShift: this.rcvShift,
      sackPermitted: this.sackOk,
      timestamps: this.tsOk,
      cwndBytes: this.cc.cwndBytes,
      ssthreshBytes: this.cc.ssthreshBytes,
      inFlightBytes: this.recovery.pipeBytes(this.mssBytes),
      outstandingBytes: seqDiff(this.sndNxt, this.sndUna),
      lostBytes: this.board.lostBytes,
      recoveryState: this.recovery.state,
      congestionControl: this.cc.name,
      srttMs: this.rtt.srttMs,
      rttvarMs: this.rtt.rttvarMs,
      rtoMs: this.rtt.rtoMs,
      sendBufferedBytes: this.sendBuffer.lengthBytes,
      receiveBufferedBytes: rb.readableBytes,
      outOfOrderBytes: rb.outOfOrderBytes,
      ...this.counters,
      ...this.recovery.counters,
      drops: { ...this.drops },
      timers: this.timers.toRecord(),
    };
  }
}

/** Members a snapshot saves on their own (or that the endpoint rebuilds). */
const CONNECTION_REFS = ['host', 'config', 'remote', 'sendBuffer', 'receiveBuffer', 'board', 'recovery', 'rtt', 'cc', 'timers', 'heapIndex', 'heapDeadlineMs', 'queuedForTransmit', 'queuedForTimers', 'ackInfo'] as const;
const RECOVERY_REFS = ['board', 'cc', 'sackOk', 'rack'] as const;

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

/** The smallest window-scale shift that lets the whole buffer be offered (RFC 7323 2.3). */
export function windowShiftFor(bufferBytes: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SHIFT && bufferBytes >> shift > TCP_MAX_WINDOW_FIELD) shift++;
  return shift;
}

function errorOf(code: ErrorCode, message: string): ConnectionError {
  return { code, message };
}

function sendError(error: ConnectionError | undefined): Error {
  const e = new Error(error ? `write after the connection failed: ${error.message}` : 'write after end') as Error & { code: string };
  e.code = error?.code ?? 'EPIPE';
  return e;
}

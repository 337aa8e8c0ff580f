// A connection's counters and the stats() snapshot built from them and from the TCB (cheap to copy out; the
// Node API's socket.stats(), `stevens replay` and the soak read it).
import type { Connection } from './connection.js';
import type { ConnectionDropReason, DropCounts } from './drop-reason.js';
import type { Remote } from './events.js';
import { seqDiff } from './seq.js';
import { fieldsOf, restoreNumbers, type Plain } from './snapshot.js';
import type { TcpState } from './state.js';

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
  /** ACKs sent in answer to invalid segments (rate-limited: reply-limits.ts). */
  invalidAcksSent: number;
  drops: DropCounts<ConnectionDropReason>;
  timers: Partial<Record<string, number>>;
}

const COUNTER_KEYS = [
  'bytesSent',
  'bytesRetransmitted',
  'bytesReceived',
  'bytesRead',
  'segmentsSent',
  'segmentsReceived',
  'segmentsRetransmitted',
  'datagramsSent',
  'datagramsReceived',
  'timeouts',
  'duplicateAcks',
  'sackedBytes',
  'zeroWindowProbes',
  'keepalivesSent',
  'challengeAcks',
  'invalidAcksSent',
] as const;

/** What a connection counts itself (loss recovery counts its own: recovery episodes, probes, D-SACKs). */
export class ConnectionCounters {
  bytesSent = 0;
  bytesRetransmitted = 0;
  bytesReceived = 0;
  bytesRead = 0;
  segmentsSent = 0;
  segmentsReceived = 0;
  segmentsRetransmitted = 0;
  datagramsSent = 0;
  datagramsReceived = 0;
  timeouts = 0;
  duplicateAcks = 0;
  sackedBytes = 0;
  zeroWindowProbes = 0;
  keepalivesSent = 0;
  challengeAcks = 0;
  invalidAcksSent = 0;
  readonly drops: DropCounts<ConnectionDropReason> = {};

  countDrop(reason: ConnectionDropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  save(): Plain {
    const out: { [key: string]: Plain } = {};
    for (const k of COUNTER_KEYS) out[k] = this[k];
    out.drops = { ...this.drops } as { [key: string]: number };
    return out;
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'connection counters');
    restoreNumbers(this, f, COUNTER_KEYS);
    Object.assign(this.drops, fieldsOf(f.drops, 'connection drops'));
  }
}

/** Everything stats() reports, read off the connection and its mechanisms. */
export function connectionStats(c: Connection): ConnectionStats {
  const rb = c.receiveBuffer;
  const k = c.counters;
  const r = c.recovery;
  return {
    id: c.id,
    state: c.state,
    profile: c.config.profile,
    remote: { ...c.remote },
    localPort: c.localPort,
    remotePort: c.remotePort,
    iss: c.iss,
    irs: c.irs,
    sndUna: c.sndUna,
    sndNxt: c.sndNxt,
    sndMax: c.sndNxt,
    sndWl1: c.sndWl1,
    sndWl2: c.sndWl2,
    rcvNxt: rb.rcvNxt,
    mssBytes: c.mssBytes,
    peerMssBytes: c.peerMss,
    sendWindowBytes: c.sndWnd,
    receiveWindowBytes: c.window.offeredBytes(rb.rcvNxt),
    sendWindowShift: c.sndShift,
    receiveWindowShift: c.window.shift,
    sackPermitted: c.sackOk,
    timestamps: c.ts.ok,
    cwndBytes: c.cc.cwndBytes,
    ssthreshBytes: c.cc.ssthreshBytes,
    inFlightBytes: r.pipeBytes(c.mssBytes),
    outstandingBytes: seqDiff(c.sndNxt, c.sndUna),
    lostBytes: c.board.lostBytes,
    recoveryState: r.state,
    congestionControl: c.cc.name,
    srttMs: c.rtt.srttMs,
    rttvarMs: c.rtt.rttvarMs,
    rtoMs: c.rtt.rtoMs,
    sendBufferedBytes: c.sendBuffer.lengthBytes,
    receiveBufferedBytes: rb.readableBytes,
    outOfOrderBytes: rb.outOfOrderBytes,
    bytesSent: k.bytesSent,
    bytesRetransmitted: k.bytesRetransmitted,
    bytesReceived: k.bytesReceived,
    bytesRead: k.bytesRead,
    segmentsSent: k.segmentsSent,
    segmentsReceived: k.segmentsReceived,
    segmentsRetransmitted: k.segmentsRetransmitted,
    datagramsSent: k.datagramsSent,
    datagramsReceived: k.datagramsReceived,
    timeouts: k.timeouts,
    duplicateAcks: k.duplicateAcks,
    sackedBytes: k.sackedBytes,
    zeroWindowProbes: k.zeroWindowProbes,
    keepalivesSent: k.keepalivesSent,
    challengeAcks: k.challengeAcks,
    invalidAcksSent: k.invalidAcksSent,
    fastRetransmits: r.counters.fastRetransmits,
    recoveryEpisodes: r.counters.recoveryEpisodes,
    spuriousRetransmits: r.counters.spuriousRetransmits,
    tailLossProbes: r.tlp.probes,
    dsacksReceived: r.counters.dsacksReceived,
    drops: { ...k.drops },
    timers: c.timers.toRecord(),
  };
}

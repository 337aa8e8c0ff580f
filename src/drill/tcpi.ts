// Linux TCP_INFO names (tcpi_*) computed from a stevens connection's stats(), for %{ assert }% blocks.
// Units follow Linux: times in microseconds, cwnd/ssthresh/unacked in segments of the send MSS. Every numeric
// stats() field is also available under its own stevens name (e.g. cwndBytes). A tcpi_* field stevens cannot
// compute (TCP_INFO_FIELDS_NOT_YET) is an UnknownTcpInfoField: the script fails with "not supported yet".

import type { Connection, TcpState } from '../core/index.js';
import { seqAdd, seqDiff } from '../core/index.js';

/** Linux's TCP state numbers (include/net/tcp_states.h). */
export const TCP_STATE_CONSTANTS: Record<string, number> = {
  TCP_ESTABLISHED: 1,
  TCP_SYN_SENT: 2,
  TCP_SYN_RECV: 3,
  TCP_FIN_WAIT1: 4,
  TCP_FIN_WAIT2: 5,
  TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7,
  TCP_CLOSE_WAIT: 8,
  TCP_LAST_ACK: 9,
  TCP_LISTEN: 10,
  TCP_CLOSING: 11,
};

/** Linux's congestion-avoidance states (tcpi_ca_state). TCP_CA_CWR needs ECN, which stevens has not. */
export const TCP_CA_CONSTANTS: Record<string, number> = {
  TCP_CA_Open: 0,
  TCP_CA_Disorder: 1,
  TCP_CA_CWR: 2,
  TCP_CA_Recovery: 3,
  TCP_CA_Loss: 4,
};

/** tcpi_options bits (include/uapi/linux/tcp.h). */
export const TCPI_OPT_CONSTANTS: Record<string, number> = {
  TCPI_OPT_TIMESTAMPS: 1,
  TCPI_OPT_SACK: 2,
  TCPI_OPT_WSCALE: 4,
  TCPI_OPT_ECN: 8,
  TCPI_OPT_ECN_SEEN: 16,
  TCPI_OPT_SYN_DATA: 32,
  TCPI_OPT_USEC_TS: 64,
  TCPI_OPT_TFO_CHILD: 128,
};

const CA_STATE_OF_RECOVERY: Record<string, number> = { open: 0, disorder: 1, recovery: 3, loss: 4 };

const STATE_NUMBER: Record<TcpState, number> = {
  ESTABLISHED: 1,
  'SYN-SENT': 2,
  'SYN-RECEIVED': 3,
  'FIN-WAIT-1': 4,
  'FIN-WAIT-2': 5,
  'TIME-WAIT': 6,
  CLOSED: 7,
  'CLOSE-WAIT': 8,
  'LAST-ACK': 9,
  LISTEN: 10,
  CLOSING: 11,
};

export function stateNumber(state: string): number | undefined {
  return (STATE_NUMBER as Record<string, number>)[state];
}

export function stateConstantName(n: number): string | undefined {
  return Object.keys(TCP_STATE_CONSTANTS).find((k) => TCP_STATE_CONSTANTS[k] === n);
}

/** Linux reports an unset ssthresh as TCP_INFINITE_SSTHRESH. */
const INFINITE_SSTHRESH = 0x7fffffff;

type Stats = Record<string, unknown>;

function num(stats: Stats, key: string): number {
  const v = stats[key];
  if (typeof v !== 'number') throw new Error(`stats() has no numeric field '${key}'`);
  return v;
}

function segments(stats: Stats, key: string, round: 'down' | 'up'): number {
  const bytes = num(stats, key);
  const mss = num(stats, 'mssBytes');
  if (!Number.isFinite(bytes) || bytes >= INFINITE_SSTHRESH) return INFINITE_SSTHRESH;
  if (mss <= 0) return 0;
  return round === 'down' ? Math.floor(bytes / mss) : Math.ceil(bytes / mss);
}

const usec = (ms: number) => Math.round(ms * 1000);

/** What a name is computed from: the connection assertions look at (undefined before there is one). */
export interface NameContext {
  stats: Stats | undefined;
  conn: Connection | undefined;
}

/** A tcpi_* field Linux has and stevens cannot compute yet. */
export class UnknownTcpInfoField extends Error {}

/** Linux's write_seq - snd_nxt: bytes written and not yet sent (the send buffer starts at ISS + 1 until the SYN is acknowledged). */
export function notSentBytes(s: Stats): number {
  const st = String(s['state']);
  const start = st === 'SYN-SENT' || st === 'SYN-RECEIVED' ? seqAdd(num(s, 'iss'), 1) : num(s, 'sndUna');
  return Math.max(0, seqDiff(seqAdd(start, num(s, 'sendBufferedBytes')), num(s, 'sndNxt')));
}

/** tcpi_* name -> how to compute it from stats() (and the connection, for what stats() does not carry). */
const TCPI: Record<string, (s: Stats, c: Connection) => number> = {
  tcpi_state: (s) => {
    const n = stateNumber(String(s['state']));
    if (n === undefined) throw new Error(`unknown connection state '${String(s['state'])}'`);
    return n;
  },
  tcpi_snd_cwnd: (s) => segments(s, 'cwndBytes', 'down'),
  tcpi_snd_ssthresh: (s) => segments(s, 'ssthreshBytes', 'down'),
  // Linux's packets_out: everything sent and not cumulatively acknowledged, SACKed or not.
  tcpi_unacked: (s) => {
    const mss = num(s, 'mssBytes');
    const outstanding = (num(s, 'sndMax') - num(s, 'sndUna')) >>> 0;
    return mss > 0 ? Math.ceil(outstanding / mss) : 0;
  },
  tcpi_in_flight: (s) => segments(s, 'inFlightBytes', 'up'),
  tcpi_snd_mss: (s) => num(s, 'mssBytes'),
  tcpi_rto: (s) => usec(num(s, 'rtoMs')),
  tcpi_rtt: (s) => usec(num(s, 'srttMs')),
  tcpi_srtt: (s) => usec(num(s, 'srttMs')),
  tcpi_rttvar: (s) => usec(num(s, 'rttvarMs')),
  tcpi_total_retrans: (s) => num(s, 'segmentsRetransmitted'),
  tcpi_retrans: (s) => num(s, 'segmentsRetransmitted'),
  tcpi_segs_out: (s) => num(s, 'segmentsSent'),
  tcpi_segs_in: (s) => num(s, 'segmentsReceived'),
  tcpi_bytes_sent: (s) => num(s, 'bytesSent'),
  tcpi_bytes_received: (s) => num(s, 'bytesReceived'),
  tcpi_snd_wnd: (s) => num(s, 'sendWindowBytes'),
  tcpi_rcv_wnd: (s) => num(s, 'receiveWindowBytes'),
  tcpi_timeouts: (s) => num(s, 'timeouts'),
  tcpi_dup_acks: (s) => num(s, 'duplicateAcks'),
  tcpi_fast_retrans: (s) => num(s, 'fastRetransmits'),
  // Linux's loss-recovery state machine: stevens' recoveryState maps one to one (no CWR: no ECN).
  tcpi_ca_state: (s) => {
    const n = CA_STATE_OF_RECOVERY[String(s['recoveryState'])];
    if (n === undefined) throw new Error(`unknown recovery state '${String(s['recoveryState'])}'`);
    return n;
  },
  tcpi_options: (s, c) =>
    (s['timestamps'] === true ? TCPI_OPT_CONSTANTS['TCPI_OPT_TIMESTAMPS']! : 0) |
    (s['sackPermitted'] === true ? TCPI_OPT_CONSTANTS['TCPI_OPT_SACK']! : 0) |
    (c.wscaleOk ? TCPI_OPT_CONSTANTS['TCPI_OPT_WSCALE']! : 0),
  tcpi_snd_wscale: (s) => num(s, 'sendWindowShift'),
  tcpi_rcv_wscale: (s) => num(s, 'receiveWindowShift'),
  // Linux's lost_out: segments marked lost and not yet repaired.
  tcpi_lost: (s) => segments(s, 'lostBytes', 'up'),
  tcpi_bytes_retrans: (s) => num(s, 'bytesRetransmitted'),
  tcpi_dsack_dups: (s) => num(s, 'dsacksReceived'),
  tcpi_total_rto: (s) => num(s, 'timeouts'),
  tcpi_notsent_bytes: notSentBytes,
};

/**
 * Linux's other tcpi_* fields (packetdrill's list): each needs a stats() value stevens does not keep, or keeps
 * only as a total (tcpi_sacked is the SACKed segments now; stats() counts all SACKed bytes ever).
 */
export const TCP_INFO_FIELDS_NOT_YET: readonly string[] = [
  'tcpi_retransmits', 'tcpi_probes', 'tcpi_backoff', 'tcpi_delivery_rate_app_limited', 'tcpi_fastopen_client_fail',
  'tcpi_ato', 'tcpi_rcv_mss', 'tcpi_sacked', 'tcpi_fackets', 'tcpi_last_data_sent', 'tcpi_last_ack_sent',
  'tcpi_last_data_recv', 'tcpi_last_ack_recv', 'tcpi_pmtu', 'tcpi_rcv_ssthresh', 'tcpi_advmss', 'tcpi_reordering',
  'tcpi_pacing_rate', 'tcpi_max_pacing_rate', 'tcpi_rcv_rtt', 'tcpi_rcv_space', 'tcpi_bytes_acked', 'tcpi_min_rtt',
  'tcpi_data_segs_in', 'tcpi_data_segs_out', 'tcpi_delivery_rate', 'tcpi_busy_time', 'tcpi_rwnd_limited',
  'tcpi_sndbuf_limited', 'tcpi_delivered', 'tcpi_delivered_ce', 'tcpi_reord_seen', 'tcpi_rcv_ooopack', 'tcpi_rehash',
  'tcpi_total_rto_recoveries', 'tcpi_total_rto_time', 'tcpi_ecn_mode', 'tcpi_accecn_opt_seen', 'tcpi_accecn_fail_mode',
  'tcpi_options2', 'tcpi_received_ce', 'tcpi_delivered_e1_bytes', 'tcpi_delivered_e0_bytes', 'tcpi_delivered_ce_bytes',
  'tcpi_received_e1_bytes', 'tcpi_received_e0_bytes', 'tcpi_received_ce_bytes',
];

export const TCPI_NAMES: readonly string[] = Object.keys(TCPI);

/**
 * The value of a name in an assertion: a TCP_* / TCP_CA_* / TCPI_OPT_* constant, a tcpi_* field, or a numeric
 * stats() field. Throws UnknownTcpInfoField for Linux fields stevens cannot compute, Error otherwise.
 */
export function lookupName(name: string, ctx: NameContext): number {
  const constant = TCP_STATE_CONSTANTS[name] ?? TCP_CA_CONSTANTS[name] ?? TCPI_OPT_CONSTANTS[name];
  if (constant !== undefined) return constant;
  if (TCP_INFO_FIELDS_NOT_YET.includes(name)) throw new UnknownTcpInfoField(name);
  const { stats, conn } = ctx;
  const f = TCPI[name];
  if (f === undefined && !(stats && typeof stats[name] === 'number')) {
    if (name.startsWith('tcpi_')) throw new Error(`unknown TCP_INFO field '${name}' (stevens computes: ${TCPI_NAMES.join(', ')})`);
    if (stats) throw new Error(`unknown name '${name}' (not a tcpi_* field, TCP_* / TCP_CA_* / TCPI_OPT_* constant or numeric stats() field)`);
  }
  if (!stats || !conn) throw new Error(`'${name}' needs a connection, but no socket is accepted or connected yet`);
  if (f) return f(stats, conn);
  return stats[name] as number;
}

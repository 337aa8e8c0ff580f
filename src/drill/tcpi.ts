// Linux TCP_INFO names (tcpi_*) computed from a stevens connection's stats(), for %{ assert }% blocks.
// Units follow Linux: times in microseconds, cwnd/ssthresh/unacked in segments of the send MSS. Every numeric
// stats() field is also available under its own stevens name (e.g. cwndBytes).

import type { TcpState } from '../core/index.js';

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

/** tcpi_* name -> how to compute it from stats(). */
const TCPI: Record<string, (s: Stats) => number> = {
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
};

export const TCPI_NAMES: readonly string[] = Object.keys(TCPI);

/**
 * The value of a name in an assertion: a TCP_* state constant, a tcpi_* field, or a numeric stats() field.
 * `stats` undefined means there is no connection to ask. Throws Error with a readable message otherwise.
 */
export function lookupName(name: string, stats: Stats | undefined): number {
  const constant = TCP_STATE_CONSTANTS[name];
  if (constant !== undefined) return constant;
  const f = TCPI[name];
  if (f === undefined && !(stats && typeof stats[name] === 'number')) {
    if (name.startsWith('tcpi_')) throw new Error(`unsupported TCP_INFO field '${name}' (supported: ${TCPI_NAMES.join(', ')})`);
    if (stats) throw new Error(`unknown name '${name}' (not a tcpi_* field, TCP_* state or numeric stats() field)`);
  }
  if (!stats) throw new Error(`'${name}' needs a connection, but no socket is accepted or connected yet`);
  if (f) return f(stats);
  return stats[name] as number;
}

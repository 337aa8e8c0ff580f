// Every tunable number of a connection, with the profile it comes from. Units are in the names.
import { CONTROLLERS, isCongestionControlName, type CongestionControlName } from './congestion/controllers.js';

export type ProfileName = 'tcp' | 'game';

export interface ConnectionConfig {
  profile: ProfileName;
  /** Largest UDP payload this endpoint sends or accepts (1232 is safe over IPv6's 1280-byte MTU). */
  maxDatagramBytes: number;
  /** Bytes the application may queue (unsent plus unacknowledged). */
  sendBufferBytes: number;
  /** Bytes of received data held for the application (in-order unread plus out-of-order ranges). */
  receiveBufferBytes: number;
  /** RFC 6298: initial RTO 1 s, clamped to [minRtoMs, maxRtoMs]. */
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** RFC 6298's clock granularity G. */
  clockGranularityMs: number;
  /** Multiplier applied to the RTO on each timeout (2 in RFC 6298 5.5). */
  rtoBackoff: number;
  /** RFC 1122 4.2.3.2: ACK at least every second full segment, otherwise within this delay. 0 disables delay. */
  delayedAckMs: number;
  /** Nagle's algorithm (RFC 896) off when true. */
  noDelay: boolean;
  /** Retransmissions of SYN or SYN-ACK before giving up with ETIMEDOUT. */
  synRetries: number;
  /** Consecutive RTO retransmissions of data before giving up with ETIMEDOUT (RFC 1122 R2). */
  maxRetransmits: number;
  /** RFC 9293 user timeout: unacknowledged data older than this aborts with ETIMEDOUT. 0 disables. */
  userTimeoutMs: number;
  /** Idle time before the first keepalive probe; 0 disables keepalive (RFC 1122 4.2.3.6: off by default). */
  keepaliveIdleMs: number;
  keepaliveIntervalMs: number;
  keepaliveProbes: number;
  /** Bounds of the zero-window probe interval (RFC 9293 3.8.6.1, backing off). */
  persistMinMs: number;
  persistMaxMs: number;
  /** Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 3.4.2). */
  mslMs: number;
  /** Options offered in the SYN. */
  windowScaling: boolean;
  sack: boolean;
  timestamps: boolean;
  /** Queued unreliable datagrams per connection before sendDatagram refuses more. */
  maxQueuedDatagrams: number;
  /** A controller of congestion/controllers.ts: 'cubic' (RFC 9438, the default as in Linux) or 'newreno' (RFC 5681). */
  congestionControl: CongestionControlName;
  /** Duplicate ACKs (or SACKed segments above a hole) that mean loss (RFC 5681: 3). */
  dupThresh: number;
  /** cwnd never falls below this many segments (1 in RFC 5681 after an RTO). */
  minCwndSegments: number;
  /**
   * RFC 3465's L: the most one ACK grows cwnd by in slow start, in segments. 0 (the default): no limit, a stretch
   * ACK for N segments counts as N ACKs, as in Linux since 3.13 and RFC 9002 7.3.1, with cwnd stopped at ssthresh
   * and the rest of the ACK counted in congestion avoidance. Receivers that acknowledge a batch at once (the Node
   * driver answers a loop turn's datagrams together, as GRO does) would otherwise slow the sender's ramp-up by
   * their batch size. 2 is RFC 3465's L = 2 * SMSS.
   */
  slowStartAckLimitSegments: number;
  /** 'dupack': RFC 6675's count of SACKed segments (DupThresh); 'rack': RFC 8985's time-based RACK (needs SACK). */
  lossDetection: 'dupack' | 'rack';
  /** RFC 8985 7 tail loss probe: a probe after about 2 SRTT of silence instead of waiting for the RTO. */
  tailLossProbe: boolean;
  /** RFC 8985 7.2 WCDelAckT: added to the probe timeout when one segment is in flight (the peer may delay its ACK). */
  tlpDelayedAckAllowanceMs: number;
}

/** RFC defaults, chosen as a general-purpose TCP would (Linux where the RFCs leave a range). */
export const TCP_PROFILE: ConnectionConfig = {
  profile: 'tcp',
  maxDatagramBytes: 1232,
  sendBufferBytes: 1 << 20,
  receiveBufferBytes: 1 << 20,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 60_000,
  clockGranularityMs: 1,
  rtoBackoff: 2,
  delayedAckMs: 40,
  noDelay: false,
  synRetries: 6,
  maxRetransmits: 15,
  userTimeoutMs: 0,
  keepaliveIdleMs: 0,
  keepaliveIntervalMs: 75_000,
  keepaliveProbes: 9,
  persistMinMs: 200,
  persistMaxMs: 60_000,
  mslMs: 30_000,
  windowScaling: true,
  sack: true,
  timestamps: true,
  maxQueuedDatagrams: 256,
  congestionControl: 'cubic',
  dupThresh: 3,
  lossDetection: 'dupack',
  minCwndSegments: 1,
  slowStartAckLimitSegments: 0,
  tailLossProbe: false,
  tlpDelayedAckAllowanceMs: 200,
};

/**
 * Latency over efficiency, in the spirit of KCP's no-delay mode. Each number and why:
 * - delayedAckMs 0: every segment is acknowledged at once, so the sender learns of loss one delay sooner.
 * - noDelay true: no Nagle; a 40-byte input message leaves now, not when the previous one is acknowledged.
 * - dupThresh 2: game traffic is a few segments per tick; waiting for three duplicates often never happens.
 * - minRtoMs 30 (RFC 6298 says 1 s, Linux uses 200 ms): on a 20-60 ms path a lost tail is resent in tens of ms.
 * - rtoBackoff 1.5 instead of 2: successive losses of one message stretch its delay less (KCP uses 1.5).
 * - minCwndSegments 4: a timeout does not throttle a low-rate flow to one message per round trip.
 * - tailLossProbe on, tlpDelayedAckAllowanceMs 0: the last message of a burst is probed after 2 SRTT, and
 *   a game peer does not delay ACKs.
 * - maxRtoMs 5 s, synRetries 5, maxRetransmits 10, userTimeoutMs 10 s: a game would rather reconnect.
 * - buffers 256 KiB and mslMs 5 s: small flows, and ports recycled quickly.
 */
export const GAME_PROFILE: ConnectionConfig = {
  ...TCP_PROFILE,
  profile: 'game',
  sendBufferBytes: 256 << 10,
  receiveBufferBytes: 256 << 10,
  minRtoMs: 30,
  maxRtoMs: 5_000,
  rtoBackoff: 1.5,
  delayedAckMs: 0,
  noDelay: true,
  synRetries: 5,
  maxRetransmits: 10,
  userTimeoutMs: 10_000,
  mslMs: 5_000,
  dupThresh: 2,
  minCwndSegments: 4,
  tailLossProbe: true,
  tlpDelayedAckAllowanceMs: 0,
};

export const PROFILES: Record<ProfileName, ConnectionConfig> = { tcp: TCP_PROFILE, game: GAME_PROFILE };

/** Bytes the UDP encapsulation adds around a TCP header: 2 in front, a 4-byte CRC behind. */
export const ENCAP_OVERHEAD_BYTES = 6;
export const MIN_DATAGRAM_BYTES = 576;
export const MAX_DATAGRAM_BYTES = 1452;

export function resolveConfig(base: Partial<ConnectionConfig> | undefined, over?: Partial<ConnectionConfig>): ConnectionConfig {
  const profile = over?.profile ?? base?.profile ?? 'tcp';
  const merged: ConnectionConfig = { ...PROFILES[profile], ...stripUndefined(base), ...stripUndefined(over), profile };
  validateConfig(merged);
  return merged;
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (!o) return out;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function validateConfig(c: ConnectionConfig): void {
  if (!(c.profile in PROFILES)) throw new RangeError(`unknown profile '${String(c.profile)}'`);
  if (!Number.isInteger(c.maxDatagramBytes) || c.maxDatagramBytes < MIN_DATAGRAM_BYTES || c.maxDatagramBytes > MAX_DATAGRAM_BYTES) {
    throw new RangeError(`maxDatagramBytes must be an integer in [${MIN_DATAGRAM_BYTES}, ${MAX_DATAGRAM_BYTES}], got ${c.maxDatagramBytes}`);
  }
  for (const key of ['sendBufferBytes', 'receiveBufferBytes'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1024 || c[key] > 1 << 30) throw new RangeError(`${key} must be an integer in [1024, 2^30], got ${c[key]}`);
  }
  if (!(c.minRtoMs > 0 && c.minRtoMs <= c.maxRtoMs)) throw new RangeError('need 0 < minRtoMs <= maxRtoMs');
  if (!(c.rtoBackoff >= 1)) throw new RangeError('rtoBackoff must be >= 1');
  if (!(c.mslMs >= 0)) throw new RangeError('mslMs must be >= 0');
  if (!Number.isInteger(c.dupThresh) || c.dupThresh < 1) throw new RangeError('dupThresh must be an integer >= 1');
  if (!Number.isInteger(c.slowStartAckLimitSegments) || c.slowStartAckLimitSegments < 0) {
    throw new RangeError('slowStartAckLimitSegments must be an integer >= 0');
  }
  if (c.lossDetection !== 'dupack' && c.lossDetection !== 'rack') throw new RangeError(`unknown lossDetection '${String(c.lossDetection)}'`);
  if (!isCongestionControlName(c.congestionControl)) {
    throw new RangeError(`unknown congestionControl '${String(c.congestionControl)}' (known: ${Object.keys(CONTROLLERS).join(', ')})`);
  }
}

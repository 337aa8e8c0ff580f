// Plain-data shapes of a soak run: its options and its result (both cross worker_threads as they are).
import type { TraceEvent } from '../core/index.js';
import type { NetworkProfile } from '../sim/index.js';
import type { Histogram } from './histogram.js';
import type { WorkloadName } from './workload.js';

export interface SoakOptions {
  seed: number;
  /** A network profile name (PROFILES), or the name a profile file gives itself. */
  profile: string;
  /** The network to use instead of PROFILES[profile] (a loaded --profile-file). */
  network?: NetworkProfile;
  /** Where `network` came from (for the reproduce command; a worker loads it from there when `network` is absent). */
  profileFile?: string;
  /** Concurrent client connections (each a chain of lifetimes: connect, work, close or abort, reconnect). */
  connections: number;
  /** New connections start during this much simulated time; then the run drains. */
  durationMs: number;
  workload?: WorkloadName;
  /** Client hosts the connections are spread over (default: one per 16 connections, at most 8). */
  clientHosts?: number;
  /**
   * Test-only planted bugs. corruptRetransmission: every endpoint flips a bit of its Nth retransmission (a core
   * fault). nondeterminism: the applications' timetables shift by 1 ms in every other run this process makes
   * (state outside the seed, for --check-determinism to catch). loseTimers: from the end of the workload on,
   * client0's driver stops firing its endpoint's timers (a stall for the liveness phase to catch).
   */
  faults?: SoakFaults;
  /**
   * Perturbations in the lab's drivers, never the core ("buggify"): timers fired late, datagrams handed over in
   * bursts, one-byte reads, slow application reactions. Which sites are on and when they fire is drawn from the
   * seed; 'all' turns every site on.
   */
  buggify?: boolean | 'all';
  /**
   * Liveness phase: when the workload ends the network heals (no loss, damage, jitter, outages or partitions;
   * delay, rate and MTU stay) and every connection must finish within livenessGraceMs after its script ended.
   */
  liveness?: boolean;
  /** The liveness phase's bound past a connection's script (default 4 min). */
  livenessGraceMs?: number;
  /** Run the seed twice and fail on the first output (packet or endpoint event) that differs. */
  checkDeterminism?: boolean;
  /** Debugging: every endpoint's trace events, with the host's name (not for sweeps: functions stay in-process). */
  trace?: (host: string, event: TraceEvent) => void;
  /** Record a SHA-256 of every packet event and endpoint event (for determinism checks). */
  digest?: boolean;
  /**
   * Save every endpoint's replay log (`stevens replay`) as `<dir>/seed-<seed>/<host>.stvlog`. With failingOnly, a
   * passing seed leaves none: a failing seed is run again recording (a run is a function of its options).
   */
  record?: { dir: string; failingOnly?: boolean };
  /** Captures: one pcapng file per simulated link (TCP view) in `<dir>/seed-<seed>/`, drops commented. */
  pcap?: { dir: string };
  /** A connection with no application-visible event for this long while unfinished is a violation (default 15 min). */
  progressBoundMs?: number;
  /** After the workload ends, how long the run may take to let every connection finish (default 30 min). */
  drainBoundMs?: number;
  /** How long a side waits after its peer failed or aborted before giving up on it (default 2 min). */
  peerGoneMs?: number;
}

export interface SoakFaults {
  corruptRetransmission?: number;
  nondeterminism?: boolean;
  loseTimers?: boolean;
}

export interface Violation {
  kind: ViolationKind;
  atMs: number;
  /** Which connection, when one: "#id kind/profile". */
  connection?: string;
  message: string;
  stack?: string;
}

export type ViolationKind =
  | 'corrupt-stream'
  | 'corrupt-datagram'
  | 'after-close'
  | 'event-order'
  | 'incomplete-stream'
  | 'unexpected-error'
  | 'stall'
  | 'timer-lost'
  | 'buffer-bound'
  | 'unfinished'
  | 'livelock'
  | 'config'
  | 'unknown-connection'
  | 'exception'
  | 'liveness'
  | 'nondeterminism';

export interface DirectionTotals {
  written: number;
  read: number;
}

export interface SoakResult {
  seed: number;
  profile: string;
  workload: WorkloadName;
  connections: number;
  durationMs: number;
  simulatedMs: number;
  wallMs: number;
  events: number;
  lifetimes: {
    started: number;
    /** Both sides closed without error and every byte arrived. */
    clean: number;
    /** A side aborted as the workload planned (expected failures). */
    aborted: number;
    /** Failed with an error the network explains (ETIMEDOUT, or a reset after the peer timed out). */
    failed: number;
    /** Still open at the end of the run (each is also a violation). */
    unfinished: number;
    /** Errors the applications saw, by code (expected ones included). */
    errors: Record<string, number>;
    /** New connections whose port pair was still held by an earlier one at the server. */
    portReuse: number;
  };
  bytes: { up: DirectionTotals; down: DirectionTotals };
  messages: { sent: number; delivered: number };
  datagrams: { sent: number; delivered: number; refused: number };
  segments: { sent: number; retransmitted: number; timeouts: number; zeroWindowProbes: number };
  /** Delivery delay of messages up to 16 KiB (first write to last byte read), per connection profile. */
  latency: { tcp: Histogram; game: Histogram };
  datagramLatency: Histogram;
  links: { sent: number; delivered: number; duplicated: number; corrupted: number; dropped: Record<string, number> };
  /** Every violation up to 50; violationCount has them all. */
  violations: Violation[];
  violationCount: number;
  /** violationCount by kind. */
  violationsByKind: Partial<Record<ViolationKind, number>>;
  digest?: string;
  /** The replay logs written (record option), the server's first. */
  logs?: string[];
  /** With the buggify option: the sites this seed turned on and how often each fired. */
  buggify?: { sites: string[]; fired: Record<string, number> };
  /** With the liveness option: when the network healed, and the longest a connection took past its script. */
  liveness?: { healedAtMs: number; graceMs: number; slowestMs: number };
  /** With checkDeterminism: the outputs compared (the second run stops at the first that differs). */
  determinism?: { steps: number; identical: boolean };
}

export interface SoakProgress {
  seed: number;
  simulatedMs: number;
  /** The workload's end (the run may drain past it). */
  durationMs: number;
  bytesRead: number;
  /** Connections not finished yet (past durationMs: the ones the drain waits for). */
  openConnections: number;
  /** With checkDeterminism: which of the two runs this is (1 or 2). */
  pass?: number;
}

// The counters a soak result and the totals of a sweep share, all at zero: one definition for the runner, the
// sweep's stand-in for a failed seed, and the report's totals; and a seed's result with nothing counted yet.
import { newHistogram } from './histogram.js';
import type { SoakOptions, SoakResult, Violation } from './types.js';

const MAX_VIOLATIONS_KEPT = 50;

export type Tallies = Pick<SoakResult, 'lifetimes' | 'bytes' | 'messages' | 'datagrams' | 'segments' | 'latency' | 'datagramLatency' | 'links'>;

export function emptyTallies(): Tallies {
  return {
    lifetimes: { started: 0, clean: 0, aborted: 0, failed: 0, unfinished: 0, errors: {}, portReuse: 0 },
    bytes: { up: { written: 0, read: 0 }, down: { written: 0, read: 0 } },
    messages: { sent: 0, delivered: 0 },
    datagrams: { sent: 0, delivered: 0, refused: 0 },
    segments: { sent: 0, retransmitted: 0, timeouts: 0, zeroWindowProbes: 0 },
    latency: { tcp: newHistogram(), game: newHistogram() },
    datagramLatency: newHistogram(),
    links: { sent: 0, delivered: 0, duplicated: 0, corrupted: 0, dropped: {} },
  };
}

/** The result of the run `opts` names before anything ran: the runner's start, and the sweep's failed seed. */
export function emptyResult(opts: Pick<SoakOptions, 'seed' | 'profile' | 'connections' | 'durationMs'>, workload: SoakResult['workload']): SoakResult {
  return {
    seed: opts.seed,
    profile: opts.profile,
    workload,
    connections: opts.connections,
    durationMs: opts.durationMs,
    simulatedMs: 0,
    wallMs: 0,
    events: 0,
    ...emptyTallies(),
    violations: [],
    violationCount: 0,
    violationsByKind: {},
  };
}

/** Counts a violation in a result, and keeps it while fewer than 50 are kept. */
export function addViolation(r: SoakResult, v: Violation): void {
  r.violationCount++;
  r.violationsByKind[v.kind] = (r.violationsByKind[v.kind] ?? 0) + 1;
  if (r.violations.length < MAX_VIOLATIONS_KEPT) r.violations.push({ ...v, atMs: Math.round(v.atMs * 1000) / 1000 });
}

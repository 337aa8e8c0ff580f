// The progress line of a sweep: how far it is (as a fraction of the simulated time it will take), an ETA, and
// the phase (workload, drain, the liveness phase, the determinism check's second pass).
import type { SweepProgress } from './sweep.js';

export interface ProgressLine {
  /** Estimated fraction of the sweep done, in [0, 1]. */
  fraction: number;
  /** Estimated wall time left (undefined until there is enough to go on). */
  etaMs: number | undefined;
  /** The phase, in words. */
  phase: string;
}

/**
 * A seed simulates its workload and then drains until every connection finished. Before any seed finished the
 * drain is guessed at half the workload (the default soak drains 40-80% past its 3 minutes); then it is the
 * finished seeds' average.
 */
const DRAIN_GUESS = 1.5;

export function progressLine(p: SweepProgress, elapsedMs: number, opts: { durationMs: number; passes: number; liveness?: boolean }): ProgressLine {
  const perSeedMs = p.seedsDone > 0 ? Math.max(opts.durationMs, p.finishedSimulatedMs / p.seedsDone) : opts.durationMs * DRAIN_GUESS;
  const total = p.seedsTotal * perSeedMs * opts.passes;
  let done = p.seedsDone * perSeedMs * opts.passes;
  for (const r of p.runningSeeds) done += ((r.pass - 1) * perSeedMs + Math.min(r.simulatedMs, perSeedMs * 0.99));
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const etaMs = fraction >= 0.02 && elapsedMs >= 2000 ? (elapsedMs * (1 - fraction)) / fraction : undefined;
  return { fraction, etaMs, phase: phaseOf(p, opts) };
}

function phaseOf(p: SweepProgress, opts: { durationMs: number; passes: number; liveness?: boolean }): string {
  const drain = opts.liveness ? 'liveness phase' : 'drain';
  const inWorkload = p.running - p.draining;
  const parts: string[] = [];
  if (p.running === 0) parts.push(p.seedsDone === p.seedsTotal ? 'done' : 'starting');
  else if (inWorkload > 0) parts.push(p.draining > 0 ? `workload, ${p.draining} seed${p.draining === 1 ? '' : 's'} in the ${drain}` : 'workload');
  else parts.push(`${drain}: ${p.drainingOpen} connection${p.drainingOpen === 1 ? '' : 's'} open`);
  if (p.secondPass > 0) parts.push(`determinism re-run ${p.secondPass}`);
  return parts.join(', ');
}

/** "1h02m", "3m05s", "42s". */
export function fmtEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

// runSoak, and its checkDeterminism mode: the seed runs twice in this thread; the first run logs a hash of every
// output, the second compares each of its outputs with the log and stops at the first that differs. A run must
// be a function of its options and seed: anything else it reads (a clock, Math.random, state a previous run left
// in a module) shows as a divergence at the step where it first changes an output. Matching outputs with
// different results (a tally reading something else) fail too.
import { runOnce } from './runner.js';
import { StepCheck, StepLog, type Divergence } from './steps.js';
import { addViolation } from './tallies.js';
import type { SoakOptions, SoakProgress, SoakResult } from './types.js';

/** Runs one seed to its end. Never throws for what the core does: failures are in the result. */
export function runSoak(opts: SoakOptions, onProgress?: (p: SoakProgress) => void): SoakResult {
  if (!opts.checkDeterminism) return runOnce(opts, onProgress);
  const log = new StepLog();
  const first = runOnce(opts, onProgress && ((p) => onProgress({ ...p, pass: 1 })), log);
  const halt = { now: false };
  const check = new StepCheck(log, () => {
    halt.now = true;
  });
  // The second run only compares: no logs, no captures of its own. Halted at a divergence, its clock is there.
  const { record: _r, pcap: _p, ...plain } = opts;
  const second = runOnce(plain, onProgress && ((p) => onProgress({ ...p, pass: 2 })), check, halt);
  check.end();
  const d = check.divergence;
  first.determinism = { steps: log.steps, identical: d === undefined };
  if (d !== undefined) {
    addViolation(first, { kind: 'nondeterminism', atMs: second.simulatedMs, message: divergenceMessage(d) });
  } else {
    const where = firstDifference(comparable(first), comparable(second));
    if (where !== undefined) {
      first.determinism.identical = false;
      addViolation(first, { kind: 'nondeterminism', atMs: first.simulatedMs, message: `both runs gave the same ${log.steps} outputs but different results: ${where}` });
    }
  }
  // Failing seeds keep their replay logs: a third run's here (replaying them checks each endpoint on its own).
  if (!first.determinism.identical && opts.record?.failingOnly && first.logs === undefined) {
    first.logs = runOnce({ ...opts, record: { dir: opts.record.dir } }).logs;
  }
  return first;
}

function divergenceMessage(d: Divergence): string {
  const context = d.before.length > 0 ? `; the ${d.before.length} outputs before it matched: ${d.before.join('; ')}` : '';
  if (d.second === undefined) return `the second run ended after ${d.step} outputs, the first made ${d.firstRunSteps}${context}`;
  if (d.step >= d.firstRunSteps) return `the second run went on past the first run's ${d.firstRunSteps} outputs with: ${d.second}${context}`;
  return `the runs diverged at output ${d.step} of ${d.firstRunSteps}: the second run's was ${d.second}, the first run's another${context}`;
}

function comparable(r: SoakResult): unknown {
  const { wallMs: _w, determinism: _d, logs: _l, ...rest } = r;
  return rest;
}

/** The path of the first value that differs between two plain-data trees, or undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = 'result', names: [string, string] = ['the first run', 'the second run']): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path} is ${JSON.stringify(b)} in ${names[1]}, ${JSON.stringify(a)} in ${names[0]}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, names);
    if (d !== undefined) return d;
  }
  return undefined;
}

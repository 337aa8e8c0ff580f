// A seed sweep: many seeds of the same soak on all cores, one worker thread per core (each runs one seed at a
// time; a run is single-threaded and deterministic, so where it runs changes nothing in its result).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { emptyResult } from './tallies.js';
import type { SoakOptions, SoakResult } from './types.js';
import type { FromWorker, ToWorker } from './worker.js';

export interface SweepProgress {
  seedsDone: number;
  seedsTotal: number;
  /** Simulated time of the finished seeds plus how far the running ones are. */
  simulatedMs: number;
  /** The workload time of all seeds (the bar's total; runs drain a little past theirs). */
  plannedMs: number;
  /** Workload time covered so far (each seed counted up to its duration). */
  coveredMs: number;
  bytesRead: number;
  violations: number;
  /** Simulated time of the finished seeds alone. */
  finishedSimulatedMs: number;
  /** Seeds running, and those of them past their workload (draining), with the connections they wait for. */
  running: number;
  draining: number;
  drainingOpen: number;
  /** Seeds running their second pass (checkDeterminism). */
  secondPass: number;
  /** Each running seed: how far it is, the connections it has open, which pass (checkDeterminism runs 2). */
  runningSeeds: Array<{ simulatedMs: number; open: number; pass: number }>;
}

export interface SweepOptions {
  /** Everything but the seed. */
  base: Omit<SoakOptions, 'seed'>;
  seeds: number[];
  /** Worker threads (default: os.availableParallelism(), at most one per seed). */
  workers?: number;
  onProgress?: (p: SweepProgress) => void;
  /** Each seed's result as it finishes (in finishing order). */
  onResult?: (r: SoakResult) => void;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** Runs every seed; resolves with the results in the order of `seeds`. */
export function runSweep(opts: SweepOptions): Promise<SoakResult[]> {
  const seeds = opts.seeds;
  const nWorkers = Math.max(1, Math.min(opts.workers ?? defaultWorkers(), seeds.length));
  const results = new Map<number, SoakResult>();
  const running = new Map<number, { simulatedMs: number; bytesRead: number; open: number; pass: number }>();
  let next = 0;
  let doneSim = 0;
  let doneBytes = 0;
  let violations = 0;
  const durationMs = opts.base.durationMs;

  const progress = () => {
    if (opts.onProgress === undefined) return;
    let sim = doneSim;
    let covered = results.size * durationMs;
    let bytes = doneBytes;
    let draining = 0;
    let drainingOpen = 0;
    let secondPass = 0;
    for (const r of running.values()) {
      sim += r.simulatedMs;
      covered += Math.min(r.simulatedMs, durationMs);
      bytes += r.bytesRead;
      if (r.pass === 2) secondPass++;
      if (r.simulatedMs >= durationMs) {
        draining++;
        drainingOpen += r.open;
      }
    }
    opts.onProgress({
      seedsDone: results.size,
      seedsTotal: seeds.length,
      simulatedMs: sim,
      plannedMs: seeds.length * durationMs,
      coveredMs: covered,
      bytesRead: bytes,
      violations,
      finishedSimulatedMs: doneSim,
      running: running.size,
      draining,
      drainingOpen,
      secondPass,
      runningSeeds: [...running.values()].map((r) => ({ simulatedMs: r.simulatedMs, open: r.open, pass: r.pass })),
    });
  };

  return new Promise((resolve) => {
    if (seeds.length === 0) {
      resolve([]);
      return;
    }
    let live = 0;
    const finishSeed = (r: SoakResult) => {
      running.delete(r.seed);
      results.set(r.seed, r);
      doneSim += r.simulatedMs;
      doneBytes += r.bytes.up.read + r.bytes.down.read;
      violations += r.violationCount;
      opts.onResult?.(r);
      progress();
    };
    const spawn = () => {
      const worker = new Worker(new URL('./worker.js', import.meta.url));
      live++;
      let current: number | undefined;
      const feed = () => {
        if (next >= seeds.length) {
          current = undefined;
          worker.postMessage({ type: 'exit' } satisfies ToWorker);
          return;
        }
        current = seeds[next++]!;
        running.set(current, { simulatedMs: 0, bytesRead: 0, open: 0, pass: 1 });
        worker.postMessage({ type: 'run', options: { ...opts.base, seed: current } } satisfies ToWorker);
      };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'progress') {
          running.set(msg.seed, { simulatedMs: msg.simulatedMs, bytesRead: msg.bytesRead, open: msg.openConnections, pass: msg.pass ?? 1 });
          progress();
        } else if (msg.type === 'result') {
          finishSeed(msg.result);
          feed();
        } else {
          finishSeed(failedResult(opts.base, msg.seed, `the soak run threw: ${msg.message}`, msg.stack));
          feed();
        }
      });
      worker.on('error', (err) => {
        // The worker died (out of memory, say): its seed fails, a fresh worker takes over the rest.
        if (current !== undefined) finishSeed(failedResult(opts.base, current, `the worker running this seed died: ${err.message}`, err.stack));
        current = undefined;
      });
      worker.on('exit', () => {
        live--;
        if (current !== undefined) {
          finishSeed(failedResult(opts.base, current, 'the worker running this seed exited'));
          current = undefined;
        }
        if (next < seeds.length) spawn();
        else if (live === 0) resolve(seeds.map((s) => results.get(s)!));
      });
      feed();
    };
    for (let i = 0; i < nWorkers; i++) spawn();
  });
}

/** A result standing for a seed whose run did not complete. */
export function failedResult(base: Omit<SoakOptions, 'seed'>, seed: number, message: string, stack?: string): SoakResult {
  return {
    ...emptyResult({ ...base, seed }, base.workload ?? 'mixed'),
    violations: [{ kind: 'exception', atMs: 0, message, ...(stack !== undefined ? { stack } : {}) }],
    violationCount: 1,
    violationsByKind: { exception: 1 },
  };
}

// `stevens soak`: many connections with randomized workloads over a simulated bad network, invariants checked
// all the way; a sweep of seeds on every core, or this machine's shard of one (`--shard I/N`, `--shard auto/N`
// with the index from the environment, `--out DIR` for the shard's result file). `stevens soak merge` is in
// soak-merge.ts. Exit status 0 when every invariant held, 1 when one failed, 2 for bad options.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { PROFILES, ProfileError, loadProfileFile, type NetworkProfile } from '../sim/index.js';
import { defaultWorkers, runSweep } from '../soak/sweep.js';
import { ensureDir, OutputDirError } from '../soak/output-dir.js';
import { formatDuration, parseDuration, parseSeed, parseSeedRange, parseShard, seedsOf, shardIndexFrom, type Shard } from '../soak/options.js';
import { fmtEta, progressLine } from '../soak/progress.js';
import { fmtMs, fmtRate, formatSummary, jsonReport, type SweepDescription } from '../soak/report.js';
import { writeShardFile } from '../soak/shard-file.js';
import type { SoakOptions } from '../soak/types.js';
import { WORKLOADS, type WorkloadName } from '../soak/workload.js';
import type { CliIo } from './io.js';
import { registerSoakMerge } from './soak-merge.js';

/** With no options: every impairment at once, a few dozen connections, a handful of seeds over all cores. */
export const SOAK_DEFAULTS = {
  profile: 'hell',
  connections: 40,
  durationMs: 3 * 60_000,
  seeds: { from: 1, to: 6 },
  workload: 'mixed' as WorkloadName,
};

const MAX_CONNECTIONS = 100_000;

interface SoakCliOptions {
  profile?: string;
  profileFile?: string;
  connections?: number;
  duration?: number;
  seed?: number;
  seeds?: { from: number; to: number };
  shard?: Shard | { auto: true; count: number };
  workload?: WorkloadName;
  workers?: number;
  json?: boolean;
  faultCorruptRetransmission?: number;
  faultNondeterminism?: boolean;
  faultLoseTimers?: boolean;
  record?: string;
  pcap?: string;
  out?: string;
  buggify?: boolean | string;
  liveness?: boolean;
  checkDeterminism?: boolean;
}

/** Wraps a parser so its message becomes commander's one-line "argument ... is invalid" error. */
function arg<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

function intIn(lo: number, hi: number, what: string): (v: string) => number {
  return arg((v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < lo || n > hi) throw new Error(`expected ${what}: an integer in [${lo}, ${hi}], got '${v}'`);
    return n;
  });
}

function profileName(v: string): string {
  if (!(v in PROFILES)) throw new InvalidArgumentError(`unknown profile '${v}' (known: ${Object.keys(PROFILES).join(', ')}; or use --profile-file)`);
  return v;
}

/** Runs the soak as the options ask; returns the exit code. `env` is where `--shard auto/N` finds its index. */
export async function runSoakCommand(opts: SoakCliOptions, io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  let network: NetworkProfile;
  let profile: string;
  if (opts.profileFile !== undefined) {
    try {
      network = loadProfileFile(opts.profileFile);
    } catch (e) {
      io.err(`error: ${e instanceof ProfileError ? e.message : (e as Error).message}`);
      return 2;
    }
    profile = network.name;
  } else {
    profile = opts.profile ?? SOAK_DEFAULTS.profile;
    network = PROFILES[profile]!;
  }
  const range = opts.seed !== undefined ? { from: opts.seed, to: opts.seed } : (opts.seeds ?? SOAK_DEFAULTS.seeds);
  let shard: Shard | undefined;
  try {
    shard = opts.shard !== undefined && 'auto' in opts.shard ? shardIndexFrom(env, opts.shard.count) : opts.shard;
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  const seeds = seedsOf(range, shard);
  if (seeds.length === 0) {
    io.err(`error: shard ${shard!.index}/${shard!.count} has no seeds in ${range.from}..${range.to} (seed s belongs to shard s mod N)`);
    return 2;
  }
  // Every folder the run writes into is made now: one error line instead of a failure inside every seed.
  let outDir: string | undefined;
  try {
    if (opts.pcap !== undefined) ensureDir(opts.pcap, '--pcap');
    if (opts.record !== undefined) ensureDir(opts.record, '--record');
    if (opts.out !== undefined) outDir = ensureDir(opts.out, '--out');
  } catch (e) {
    if (!(e instanceof OutputDirError)) throw e;
    io.err(`error: ${e.message}`);
    return 2;
  }
  const base: Omit<SoakOptions, 'seed'> = {
    profile,
    network,
    connections: opts.connections ?? SOAK_DEFAULTS.connections,
    durationMs: opts.duration ?? SOAK_DEFAULTS.durationMs,
    workload: opts.workload ?? SOAK_DEFAULTS.workload,
  };
  if (opts.profileFile !== undefined) base.profileFile = opts.profileFile;
  const faults: NonNullable<SoakOptions['faults']> = {};
  if (opts.faultCorruptRetransmission !== undefined) faults.corruptRetransmission = opts.faultCorruptRetransmission;
  if (opts.faultNondeterminism) faults.nondeterminism = true;
  if (opts.faultLoseTimers) faults.loseTimers = true;
  if (Object.keys(faults).length > 0) base.faults = faults;
  if (opts.buggify !== undefined) base.buggify = opts.buggify === 'all' ? 'all' : true;
  if (opts.liveness) base.liveness = true;
  if (opts.checkDeterminism) base.checkDeterminism = true;
  // Replay logs: of every seed with --record; otherwise of failing seeds only, under --out or in one temporary
  // directory (a later failing run of the same seed replaces them).
  const failingLogs = outDir !== undefined ? join(outDir, 'logs') : join(tmpdir(), 'stevens-soak-logs');
  base.record = opts.record !== undefined ? { dir: opts.record } : { dir: failingLogs, failingOnly: true };
  if (opts.pcap !== undefined) base.pcap = { dir: opts.pcap };
  const workers = Math.min(opts.workers ?? defaultWorkers(), seeds.length);
  const desc: SweepDescription = { base, seeds, range, workers, wallMs: 0 };
  if (shard !== undefined) desc.shard = shard;

  const stream = opts.json ? undefined : io.progress;
  let bar: SingleBar | undefined;
  const t0 = performance.now();
  if (stream !== undefined) {
    bar = new SingleBar(
      {
        stream,
        format: 'soak [{bar}] {percentage}% | ETA {eta_text} | {phase} | seeds {done}/{total_seeds} | simulated {sim} | goodput {goodput} | violations {violations}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      },
      Presets.shades_classic,
    );
    bar.start(1000, 0, { eta_text: '-', phase: 'starting', done: 0, total_seeds: seeds.length, sim: '0 s', goodput: '-', violations: 0 });
  }
  const lineOpts = { durationMs: base.durationMs, passes: base.checkDeterminism ? 2 : 1, liveness: base.liveness ?? false };
  const results = await runSweep({
    base,
    seeds,
    workers,
    onProgress: (p) => {
      if (bar === undefined) return;
      const line = progressLine(p, performance.now() - t0, lineOpts);
      bar.update(Math.round(line.fraction * 1000), {
        eta_text: fmtEta(line.etaMs),
        phase: line.phase,
        done: p.seedsDone,
        total_seeds: p.seedsTotal,
        sim: fmtMs(p.simulatedMs),
        goodput: fmtRate(p.bytesRead, p.simulatedMs),
        violations: p.violations,
      });
    },
  });
  bar?.stop();
  desc.wallMs = performance.now() - t0;
  // The JSON names the network by its profile (a profile file's parameters are in the option set once).
  const { network: _n, ...printable } = base;
  const printed = { ...desc, base: opts.profileFile !== undefined ? base : printable };
  const file = outDir !== undefined ? writeShardFile(outDir, results, printed) : undefined;
  if (opts.json) io.out(JSON.stringify(jsonReport(results, printed)));
  else {
    for (const line of formatSummary(results, printed)) io.out(line);
    if (file !== undefined) io.out(`\nshard result: ${file} (merge with: npx stevens soak merge ${outDir})`);
  }
  return results.some((r) => r.violationCount > 0) ? 1 : 0;
}

export function registerSoak(program: Command, io: CliIo): void {
  const d = SOAK_DEFAULTS;
  const soak = program.command('soak');
  soak
    .description(
      'many connections with randomized workloads (bulk, requests, chat and game traffic, slow readers, half-closes, aborts, ' +
        'reconnects, datagrams) over a simulated network, checking every invariant as they run; exit status 1 when one fails',
    )
    .addOption(new Option('--profile <name>', `network profile (${Object.keys(PROFILES).join(', ')}; default ${d.profile})`).argParser(profileName).conflicts('profileFile'))
    .addOption(new Option('--profile-file <file>', 'network profile from a JSON file (see README)'))
    .option('--connections <n>', `concurrent client connections, each reconnecting as it finishes (default ${d.connections})`, intIn(1, MAX_CONNECTIONS, 'a number of connections'))
    .option('--duration <time>', `simulated time in which connections start, e.g. 30s, 10m, 1h (default ${formatDuration(d.durationMs)}); then the run drains`, arg(parseDuration))
    .addOption(new Option('--seed <s>', 'run one seed').argParser(arg(parseSeed)).conflicts('seeds'))
    .addOption(new Option('--seeds <A..B>', `run every seed from A to B (default ${d.seeds.from}..${d.seeds.to})`).argParser(arg(parseSeedRange)))
    .option('--shard <I/N>', 'run only the seeds s with s mod N == I (split a sweep across N machines); auto/N takes I from JOB_COMPLETION_INDEX or STEVENS_SHARD_INDEX', arg(parseShard))
    .option('--out <dir>', "write the result as DIR/shard-<I>-of-<N>.json (for soak merge) and failing seeds' replay logs under DIR/logs")
    .option('--check-determinism', 'run every seed twice and fail at the first output that differs')
    .option('--liveness', 'after the workload the network heals; every connection must then finish within 4 minutes of its script')
    .addOption(new Option('--buggify [all]', "perturb the lab's drivers (late timers, datagram bursts, one-byte reads, slow reactions), sites drawn from the seed; all: every site").choices(['all']))
    .addOption(new Option('--workload <name>', `workload mix (default ${d.workload})`).choices(WORKLOADS as string[]))
    .option('--workers <n>', 'worker threads (default: one per core)', intIn(1, 1024, 'a number of workers'))
    .option('--json', 'print one JSON object instead of the summary')
    .option('--pcap <dir>', 'write one pcapng capture per simulated link (TCP view, drops commented) as DIR/seed-<n>/<link>.pcapng')
    .option('--record <dir>', "save every endpoint's replay log of every seed as DIR/seed-<n>/<host>.stvlog (without it, only failing seeds' logs are saved, under <tmpdir>/stevens-soak-logs)")
    .addOption(new Option('--fault-corrupt-retransmission <n>', "test only: plant a bug that corrupts each endpoint's Nth retransmission").argParser(intIn(1, 1e9, 'a retransmission number')).hideHelp())
    .addOption(new Option('--fault-nondeterminism', "test only: shift the applications' timetables by 1 ms in every other run of the process").hideHelp())
    .addOption(new Option('--fault-lose-timers', "test only: client0's driver stops firing timers when the workload ends").hideHelp())
    .exitOverride((err) => {
      // Bad options exit with status 2 (help and --version keep theirs).
      if (err.exitCode !== 0) throw new CommanderError(2, err.code, err.message);
      throw err;
    })
    .action(async (opts: SoakCliOptions) => {
      io.setExitCode(await runSoakCommand(opts, io));
    });
  registerSoakMerge(soak, io);
}

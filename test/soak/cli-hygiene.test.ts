// The soak's command line where users hit it first: an output folder that cannot be written is one error line
// and exit status 2 (`--pcap /proc/nope` used to hang: Node 20's recursive mkdirSync never returns under /proc;
// `--pcap FILE/x` was reported as an invariant violation with a stack); `--shard auto/N` finds its index in the
// environment or says where it looked; the seeds in a soak's replay logs are not negative; the progress line
// has an ETA and names the phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { fmtEta, progressLine } from '../../src/soak/progress.js';
import type { SweepProgress } from '../../src/soak/sweep.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => {} });
  return { code, out, err };
}

const SMALL = ['--profile', 'lan', '--connections', '2', '--duration', '5s'];

test('an output folder that cannot be made or written: one line, exit status 2, nothing run', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-soak-cli-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  try {
    for (const [args, message] of [
      [['--pcap', '/proc/nope'], /^error: --pcap \/proc\/nope: cannot create \/proc\/nope \(ENOENT\)$/],
      [['--pcap', join(file, 'x')], /^error: --pcap .*a-file\/x: .*a-file is not a folder$/],
      [['--record', '/proc/nope/deeper'], /^error: --record \/proc\/nope\/deeper: cannot create \/proc\/nope/],
      [['--out', join(file, 'x', 'y')], /^error: --out .*: .*a-file is not a folder$/],
    ] as const) {
      const r = await run(['soak', ...SMALL, '--seed', '1', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err.join('\n')}`);
      assert.equal(r.err.length, 1, r.err.join('\n'));
      assert.match(r.err[0]!, message);
      assert.deepEqual(r.out, []);
    }
    // A folder that can be made is made, levels at a time.
    const r = await run(['soak', ...SMALL, '--seed', '1', '--pcap', join(dir, 'a', 'b', 'c'), '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--shard auto/N: the index from JOB_COMPLETION_INDEX, else STEVENS_SHARD_INDEX, else one line and exit 2', async () => {
  const saved = { job: process.env.JOB_COMPLETION_INDEX, stevens: process.env.STEVENS_SHARD_INDEX };
  const set = (job?: string, stevens?: string) => {
    if (job === undefined) delete process.env.JOB_COMPLETION_INDEX;
    else process.env.JOB_COMPLETION_INDEX = job;
    if (stevens === undefined) delete process.env.STEVENS_SHARD_INDEX;
    else process.env.STEVENS_SHARD_INDEX = stevens;
  };
  try {
    set();
    const none = await run(['soak', ...SMALL, '--seeds', '1..8', '--shard', 'auto/4']);
    assert.equal(none.code, 2);
    assert.deepEqual(none.err, ['error: --shard auto/4: no shard index in the environment (set JOB_COMPLETION_INDEX or STEVENS_SHARD_INDEX)']);
    set('1', '3');
    const job = JSON.parse((await run(['soak', ...SMALL, '--seeds', '1..8', '--shard', 'auto/4', '--json'])).out[0]!);
    assert.deepEqual(job.options.shard, { index: 1, count: 4 });
    assert.deepEqual(job.options.seeds, [1, 5]);
    set(undefined, '3');
    const matrix = JSON.parse((await run(['soak', ...SMALL, '--seeds', '1..8', '--shard', 'auto/4', '--json'])).out[0]!);
    assert.deepEqual(matrix.options.seeds, [3, 7]);
    set('4');
    const bad = await run(['soak', ...SMALL, '--seeds', '1..8', '--shard', 'auto/4']);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.err, ["error: --shard auto/4: JOB_COMPLETION_INDEX is '4', expected an index in [0, 3]"]);
    const syntax = await run(['soak', '--shard', 'auto/0']);
    assert.equal(syntax.code, 2);
    assert.match(syntax.err[0]!, /auto\/N needs N >= 1/);
  } finally {
    set(saved.job, saved.stevens);
  }
});

test('soak merge without a folder is a usage error', async () => {
  const r = await run(['soak', 'merge']);
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1);
  assert.match(r.err[0]!, /missing required argument/);
});

test("the endpoints' seeds in a soak's replay logs are not negative, and replay the run", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-soak-cli-'));
  try {
    const r = await run(['soak', '--profile', 'lan', '--connections', '40', '--duration', '2s', '--seed', '7', '--record', dir, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const logs: string[] = JSON.parse(r.out[0]!).seeds[0].logs;
    assert.equal(logs.length, 4);
    let wouldHaveBeenNegative = 0;
    for (const log of logs) {
      const replay = await run(['replay', log, '--json']);
      assert.equal(replay.code, 0, replay.err.join('\n'));
      const seed = JSON.parse(replay.out[0]!).logs[0].seed as number;
      assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 0xffff_ffff, `seed ${seed}`);
      if ((seed | 0) < 0) wouldHaveBeenNegative++;
      const text = (await run(['replay', log])).out.join('\n');
      assert.match(text, new RegExp(`seed ${seed}, `));
    }
    // Seed 7's server and clients: two of the four printed negative before (h | 0).
    assert.equal(wouldHaveBeenNegative, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function sweep(p: Partial<SweepProgress>): SweepProgress {
  return {
    seedsDone: 0,
    seedsTotal: 4,
    simulatedMs: 0,
    plannedMs: 4 * 60_000,
    coveredMs: 0,
    bytesRead: 0,
    violations: 0,
    finishedSimulatedMs: 0,
    running: 0,
    draining: 0,
    drainingOpen: 0,
    secondPass: 0,
    runningSeeds: [],
    ...p,
  };
}

test('the progress line: fraction and ETA from the simulated time, and the phase named', () => {
  const opts = { durationMs: 60_000, passes: 1 };
  const start = progressLine(sweep({}), 100, opts);
  assert.equal(start.phase, 'starting');
  assert.equal(start.etaMs, undefined);
  // Two seeds done (90 s simulated each: a 30 s drain), two running: one in its workload, one draining.
  const mid = progressLine(
    sweep({
      seedsDone: 2,
      finishedSimulatedMs: 180_000,
      running: 2,
      draining: 1,
      drainingOpen: 3,
      runningSeeds: [
        { simulatedMs: 45_000, open: 8, pass: 1 },
        { simulatedMs: 70_000, open: 3, pass: 1 },
      ],
    }),
    60_000,
    opts,
  );
  assert.equal(mid.phase, 'workload, 1 seed in the drain');
  const done = 2 * 90_000 + 45_000 + 70_000;
  assert.ok(Math.abs(mid.fraction - done / (4 * 90_000)) < 1e-9);
  assert.ok(Math.abs(mid.etaMs! - (60_000 * (1 - mid.fraction)) / mid.fraction) < 1e-6);
  assert.equal(fmtEta(mid.etaMs), '13s');
  const drain = progressLine(sweep({ seedsDone: 3, finishedSimulatedMs: 270_000, running: 1, draining: 1, drainingOpen: 1, runningSeeds: [{ simulatedMs: 80_000, open: 1, pass: 1 }] }), 90_000, { ...opts, liveness: true });
  assert.equal(drain.phase, 'liveness phase: 1 connection open');
  const second = progressLine(sweep({ running: 1, secondPass: 1, runningSeeds: [{ simulatedMs: 10_000, open: 5, pass: 2 }] }), 30_000, { durationMs: 60_000, passes: 2 });
  assert.equal(second.phase, 'workload, determinism re-run 1');
  assert.ok(second.fraction > 1 / 8, 'the second pass counts after the first');
  assert.equal(fmtEta(3_725_000), '1h02m');
  assert.equal(fmtEta(185_000), '3m05s');
});

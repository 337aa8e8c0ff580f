// The checks the best simulators run, each shown to catch what it is for:
// - checkDeterminism runs a seed twice and stops at the first output that differs: it catches the planted
//   nondeterminism (faults.nondeterminism, `--fault-nondeterminism`, hidden from --help: the applications'
//   timetables shift by 1 ms in every other run this process makes, state outside the seed), naming the step,
//   and passes a clean run;
// - the liveness phase heals the network when the workload ends and fails a connection that does not finish in
//   its bound: it catches the planted stall (faults.loseTimers, `--fault-lose-timers`, hidden: client0's driver
//   stops firing its endpoint's timers at the heal), and passes the same seeds without it;
// - buggify's perturbations in the lab's drivers find nothing in the current core, and do perturb the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak, type SoakOptions } from '../../src/soak/index.js';
import { main } from '../../src/cli/main.js';
import { show, unexplained } from './known-core-bugs.js';

const HELL: Omit<SoakOptions, 'seed'> = { profile: 'hell', connections: 8, durationMs: 15_000 };

test('--check-determinism passes a clean seed and catches the planted nondeterminism at its first output', () => {
  const clean = runSoak({ ...HELL, seed: 2, checkDeterminism: true });
  assert.equal(clean.violationCount, 0, show(clean.violations));
  assert.ok(clean.determinism!.identical);
  assert.ok(clean.determinism!.steps > 1000, `${clean.determinism!.steps} outputs compared`);

  const planted = runSoak({ ...HELL, seed: 2, checkDeterminism: true, faults: { nondeterminism: true } });
  assert.deepEqual(planted.violationsByKind, { nondeterminism: 1 });
  assert.equal(planted.determinism!.identical, false);
  const v = planted.violations[0]!;
  // The first output the 1 ms shift moves: a client's first scripted write, after the handshake's outputs.
  assert.match(v.message, /^the runs diverged at output (\d+) of \d+: the second run's was send at [\d.]+ ms on client\d->server \(\d+ bytes, crc32 [0-9a-f]{8}\)/);
  assert.match(v.message, /the \d outputs before it matched: .*'connected'/);
  assert.ok(v.atMs > 0 && v.atMs < 5000, `diverged at ${v.atMs} ms`);
  // Reported like any failure: the run it came from is whole (the first of the two).
  assert.equal(planted.simulatedMs, clean.simulatedMs);
});

test('the planted nondeterminism switch is test-only: not in --help, and off unless asked for', async () => {
  const out: string[] = [];
  await main(['soak', '--help'], { out: (l) => out.push(l), err: (l) => out.push(l), setExitCode: () => {} });
  const help = out.join('\n');
  assert.match(help, /--check-determinism/);
  assert.doesNotMatch(help, /--fault-/);
  const r = runSoak({ ...HELL, seed: 3, checkDeterminism: true });
  assert.equal(r.violationCount, 0, show(r.violations));
});

test('the liveness phase heals the network, catches the planted stall, and passes the same seeds without it', () => {
  for (const seed of [2, 4]) {
    const healthy = runSoak({ ...HELL, seed, liveness: true });
    assert.equal(healthy.violationCount, 0, show(healthy.violations));
    assert.equal(healthy.liveness!.healedAtMs, HELL.durationMs);
    assert.ok(healthy.liveness!.slowestMs < healthy.liveness!.graceMs, `slowest ${healthy.liveness!.slowestMs} ms`);

    const stalled = runSoak({ ...HELL, seed, liveness: true, faults: { loseTimers: true } });
    assert.ok((stalled.violationsByKind.liveness ?? 0) > 0, show(stalled.violations));
    assert.deepEqual(Object.keys(stalled.violationsByKind), ['liveness']);
    const v = stalled.violations[0]!;
    assert.match(v.message, /not finished 4\.0 min after its script ended and the network healed \(at 15\.0 s\): client /);
    // Caught at the bound, long before the drain bound (30 min) would have.
    assert.ok(v.atMs < HELL.durationMs + 6 * 60_000, `caught at ${v.atMs} ms`);
  }
});

test('buggify perturbs the lab, deterministically, and finds nothing in the core over a sweep', async () => {
  const seeds = [1, 2, 3, 4];
  const { runSweep } = await import('../../src/soak/sweep.js');
  const base: Omit<SoakOptions, 'seed'> = { ...HELL, connections: 12, durationMs: 20_000, buggify: 'all', digest: true };
  const results = await runSweep({ base, seeds, workers: 2 });
  for (const r of results) {
    assert.deepEqual(unexplained(r.violations), [], `seed ${r.seed}: ${show(r.violations)}`);
    assert.deepEqual(r.buggify!.sites, ['timer-late', 'datagram-burst', 'one-byte-reads', 'slow-reactions']);
    for (const [site, n] of Object.entries(r.buggify!.fired)) assert.ok(n > 0, `seed ${r.seed}: ${site} never fired`);
  }
  // The same seed buggified twice is the same run; without buggify another one.
  const again = runSoak({ ...base, seed: 1 });
  assert.equal(again.digest, results[0]!.digest);
  const { buggify: _b, ...plain } = base;
  assert.notEqual(runSoak({ ...plain, seed: 1 }).digest, results[0]!.digest);
  // Seeded sites: which are on is drawn per seed.
  const drawn = new Set(seeds.map((seed) => runSoak({ ...HELL, connections: 2, durationMs: 2000, seed, buggify: true }).buggify!.sites.join(',')));
  assert.ok(drawn.size > 1, `the same sites for every seed: ${[...drawn].join(' | ')}`);
});

// `stevens soak`: --json parses, a failing run exits 1 and prints the command that reproduces it, bad options
// are one line on stderr and exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['soak', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => {} });
  return { code, out, err };
}

test('--json prints one JSON object that parses', async () => {
  const r = await run(['--profile', 'wifi', '--connections', '4', '--duration', '10s', '--seeds', '1..2', '--json']);
  assert.equal(r.out.length, 1, r.out.join('\n'));
  const j = JSON.parse(r.out[0]!);
  assert.equal(typeof j.ok, 'boolean');
  assert.equal(r.code, j.ok ? 0 : 1);
  assert.deepEqual(j.options.seeds, [1, 2]);
  assert.equal(j.seeds.length, 2);
  assert.equal(j.options.profile, 'wifi');
  assert.ok(j.totals.lifetimes.started >= 8);
  assert.equal(typeof j.totals.latency.game.count, 'number');
  assert.match(j.seeds[0].reproduce, /^npx stevens soak --profile wifi --connections 4 --duration 10s --seed 1$/);
});

test('a failing run exits 1 and prints the seed and the command that reproduces it', async () => {
  const r = await run(['--profile', 'lossy-5', '--connections', '10', '--duration', '20s', '--seed', '5', '--fault-corrupt-retransmission', '3']);
  assert.equal(r.code, 1, r.out.join('\n'));
  const text = r.out.join('\n');
  assert.match(text, /FAIL seed 5: \d+ invariant violations?/);
  assert.match(text, /corrupt-stream/);
  assert.ok(text.includes('reproduce: npx stevens soak --profile lossy-5 --connections 10 --duration 20s --fault-corrupt-retransmission 3 --seed 5'), text);
  assert.match(text, /^invariants +\d+ violations? in 1 seed/m);
});

test('a summary table on success-or-failure runs: connections, bytes, goodput, retransmissions, latency', async () => {
  const r = await run(['--profile', 'lan', '--connections', '3', '--duration', '5s', '--seed', '3']);
  const text = r.out.join('\n');
  for (const word of ['connections', 'bytes', 'goodput', 'retransmissions', 'p50', 'p99', 'max', 'invariants']) assert.match(text, new RegExp(word));
});

const BAD: Array<[string[], RegExp]> = [
  [['--duration', '10x'], /duration like 30s, 10m or 1h/],
  [['--duration', '0s'], /more than zero/],
  [['--seeds', '5..1'], /empty/],
  [['--seeds', '1-5'], /A\.\.B/],
  [['--seed', '-3'], /seed/],
  [['--seed', '1', '--seeds', '1..3'], /cannot be used with/],
  [['--profile', 'nowhere'], /unknown profile 'nowhere'/],
  [['--shard', '3/2'], /0 <= I < N/],
  [['--connections', '0'], /connections/],
  [['--workload', 'party'], /Allowed choices/],
  [['--frobnicate'], /unknown option/],
  [['--seeds', '1..3', '--shard', '0/5'], /no seeds in 1\.\.3/],
];

for (const [args, message] of BAD) {
  test(`bad option ${args.join(' ')}: one line, exit status 2`, async () => {
    const r = await run(args);
    assert.equal(r.code, 2);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0]!, message);
    assert.deepEqual(r.out, []);
  });
}

test('a bad profile file: one line naming the field, exit status 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-soak-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ links: { both: { delayMs: 10, lossRate: 2 } } }));
  const r = await run(['--profile-file', file, '--seed', '1']);
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1);
  assert.match(r.err[0]!, /lossRate/);
  const missing = await run(['--profile-file', join(dir, 'missing.json')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.err.length, 1);
});

test('a profile file runs and is named in the reproduce command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-soak-'));
  const file = join(dir, 'office.json');
  writeFileSync(file, JSON.stringify({ name: 'office', extends: 'wifi', links: { both: { lossRate: 0.01 } } }));
  const r = await run(['--profile-file', file, '--connections', '3', '--duration', '5s', '--seed', '2', '--json']);
  const j = JSON.parse(r.out[0]!);
  assert.equal(j.options.profile, 'office');
  assert.equal(j.seeds[0].reproduce, `npx stevens soak --profile-file ${file} --connections 3 --duration 5s --seed 2`);
});

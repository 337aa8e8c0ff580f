// A sweep split over machines: 4 shard processes, each with its index in JOB_COMPLETION_INDEX as a Kubernetes
// Indexed Job gives it, write their results with --out; `soak merge` makes of them the report one local run over
// the same seeds prints (less wall-clock fields), and refuses a missing or duplicate shard, mixed versions and
// mixed options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main.js';

const run = promisify(execFile);
const CLI = 'dist/src/cli/main.js';
const SWEEP = ['--profile', 'wifi', '--connections', '4', '--duration', '10s', '--seeds', '1..8'];

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => {} });
  return { code, out, err };
}

/** What a merge and a local run must agree on: all but the wall clock (and the merge's list of shards). */
function comparable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(comparable);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!['wallMs', 'wallMsSum', 'shards'].includes(k)) out[k] = comparable(x);
    return out;
  }
  return v;
}

async function shardProcesses(dir: string, extra: string[] = []): Promise<void> {
  await Promise.all(
    [0, 1, 2, 3].map((i) =>
      run(process.execPath, [CLI, 'soak', ...SWEEP, '--shard', 'auto/4', '--workers', '1', '--out', dir, ...extra], {
        env: { ...process.env, JOB_COMPLETION_INDEX: String(i), STEVENS_SHARD_INDEX: '' },
        timeout: 60_000,
      }),
    ),
  );
}

test('4 shard processes merged equal one local run over the same seeds; missing and duplicate shards are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-shards-'));
  try {
    await shardProcesses(dir);
    assert.deepEqual(readdirSync(dir).sort(), ['shard-0-of-4.json', 'shard-1-of-4.json', 'shard-2-of-4.json', 'shard-3-of-4.json']);
    const shard1 = JSON.parse(readFileSync(join(dir, 'shard-1-of-4.json'), 'utf8'));
    assert.deepEqual(shard1.options.shard, { index: 1, count: 4 });
    assert.deepEqual(shard1.options.seeds, [1, 5]);

    const merged = await cli(['soak', 'merge', dir, '--json']);
    assert.equal(merged.code, 0, merged.err.join('\n'));
    // As many workers as the 4 shards had in all (the report names them).
    const local = await cli(['soak', ...SWEEP, '--workers', '4', '--json']);
    assert.equal(local.code, 0);
    const m = JSON.parse(merged.out[0]!);
    const l = JSON.parse(local.out[0]!);
    assert.equal(m.shards.length, 4);
    assert.equal(m.totals.connectionHours, Math.round((8 * 4 * 10 * 1000) / 3600) / 1000);
    assert.deepEqual(comparable(m), comparable(l));

    const text = await cli(['soak', 'merge', dir]);
    assert.equal(text.code, 0);
    assert.match(text.out.join('\n'), /merged 4 shard files/);
    assert.match(text.out.join('\n'), /^run +4 shards .* connection-hours simulated/m);

    // A shard missing: refused, naming it and its seeds.
    const partial = mkdtempSync(join(tmpdir(), 'stevens-shards-'));
    for (const i of [0, 1, 3]) copyFileSync(join(dir, `shard-${i}-of-4.json`), join(partial, `shard-${i}-of-4.json`));
    const missing = await cli(['soak', 'merge', partial]);
    assert.equal(missing.code, 2);
    assert.equal(missing.err.length, 1);
    assert.match(missing.err[0]!, /missing shard 2\/4 \(seeds 2, 6\)/);

    // The same shard from two folders: refused.
    const twice = await cli(['soak', 'merge', dir, join(partial, 'shard-1-of-4.json')]);
    assert.equal(twice.code, 2);
    assert.match(twice.err[0]!, /shard 1\/4 is there 2 times/);
    rmSync(partial, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('merge refuses mixed versions, mixed options, files that are not shard files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-shards-'));
  try {
    for (const i of [0, 1]) {
      const r = await cli(['soak', '--profile', 'lan', '--connections', '2', '--duration', '5s', '--seeds', '1..2', '--shard', `${i}/2`, '--out', dir, '--json']);
      assert.equal(r.code, 0, r.err.join('\n'));
    }
    const ok = await cli(['soak', 'merge', dir]);
    assert.equal(ok.code, 0, ok.err.join('\n'));

    const other = join(dir, 'other');
    mkdirSync(other);
    const doc = JSON.parse(readFileSync(join(dir, 'shard-1-of-2.json'), 'utf8'));
    writeFileSync(join(other, 'shard-1-of-2.json'), JSON.stringify({ ...doc, version: '9.9.9' }));
    const mixed = await cli(['soak', 'merge', join(dir, 'shard-0-of-2.json'), join(other, 'shard-1-of-2.json')]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.err[0]!, /mixed versions: .*9\.9\.9/);

    writeFileSync(join(other, 'shard-1-of-2.json'), JSON.stringify({ ...doc, options: { ...doc.options, connections: 3 } }));
    const options = await cli(['soak', 'merge', join(dir, 'shard-0-of-2.json'), join(other, 'shard-1-of-2.json')]);
    assert.equal(options.code, 2);
    assert.match(options.err[0]!, /different options: options\.connections is 3 in shard-1-of-2\.json, 2 in shard-0-of-2\.json/);

    for (const [content, message] of [
      ['{"format":"something else"}', /not a stevens soak shard file/],
      ['not json', /not JSON/],
      [JSON.stringify({ ...doc, results: [{ ...doc.results[0], latency: 'fast' }] }), /results\[0\]\.latency is not an object/],
    ] as const) {
      writeFileSync(join(other, 'shard-1-of-2.json'), content);
      const bad = await cli(['soak', 'merge', join(dir, 'shard-0-of-2.json'), join(other, 'shard-1-of-2.json')]);
      assert.equal(bad.code, 2);
      assert.equal(bad.err.length, 1);
      assert.match(bad.err[0]!, message);
    }
    const empty = await cli(['soak', 'merge', join(dir, 'other', 'nowhere')]);
    assert.equal(empty.code, 2);
    assert.match(empty.err[0]!, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failing seed's shard keeps its replay logs beside its file; the merge prints reproduce and replay commands", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-shards-'));
  try {
    const planted = ['--profile', 'lossy-5', '--connections', '10', '--duration', '20s', '--fault-corrupt-retransmission', '3'];
    const r = await cli(['soak', ...planted, '--seed', '5', '--out', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out.join('\n'), /shard result: .*shard-0-of-1\.json/);
    const doc = JSON.parse(readFileSync(join(dir, 'shard-0-of-1.json'), 'utf8'));
    assert.deepEqual(doc.results[0].logs.slice(0, 1), ['logs/seed-5/server.stvlog']);

    const merged = await cli(['soak', 'merge', dir]);
    assert.equal(merged.code, 1);
    const text = merged.out.join('\n');
    assert.match(text, /FAIL seed 5: /);
    assert.ok(text.includes('reproduce: npx stevens soak --profile lossy-5 --connections 10 --duration 20s --fault-corrupt-retransmission 3 --seed 5'), text);
    assert.ok(text.includes(`replay: npx stevens replay ${join(dir, 'logs', 'seed-5', 'server.stvlog')}`), text);
    const replay = await cli(['replay', join(dir, 'logs', 'seed-5', 'server.stvlog')]);
    assert.equal(replay.code, 0, replay.err.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

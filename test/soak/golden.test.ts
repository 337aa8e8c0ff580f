// `stevens soak --seed 7 --json` prints what it printed when test/fixtures/soak-seed-7.json was recorded (less the
// wall-clock fields and the build's provenance, version and commit, which name the code rather than what it did):
// the soak's whole result is a function of its seed and options, and of the core's behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';

function withoutWallClock(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutWallClock);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'wallMs' && k !== 'wallMsSum') out[k] = withoutWallClock(x);
    return out;
  }
  return v;
}

test('stevens soak --seed 7 --json matches the recorded result', async () => {
  const out: string[] = [];
  const code = await main(['soak', '--seed', '7', '--json'], { out: (l) => out.push(l), err: () => {}, setExitCode: () => {} });
  assert.equal(code, 0);
  const want = JSON.parse(readFileSync('test/fixtures/soak-seed-7.json', 'utf8'));
  const { version, commit: _commit, ...got } = JSON.parse(out[0]!);
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(withoutWallClock(got), want);
});

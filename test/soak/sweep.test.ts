// A sweep on worker threads gives each seed exactly the result an in-process run of that seed gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak, type SoakOptions, type SoakResult } from '../../src/soak/index.js';
import { runSweep } from '../../src/soak/sweep.js';

const BASE: Omit<SoakOptions, 'seed'> = { profile: 'wifi', connections: 8, durationMs: 15_000, digest: true };

function comparable(r: SoakResult): Omit<SoakResult, 'wallMs'> {
  const { wallMs: _w, ...rest } = r;
  return rest;
}

test('a sweep across 2 workers matches running the seeds in-process', async () => {
  const seeds = [11, 12, 13, 14];
  const progress: number[] = [];
  const swept = await runSweep({ base: BASE, seeds, workers: 2, onProgress: (p) => progress.push(p.seedsDone) });
  assert.deepEqual(
    swept.map((r) => r.seed),
    seeds,
  );
  for (const r of swept) assert.deepEqual(comparable(r), comparable(runSoak({ ...BASE, seed: r.seed })));
  assert.equal(progress[progress.length - 1], seeds.length);
});

// A run is a function of its seed: two runs of one seed produce the same packet and endpoint event sequence
// (a SHA-256 over every packet event and every endpoint event) and the same result; other seeds differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak, type SoakOptions, type SoakResult } from '../../src/soak/index.js';

const BASE: Omit<SoakOptions, 'seed'> = { profile: 'hell', connections: 12, durationMs: 20_000, digest: true };

function comparable(r: SoakResult): Omit<SoakResult, 'wallMs'> {
  const { wallMs: _w, ...rest } = r;
  return rest;
}

test('the same seed gives the same packet and endpoint events, and the same result', () => {
  const a = runSoak({ ...BASE, seed: 42 });
  const b = runSoak({ ...BASE, seed: 42 });
  assert.match(a.digest ?? '', /^[0-9a-f]{64}$/);
  assert.equal(a.digest, b.digest);
  assert.deepEqual(comparable(a), comparable(b));
  assert.ok(a.lifetimes.started > 12 && a.links.sent > 1000, 'the run did real work');
});

test('different seeds give different runs', () => {
  const digests = new Set([1, 2, 3].map((seed) => runSoak({ ...BASE, seed }).digest));
  assert.equal(digests.size, 3);
});

test('recording the digest does not change the run', () => {
  const { digest: _d, ...plain } = BASE;
  const a = runSoak({ ...BASE, seed: 7 });
  const b = runSoak({ ...plain, seed: 7 });
  const { digest: _x, ...ra } = comparable(a);
  assert.deepEqual(ra, comparable(b));
});

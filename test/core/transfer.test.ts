import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { bulkTransfer } from '../support/bulk.js';

const MB = 1 << 20;

test('10 MB each way over a perfect in-memory link arrives intact (SHA-256)', () => {
  const pair = new MemoryPair(1, [{}, {}], { delayMs: 5 });
  const r = bulkTransfer(pair, [10 * MB, 10 * MB], 600_000);
  assert.deepEqual(r.errors, []);
  assert.ok(r.done, `not done at ${r.nowMs} ms: received ${r.receivedBytes}`);
  assert.equal(r.receivedBytes[0], 10 * MB);
  assert.equal(r.receivedBytes[1], 10 * MB);
  assert.equal(r.receivedDigest[0], r.sentDigest[0]);
  assert.equal(r.receivedDigest[1], r.sentDigest[1]);
});

test('10 MB each way over a link that drops, reorders and duplicates (seeded) arrives intact', () => {
  const pair = new MemoryPair(7, [{}, {}], { delayMs: 10, jitterMs: 6, lossRate: 0.02, duplicateRate: 0.02 });
  const r = bulkTransfer(pair, [10 * MB, 10 * MB], 3_600_000);
  assert.deepEqual(r.errors, []);
  assert.ok(r.done, `not done at ${r.nowMs} ms: received ${r.receivedBytes}`);
  assert.equal(r.receivedDigest[0], r.sentDigest[0]);
  assert.equal(r.receivedDigest[1], r.sentDigest[1]);
  assert.ok(pair.dropped[0]! + pair.dropped[1]! > 100, 'the link really dropped datagrams');
});

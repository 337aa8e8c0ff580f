import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { bulkTransfer } from '../../src/sim/bulk.js';

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

test('with SACK at 2% random loss, retransmissions stay close to what was actually lost', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const pair = new MemoryPair(seed, [{}, {}], { delayMs: 10, lossRate: 0.02 });
    const r = bulkTransfer(pair, [4 * MB, 0], 3_600_000);
    assert.ok(r.done, `seed ${seed}: not done`);
    assert.equal(r.receivedDigest[0], r.sentDigest[0]);
    const s = r.connections[0]!.stats();
    assert.equal(s.sackPermitted, true);
    // Every datagram lost towards the receiver carried data (the handshake's last ACK aside).
    const lost = pair.dropped[1]!;
    assert.ok(lost > 40, `seed ${seed}: the link dropped ${lost}`);
    assert.ok(s.segmentsRetransmitted >= lost - 2, `seed ${seed}: ${s.segmentsRetransmitted} retransmitted < ${lost} lost`);
    assert.ok(s.segmentsRetransmitted <= Math.ceil(lost * 1.1) + 2, `seed ${seed}: ${s.segmentsRetransmitted} retransmitted for ${lost} lost`);
    assert.ok(s.fastRetransmits > 0);
  }
});

test('NewReno without SACK recovers at 2% loss too (fast retransmit, partial ACKs)', () => {
  const pair = new MemoryPair(9, [{ sack: false, congestionControl: 'newreno' }, { sack: false }], { delayMs: 10, lossRate: 0.02 });
  const r = bulkTransfer(pair, [4 * MB, 0], 3_600_000);
  assert.ok(r.done);
  assert.equal(r.receivedDigest[0], r.sentDigest[0]);
  const s = r.connections[0]!.stats();
  assert.equal(s.sackPermitted, false);
  assert.equal(s.congestionControl, 'newreno');
  assert.ok(s.fastRetransmits > 10, `fast retransmits ${s.fastRetransmits}`);
});

test('the planted fault (faults.corruptRetransmission) corrupts the stream, and only when switched on', () => {
  const run = (faults?: { corruptRetransmission: number }) => {
    const pair = new MemoryPair(3, [faults ? { faults } : {}, {}], { delayMs: 10, lossRate: 0.02 });
    return bulkTransfer(pair, [1 * MB, 0], 3_600_000);
  };
  const clean = run();
  assert.ok(clean.done);
  assert.equal(clean.receivedDigest[0], clean.sentDigest[0]);
  const faulty = run({ corruptRetransmission: 3 });
  assert.ok(faulty.done, 'the transfer itself completes');
  assert.notEqual(faulty.receivedDigest[0], faulty.sentDigest[0], 'but the bytes differ');
});

// Duplication, corruption, truncation and the datagram size limit, measured over 20,000 datagrams from fixed
// seeds (tolerances: four standard errors of a binomial proportion), and the stevens decoder refusing every
// damaged datagram a real transfer receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blast, missing, probeBytes } from '../support/sim-nodes.js';
import { simTransfer } from '../../src/sim/bulk.js';

const N = 20_000;

test('duplicateRate: that fraction arrives twice, every datagram at least once', () => {
  const r = blast({ delayMs: 10, jitter: { kind: 'uniform', maxMs: 2 }, duplicateRate: 0.03 }, { count: N, intervalMs: 1 });
  const dup = r.link.stats.duplicated;
  // SE sqrt(0.03 * 0.97 / 20000) = 0.0012; 4 SE = 0.0048.
  assert.ok(Math.abs(dup / N - 0.03) < 0.0048, `duplicated ${dup / N}`);
  assert.equal(r.receiver.arrivals.length, N + dup);
  assert.equal(r.link.stats.delivered, N + dup);
  assert.deepEqual(missing(N, r.receiver.arrivals), []);
  const counts = new Map<number, number>();
  for (const a of r.receiver.arrivals) counts.set(a.seq, (counts.get(a.seq) ?? 0) + 1);
  assert.equal([...counts.values()].filter((c) => c === 2).length, dup);
  assert.ok(r.receiver.arrivals.every((a) => a.intact));
});

test('corruptRate: that fraction arrives with a flipped bit, and the sender\'s arrays stay intact', () => {
  const r = blast({ delayMs: 10, corruptRate: 0.02 }, { count: N, intervalMs: 1, size: 200, keepSent: true });
  const bad = r.receiver.arrivals.filter((a) => !a.intact).length;
  // SE sqrt(0.02 * 0.98 / 20000) = 0.00099; 4 SE = 0.004.
  assert.ok(Math.abs(bad / N - 0.02) < 0.004, `corrupted ${bad / N}`);
  // One bit flip always breaks a CRC-32, so every corrupted copy is seen as such.
  assert.equal(bad, r.link.stats.corrupted);
  assert.ok(r.receiver.arrivals.every((a) => a.length === 200), 'bit flips keep the length');
  assert.equal(r.receiver.arrivals.length, N);
  // Copy before corrupting: what the sender handed over is unchanged.
  r.sender.sent.forEach((bytes, seq) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    assert.deepEqual(bytes, probeBytes(seq, dv.getFloat64(4), 200));
  });
});

test('truncateRate: that fraction arrives cut short, at a length in [0, length)', () => {
  const r = blast({ delayMs: 10, truncateRate: 0.02 }, { count: N, intervalMs: 1, size: 200, keepSent: true });
  const short = r.receiver.arrivals.filter((a) => a.length < 200);
  assert.ok(Math.abs(short.length / N - 0.02) < 0.004, `truncated ${short.length / N}`);
  assert.equal(short.length, r.link.stats.truncated);
  assert.ok(short.every((a) => !a.intact));
  assert.ok(short.some((a) => a.length < 100) && short.some((a) => a.length >= 100), 'lengths spread over the range');
  r.sender.sent.forEach((bytes) => assert.equal(bytes.length, 200));
});

test('maxDatagramBytes: larger datagrams are dropped as too-big, others pass', () => {
  const big = blast({ delayMs: 1, maxDatagramBytes: 1200 }, { count: 100, intervalMs: 1, size: 1201 });
  assert.equal(big.receiver.arrivals.length, 0);
  assert.deepEqual(big.link.stats.dropped, { 'too-big': 100 });
  const fits = blast({ delayMs: 1, maxDatagramBytes: 1200 }, { count: 100, intervalMs: 1, size: 1200 });
  assert.equal(fits.receiver.arrivals.length, 100);
  assert.deepEqual(fits.link.stats.dropped, {});
});

test('the stevens decoder (CRC-32) rejects every damaged datagram an Endpoint receives; the transfer still completes', () => {
  const link = { delayMs: 10, corruptRate: 0.05, truncateRate: 0.02 };
  const damaged = [0, 0];
  const r = simTransfer({
    path: [link, link],
    bytes: [256 * 1024, 256 * 1024],
    limitMs: 600_000,
    prepare: (sim) => {
      sim.onPacket = (ev) => {
        if (ev.kind === 'deliver' && (ev.corrupted || ev.truncated)) damaged[ev.link.to.name === 'server' ? 1 : 0]!++;
      };
    },
  });
  assert.deepEqual(r.errors, []);
  assert.ok(r.done);
  assert.equal(r.receivedDigest[0], r.sentDigest[0]);
  assert.equal(r.receivedDigest[1], r.sentDigest[1]);
  const decoderDrops = (side: 0 | 1) => {
    const d = r.endpoints[side].stats().drops;
    return (d['bad-crc'] ?? 0) + (d['bad-version'] ?? 0) + (d['bad-type'] ?? 0) + (d['short'] ?? 0);
  };
  assert.ok(damaged[0]! > 10 && damaged[1]! > 10, `damaged ${damaged}`);
  assert.equal(decoderDrops(0), damaged[0]);
  assert.equal(decoderDrops(1), damaged[1]);
});

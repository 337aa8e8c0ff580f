// Delay and reordering, measured over 20,000 datagrams from fixed seeds. Tolerances: four standard errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Arrival } from '../support/sim-nodes.js';
import { blast, mean, stdDev } from '../support/sim-nodes.js';

const N = 20_000;

function delays(arrivals: readonly Arrival[]): number[] {
  return arrivals.map((a) => a.atMs - a.sentAtMs);
}

/** Datagrams delivered before the one sent just ahead of them. */
function overtakes(arrivals: readonly Arrival[]): number {
  const pos = new Map<number, number>();
  arrivals.forEach((a, i) => pos.set(a.seq, i));
  let n = 0;
  for (const [seq, i] of pos) if (seq > 0 && pos.has(seq - 1) && i < pos.get(seq - 1)!) n++;
  return n;
}

test('without jitter every datagram takes exactly delayMs, in order', () => {
  const r = blast({ delayMs: 42.5 }, { count: 1000, intervalMs: 1 });
  assert.equal(r.receiver.arrivals.length, 1000);
  for (const d of delays(r.receiver.arrivals)) assert.equal(d, 42.5);
  assert.equal(overtakes(r.receiver.arrivals), 0);
});

test('uniform jitter: delay in [delay, delay + maxMs), mean delay + maxMs / 2, bounds reached', () => {
  const r = blast({ delayMs: 30, jitter: { kind: 'uniform', maxMs: 20 } }, { count: N, intervalMs: 1 });
  const d = delays(r.receiver.arrivals);
  assert.equal(d.length, N);
  assert.ok(Math.min(...d) >= 30 && Math.max(...d) < 50);
  // Reaches both ends: the chance that 20,000 draws all avoid a 0.1 ms end is (1 - 0.005)^20000 ~ 0.
  assert.ok(Math.min(...d) < 30.1 && Math.max(...d) > 49.9);
  // SE of the mean: (20 / sqrt(12)) / sqrt(20000) = 0.041; 4 SE = 0.16.
  assert.ok(Math.abs(mean(d) - 40) < 0.16, `mean ${mean(d)}`);
});

test('normal jitter: mean delayMs and standard deviation stdDevMs, two-thirds within one sd', () => {
  const r = blast({ delayMs: 100, jitter: { kind: 'normal', stdDevMs: 10 } }, { count: N, intervalMs: 1, seed: 2 });
  const d = delays(r.receiver.arrivals);
  // SE of the mean 10 / sqrt(20000) = 0.071 (4 SE = 0.28); of the sd about 10 / sqrt(2 * 20000) = 0.05 (4 SE = 0.2).
  assert.ok(Math.abs(mean(d) - 100) < 0.28, `mean ${mean(d)}`);
  assert.ok(Math.abs(stdDev(d) - 10) < 0.2, `sd ${stdDev(d)}`);
  // P(|Z| < 1) = 0.6827, SE sqrt(0.68 * 0.32 / 20000) = 0.0033; 4 SE = 0.013.
  const within = d.filter((x) => Math.abs(x - 100) < 10).length / d.length;
  assert.ok(Math.abs(within - 0.6827) < 0.013, `within one sd: ${within}`);
});

test('pareto jitter: extra delay >= 0 with a power-law tail P(X > x) = (scale / x)^shape', () => {
  const scale = 5;
  const shape = 1.5;
  const r = blast({ delayMs: 20, jitter: { kind: 'pareto', scaleMs: scale, shape } }, { count: N, intervalMs: 1, seed: 3 });
  const extra = delays(r.receiver.arrivals).map((x) => x - 20);
  assert.ok(Math.min(...extra) >= 0);
  const tail = (k: number) => extra.filter((e) => e + scale > k * scale).length / extra.length;
  // P(X > 10 scale) = 10^-1.5 = 0.0316, SE 0.0012 (4 SE = 0.005). P(X > 100 scale) = 0.001: ~20 of 20,000,
  // Poisson sd 4.5, so [0.0005, 0.0016] is the 4-SE band rounded out.
  assert.ok(Math.abs(tail(10) - 0.0316) < 0.005, `P(X > 10 scale) = ${tail(10)}`);
  assert.ok(tail(100) >= 0.0005 && tail(100) <= 0.0016, `P(X > 100 scale) = ${tail(100)}`);
  // Median of X - scale: scale * (2^(1/shape) - 1) = 2.937; SE 1 / (2 f(m) sqrt(n)) = 0.037, 4 SE = 0.15.
  const sorted = [...extra].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  assert.ok(Math.abs(median - 2.937) < 0.15, `median ${median}`);
  // Heavy: the largest is hundreds of medians (a normal's maximum of 20,000 draws is ~4 sd).
  assert.ok(sorted[sorted.length - 1]! > 300 * median, `max ${sorted[sorted.length - 1]}`);
});

test('pareto jitter with capMs: no sample beyond the cap, the tail mass piles up at it', () => {
  const r = blast({ delayMs: 20, jitter: { kind: 'pareto', scaleMs: 5, shape: 1.5, capMs: 50 } }, { count: N, intervalMs: 1, seed: 3 });
  const extra = delays(r.receiver.arrivals).map((x) => x - 20);
  assert.ok(Math.max(...extra) <= 50 + 1e-9);
  // P(extra > 50) = (5 / 55)^1.5 = 0.0274, SE 0.0012; 4 SE = 0.005.
  const atCap = extra.filter((e) => e > 50 - 1e-9).length / extra.length;
  assert.ok(Math.abs(atCap - 0.0274) < 0.005, `at the cap: ${atCap}`);
});

test('jitter larger than the spacing reorders; preserveOrder keeps order with the same jitter', () => {
  const jittery = blast({ delayMs: 10, jitter: { kind: 'uniform', maxMs: 10 } }, { count: N, intervalMs: 1 });
  const n = overtakes(jittery.receiver.arrivals);
  // Two uniform [0, 10) draws 1 ms apart: P(next before previous) = (9/10)^2 / 2 = 0.405.
  assert.ok(Math.abs(n / N - 0.405) < 0.015, `reordered ${n / N}`);
  const ordered = blast({ delayMs: 10, jitter: { kind: 'uniform', maxMs: 10 }, preserveOrder: true }, { count: N, intervalMs: 1 });
  assert.equal(overtakes(ordered.receiver.arrivals), 0);
  const seqs = ordered.receiver.arrivals.map((a) => a.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  // Order is kept by waiting: no datagram arrives before its own draw would have put it.
  assert.ok(delays(ordered.receiver.arrivals).every((d) => d >= 10));
});

test('reorderRate: that fraction of datagrams overtakes the one sent before it, without jitter', () => {
  const r = blast({ delayMs: 10, reorderRate: 0.05 }, { count: N, intervalMs: 1, seed: 5 });
  const n = overtakes(r.receiver.arrivals);
  // Binomial: SE 0.00154; 4 SE = 0.0062.
  assert.ok(Math.abs(n / N - 0.05) < 0.0062, `overtook ${n / N}`);
  assert.equal(n, r.link.stats.reordered);
  assert.equal(r.receiver.arrivals.length, N, 'nothing lost');
  // An overtaking datagram arrives just ahead of the one it passes (1 microsecond), never after delayMs.
  const at = new Map(r.receiver.arrivals.map((a) => [a.seq, a.atMs]));
  for (const a of r.receiver.arrivals) {
    assert.ok(a.atMs - a.sentAtMs <= 10 + 1e-9);
    const prev = at.get(a.seq - 1);
    if (prev !== undefined && prev > a.atMs) assert.ok(prev - a.atMs <= 0.001 + 1e-9, `seq ${a.seq} arrived ${prev - a.atMs} ms ahead`);
  }
});

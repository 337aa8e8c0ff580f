// Loss as configured, measured over many datagrams from fixed seeds. Tolerances are four standard errors of the
// estimate (so a correct model fails with probability ~1e-4 per assertion for an arbitrary seed; with the fixed
// seeds here each run is exactly reproducible).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gilbertElliottStationaryLoss, Simulator } from '../../src/sim/index.js';
import { blast, missing, Probe } from '../support/sim-nodes.js';

const N = 20_000;

test('independent loss: the fraction lost is lossRate, and every drop is counted as "loss"', () => {
  const r = blast({ delayMs: 10, lossRate: 0.05 }, { count: N, intervalMs: 1, size: 100 });
  const lost = missing(N, r.receiver.arrivals).length;
  // Binomial: SE = sqrt(0.05 * 0.95 / 20000) = 0.00154; 4 SE = 0.0062.
  assert.ok(Math.abs(lost / N - 0.05) < 0.0062, `lost ${lost / N}`);
  assert.equal(r.link.stats.sent, N);
  assert.deepEqual(r.link.stats.dropped, { loss: lost });
  assert.equal(r.link.stats.delivered, N - lost);
  assert.equal(r.receiver.arrivals.length, N - lost);
});

/** Lengths of runs of consecutive lost sequence numbers. */
function bursts(lost: number[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (let i = 0; i < lost.length; i++) {
    run++;
    if (i + 1 === lost.length || lost[i + 1] !== lost[i]! + 1) {
      out.push(run);
      run = 0;
    }
  }
  return out;
}

test('Gilbert-Elliott: bursts last 1/pBadToGood on average and the loss is the stationary value', () => {
  // With lossInGood 0 and lossInBad 1 a burst of losses is exactly a stay in the bad state: geometric with mean
  // 1 / r = 4. Stationary loss p / (p + r) = 0.02 / 0.27 = 0.0741.
  const ge = { pGoodToBad: 0.02, pBadToGood: 0.25, lossInGood: 0, lossInBad: 1 };
  const n = 100_000;
  const r = blast({ delayMs: 5, gilbertElliott: ge }, { count: n, intervalMs: 0.1, size: 20 });
  const lost = missing(n, r.receiver.arrivals);
  const b = bursts(lost);
  const meanBurst = lost.length / b.length;
  // ~1850 bursts, each geometric with sd sqrt(1 - r) / r = 3.46: SE of the mean 0.08; 4 SE = 0.32.
  assert.ok(Math.abs(meanBurst - 4) < 0.32, `mean burst ${meanBurst} over ${b.length} bursts`);
  assert.ok(Math.max(...b) >= 20, 'a geometric tail: some long bursts');
  const expected = gilbertElliottStationaryLoss(ge);
  assert.ok(Math.abs(expected - 0.0741) < 1e-4);
  // Correlated samples: variance inflated by (1 + l) / (1 - l), l = 1 - p - r = 0.73, so SE = 0.0021; 4 SE = 0.0084.
  assert.ok(Math.abs(lost.length / n - expected) < 0.0084, `lost ${lost.length / n}, stationary ${expected}`);
  assert.deepEqual(r.link.stats.dropped, { 'burst-loss': lost.length });
});

test('Gilbert-Elliott with loss in both states (the bursty profile numbers) loses the stationary fraction', () => {
  const ge = { pGoodToBad: 0.01, pBadToGood: 0.3, lossInGood: 0.001, lossInBad: 0.9 };
  const n = 100_000;
  const r = blast({ delayMs: 5, gilbertElliott: ge }, { count: n, intervalMs: 0.1, size: 20, seed: 9 });
  const lost = missing(n, r.receiver.arrivals).length;
  const expected = gilbertElliottStationaryLoss(ge); // 0.0300
  // l = 0.69: inflation 5.5, SE = 0.0013; 4 SE = 0.005.
  assert.ok(Math.abs(lost / n - expected) < 0.005, `lost ${lost / n}, stationary ${expected}`);
  // Bursty: the mean run of losses is well above independent loss's 1 / (1 - 0.03) = 1.03.
  const runs = bursts(missing(n, r.receiver.arrivals));
  assert.ok(lost / runs.length > 2, `mean burst ${lost / runs.length}`);
});

test('an outage drops exactly what enters the link in [fromMs, toMs), nothing else', () => {
  const r = blast({ delayMs: 30, outages: [{ fromMs: 2000, toMs: 3000 }, { fromMs: 4000, toMs: 4000.5 }] }, { count: 5000, intervalMs: 1, size: 50 });
  const lost = missing(5000, r.receiver.arrivals);
  const expected = [...Array.from({ length: 1000 }, (_, i) => 2000 + i), 4000];
  assert.deepEqual(lost, expected);
  assert.deepEqual(r.link.stats.dropped, { outage: 1001 });
});

test('a partition cuts both directions in [fromMs, toMs), set before or after the hosts are linked', () => {
  for (const before of [true, false]) {
    const sim = new Simulator({ seed: 4 });
    const pa = new Probe({ count: 3000, intervalMs: 1, size: 40 });
    const pb = new Probe({ count: 3000, intervalMs: 1, size: 40 });
    const pc = new Probe({ count: 3000, intervalMs: 1, size: 40 });
    const a = sim.addHost({ name: 'a' }, pa);
    const b = sim.addHost({ name: 'b' }, pb);
    const c = sim.addHost({ name: 'c' }, pc);
    pa.target(b.addresses[1]!); // over IPv6
    pb.target(a.addresses[0]!); // over IPv4
    pc.target(a.addresses[0]!); // the control: c is not partitioned from a
    if (before) sim.partition(a, b, 1000, 1500);
    const [ab, ba] = sim.connect(a, b, { delayMs: 5 });
    const [ca] = sim.connect(c, a, { delayMs: 5 });
    if (!before) sim.partition(b, a, 1000, 1500);
    sim.run(10_000);
    const cut = Array.from({ length: 500 }, (_, i) => 1000 + i);
    assert.deepEqual(missing(3000, pb.arrivals), cut);
    const fromB = pa.arrivals.filter((x) => x.from.address === b.addresses[0]!.address);
    const fromC = pa.arrivals.filter((x) => x.from.address === c.addresses[0]!.address);
    assert.deepEqual(missing(3000, fromB), cut);
    assert.deepEqual(missing(3000, fromC), []);
    assert.deepEqual(ab!.stats.dropped, { partition: 500 });
    assert.deepEqual(ba!.stats.dropped, { partition: 500 });
    assert.deepEqual(ca!.stats.dropped, {});
  }
});

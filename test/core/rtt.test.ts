// RttEstimator against RFC 6298's formulas, with the numbers worked out by hand in each test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RttEstimator } from '../../src/core/rtt.js';

/** initialRto, minRto, maxRto, G, backoff factor: the TCP profile's numbers. */
function tcpEstimator(): RttEstimator {
  return new RttEstimator(1000, 200, 60_000, 1, 2);
}

/** An estimator with a tiny minRto so the unclamped RFC 6298 value shows through. */
function unclamped(granularityMs = 1): RttEstimator {
  return new RttEstimator(1000, 1, 1e9, granularityMs, 2);
}

describe('RttEstimator: before any sample', () => {
  it('uses the initial RTO of 1 s (RFC 6298 2.1) with no SRTT yet', () => {
    const r = tcpEstimator();
    assert.equal(r.hasSample, false);
    assert.equal(r.rtoMs, 1000);
    assert.equal(r.backoffs, 0);
  });

  it('clamps the initial RTO into [minRto, maxRto]', () => {
    assert.equal(new RttEstimator(1000, 2000, 60_000, 1, 2).rtoMs, 2000);
    assert.equal(new RttEstimator(90_000, 200, 60_000, 1, 2).rtoMs, 60_000);
    assert.equal(new RttEstimator(500, 200, 60_000, 1, 2).rtoMs, 500);
  });
});

describe('RttEstimator: RFC 6298 2.2 and 2.3 worked numbers', () => {
  it('first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR)', () => {
    const r = unclamped();
    r.onSample(100);
    assert.equal(r.hasSample, true);
    assert.equal(r.srttMs, 100);
    assert.equal(r.rttvarMs, 50);
    // 100 + max(1, 4 * 50) = 300
    assert.equal(r.rtoMs, 300);
    assert.equal(r.latestSampleMs, 100);
  });

  it('subsequent samples: RTTVAR from the old SRTT first, then SRTT (alpha 1/8, beta 1/4)', () => {
    const r = unclamped();
    r.onSample(100); // SRTT 100, RTTVAR 50
    r.onSample(200);
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 37.5 + 25 = 62.5  (using the new SRTT would give 59.375)
    // SRTT   = 7/8 * 100 + 1/8 * 200 = 87.5 + 25 = 112.5
    // RTO    = 112.5 + 4 * 62.5 = 362.5
    assert.equal(r.rttvarMs, 62.5);
    assert.equal(r.srttMs, 112.5);
    assert.equal(r.rtoMs, 362.5);
    r.onSample(50);
    // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 46.875 + 15.625 = 62.5
    // SRTT   = 7/8 * 112.5 + 1/8 * 50 = 98.4375 + 6.25 = 104.6875
    // RTO    = 104.6875 + 250 = 354.6875
    assert.equal(r.rttvarMs, 62.5);
    assert.equal(r.srttMs, 104.6875);
    assert.equal(r.rtoMs, 354.6875);
    r.onSample(104.6875);
    // RTTVAR = 3/4 * 62.5 + 0 = 46.875; SRTT unchanged; RTO = 104.6875 + 187.5 = 292.1875
    assert.equal(r.rttvarMs, 46.875);
    assert.equal(r.srttMs, 104.6875);
    assert.equal(r.rtoMs, 292.1875);
  });

  it('the clock granularity G is the floor of the variance term', () => {
    const r = unclamped(50);
    r.onSample(8); // SRTT 8, RTTVAR 4: 4 * 4 = 16 < G = 50, so RTO = 8 + 50
    assert.equal(r.rtoMs, 58);
    const z = unclamped(50);
    z.onSample(0); // SRTT 0, RTTVAR 0: RTO = G
    assert.equal(z.rtoMs, 50);
    const big = unclamped(50);
    big.onSample(40); // 4 * 20 = 80 > 50: RTO = 40 + 80
    assert.equal(big.rtoMs, 120);
  });

  it('steady samples make RTTVAR decay by 3/4 each time and RTO approach SRTT + max(G, ...)', () => {
    const r = unclamped(1);
    r.onSample(64); // SRTT 64, RTTVAR 32
    let expectedVar = 32;
    for (let i = 0; i < 10; i++) {
      r.onSample(64);
      expectedVar *= 0.75;
      assert.equal(r.srttMs, 64);
      assert.equal(r.rttvarMs, expectedVar);
      assert.equal(r.rtoMs, 64 + Math.max(1, 4 * expectedVar));
    }
  });

  it('a negative sample counts as 0', () => {
    const r = unclamped(10);
    r.onSample(-5);
    assert.equal(r.srttMs, 0);
    assert.equal(r.rttvarMs, 0);
    assert.equal(r.rtoMs, 10);
  });
});

describe('RttEstimator: clamping to [minRto, maxRto]', () => {
  it('raises a small RTO to minRto (RFC 6298 2.4)', () => {
    const r = tcpEstimator();
    r.onSample(10); // 10 + 4 * 5 = 30 < 200
    assert.equal(r.srttMs, 10);
    assert.equal(r.rttvarMs, 5);
    assert.equal(r.rtoMs, 200);
  });

  it('caps a large RTO at maxRto (RFC 6298 2.5)', () => {
    const r = tcpEstimator();
    r.onSample(40_000); // 40000 + 80000 = 120000 > 60000
    assert.equal(r.rtoMs, 60_000);
    assert.equal(r.srttMs, 40_000);
  });

  it('in between, the RFC value is used unchanged', () => {
    const r = tcpEstimator();
    r.onSample(100); // 300 in [200, 60000]
    assert.equal(r.rtoMs, 300);
  });
});

describe('RttEstimator: backoff (RFC 6298 5.5) and its reset', () => {
  it('doubles the RTO on each timeout, from the initial RTO', () => {
    const r = tcpEstimator();
    const seen: number[] = [r.rtoMs];
    for (let i = 0; i < 5; i++) {
      r.onTimeout();
      seen.push(r.rtoMs);
    }
    assert.deepEqual(seen, [1000, 2000, 4000, 8000, 16000, 32000]);
    assert.equal(r.backoffs, 5);
  });

  it('doubles from the measured RTO and is capped at maxRto', () => {
    const r = tcpEstimator();
    r.onSample(100); // 300
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      r.onTimeout();
      seen.push(r.rtoMs);
    }
    // 600, 1200, ..., 38400, then the 60 s cap
    assert.deepEqual(seen, [600, 1200, 2400, 4800, 9600, 19200, 38400, 60_000, 60_000, 60_000]);
  });

  it('never exceeds maxRto however many timeouts there are', () => {
    const r = tcpEstimator();
    for (let i = 0; i < 5000; i++) r.onTimeout();
    assert.equal(r.rtoMs, 60_000);
  });

  it('a new sample ends the backoff and recomputes the RTO from the estimator', () => {
    const r = tcpEstimator();
    r.onSample(100); // SRTT 100, RTTVAR 50, RTO 300
    r.onTimeout();
    r.onTimeout();
    assert.equal(r.rtoMs, 1200);
    r.onSample(100);
    // RTTVAR = 37.5, SRTT = 100: RTO = 100 + 150 = 250, no backoff
    assert.equal(r.backoffs, 0);
    assert.equal(r.rttvarMs, 37.5);
    assert.equal(r.rtoMs, 250);
  });

  it('uses the configured backoff factor', () => {
    const r = new RttEstimator(1000, 30, 5000, 1, 1.5);
    r.onTimeout();
    assert.equal(r.rtoMs, 1500);
    r.onTimeout();
    assert.equal(r.rtoMs, 2250);
    r.onTimeout();
    assert.equal(r.rtoMs, 3375);
    r.onTimeout();
    assert.equal(r.rtoMs, 5000); // 5062.5 capped
  });

  it('RFC 6298 5.7: after a SYN timeout with no sample, the RTO restarts at 3 s; a sample keeps its RTO', () => {
    const r = tcpEstimator();
    r.onTimeout();
    r.resetAfterSynTimeout();
    assert.equal(r.baseRtoMs, 3000);
    const s = tcpEstimator();
    s.onSample(100);
    s.resetAfterSynTimeout();
    assert.equal(s.rtoMs, 300);
  });
});

describe('RttEstimator: property against the RFC 6298 formulas', () => {
  type Op = { kind: 'sample'; ms: number } | { kind: 'timeout' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 100_000 }).map((ms) => ({ kind: 'sample' as const, ms })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'timeout' as const }) },
  );

  it('tracks a reference model and always stays within [minRto, maxRto]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1000, max: 120_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(op, { maxLength: 60 }),
        (minRto, maxRto, g, ops) => {
          const r = new RttEstimator(1000, minRto, maxRto, g, 2);
          let srtt = 0;
          let rttvar = 0;
          let has = false;
          let base = Math.min(Math.max(1000, minRto), maxRto);
          let k = 0;
          for (const o of ops) {
            if (o.kind === 'sample') {
              if (!has) {
                srtt = o.ms;
                rttvar = o.ms / 2;
                has = true;
              } else {
                rttvar = (1 - 1 / 4) * rttvar + (1 / 4) * Math.abs(srtt - o.ms);
                srtt = (1 - 1 / 8) * srtt + (1 / 8) * o.ms;
              }
              base = Math.min(Math.max(srtt + Math.max(g, 4 * rttvar), minRto), maxRto);
              k = 0;
              r.onSample(o.ms);
            } else {
              k++;
              r.onTimeout();
            }
            const expected = Math.min(base * 2 ** k, maxRto);
            assert.ok(Math.abs(r.rtoMs - expected) <= 1e-9 * expected, `rto ${r.rtoMs} != ${expected}`);
            assert.ok(r.rtoMs >= minRto && r.rtoMs <= maxRto);
            if (has) {
              assert.ok(Math.abs(r.srttMs - srtt) <= 1e-9 * Math.max(1, srtt));
              assert.ok(Math.abs(r.rttvarMs - rttvar) <= 1e-9 * Math.max(1, rttvar));
            }
          }
        },
      ),
      { seed: 6298, numRuns: 300 },
    );
  });
});

// CUBIC's window function against values computed by hand from RFC 9438's equations, and the controller's
// reactions (beta, fast convergence, Reno-friendly region) checked against the same arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cubic, CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, cubicK, cubicWindow } from '../../src/core/congestion/cubic.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('constants are RFC 9438 section 5: C = 0.4, beta = 0.7, alpha = 3(1 - beta)/(1 + beta)', () => {
  assert.equal(CUBIC_C, 0.4);
  assert.equal(CUBIC_BETA, 0.7);
  close(CUBIC_ALPHA, 0.9 / 1.7);
});

test('K = cbrt((W_max - cwnd_epoch) / C) (RFC 9438 eq. 2)', () => {
  // W_max 100, cwnd_epoch 70 (after beta 0.7): (30 / 0.4) = 75, cbrt(75) = 4.217163326508746
  close(cubicK(100, 70), 4.217163326508746, 1e-12);
  // W_max 10, cwnd_epoch 7: 3 / 0.4 = 7.5, cbrt(7.5) = 1.9574338205844317
  close(cubicK(10, 7), 1.9574338205844317, 1e-12);
  assert.equal(cubicK(50, 60), 0, 'no reduction to recover from');
});

test('W_cubic(t) = C (t - K)^3 + W_max (RFC 9438 eq. 1) at points worked by hand', () => {
  const K = cubicK(100, 70);
  close(cubicWindow(0, 100, K), 70, 1e-9); // starts at cwnd_epoch
  close(cubicWindow(K, 100, K), 100, 1e-12); // plateau at W_max after K seconds
  // t = 1 s: 0.4 * (1 - 4.217163326508746)^3 + 100 = 0.4 * (-3.217163326508746)^3 + 100
  //        = 0.4 * -33.29809... + 100 = 86.68076...
  const d = 1 - 4.217163326508746;
  close(cubicWindow(1, 100, K), 0.4 * d * d * d + 100, 1e-9);
  close(cubicWindow(1, 100, K), 86.68076, 1e-5);
  // t = 6 s (convex region): 0.4 * (1.782836673491254)^3 + 100 = 102.2667...
  close(cubicWindow(6, 100, K), 102.2667, 1e-4);
});

const MSS = 1000;

/** Drive the controller to a given cwnd in congestion avoidance by a loss. */
function cubicAfterLossAt(cwndSegments: number): Cubic {
  const c = new Cubic(MSS);
  // Slow start up to the wanted window (ACKs of 1 MSS, cwnd-limited).
  while (c.cwndBytes < cwndSegments * MSS) c.onAck(0, MSS, c.cwndBytes, 100);
  c.restore({ ...c.save(), cwndBytes: cwndSegments * MSS });
  c.onLoss(0, c.cwndBytes);
  return c;
}

test('a loss sets ssthresh = cwnd * beta and cwnd = ssthresh (RFC 9438 4.6)', () => {
  const c = cubicAfterLossAt(100);
  assert.equal(c.ssthreshBytes, 70 * MSS);
  assert.equal(c.cwndBytes, 70 * MSS);
  assert.equal(c.save().wMaxSegments, 100);
});

test('fast convergence: a second loss below W_max lowers W_max to cwnd (1 + beta) / 2 (RFC 9438 4.7)', () => {
  const c = cubicAfterLossAt(100);
  c.onLoss(0, c.cwndBytes); // at 70 < W_max 100
  close(c.save().wMaxSegments!, (70 * 1.7) / 2);
  assert.equal(c.cwndBytes, 49 * MSS);
});

test('in the concave region cwnd follows W_cubic(t + RTT) over time', () => {
  const c = cubicAfterLossAt(100);
  const rttMs = 100;
  // One window of ACKs per RTT for 3 seconds.
  let t = 0;
  for (; t < 3000; t += rttMs) {
    const acks = Math.floor(c.cwndBytes / MSS);
    for (let i = 0; i < acks; i++) c.onAck(t, MSS, c.cwndBytes, rttMs);
  }
  const K = cubicK(100, 70);
  const expected = cubicWindow(3, 100, K); // about W_cubic(t) at the end
  const got = c.cwndBytes / MSS;
  assert.ok(Math.abs(got - expected) < 3, `cwnd ${got.toFixed(2)} segments vs W_cubic(3) = ${expected.toFixed(2)}`);
  assert.ok(got < 100, 'still below W_max before K');
});

test('with a small W_max and long RTT the Reno-friendly estimate wins (RFC 9438 4.3)', () => {
  const c = cubicAfterLossAt(10);
  const rttMs = 1000;
  // W_est grows by alpha per RTT at first; W_cubic from a W_max of 10 barely moves in 2 RTTs of 1 s.
  for (let t = 0; t < 2000; t += rttMs) {
    const acks = Math.floor(c.cwndBytes / MSS);
    for (let i = 0; i < acks; i++) c.onAck(t, MSS, c.cwndBytes, rttMs);
  }
  const got = c.cwndBytes / MSS;
  assert.ok(got >= 7 + 2 * CUBIC_ALPHA - 0.2, `cwnd ${got} grew at least like Reno-friendly W_est`);
});

test('an RTO drops cwnd to one segment and sets ssthresh as a loss does (RFC 9438 4.8)', () => {
  const c = cubicAfterLossAt(40);
  c.onRto(0, c.cwndBytes);
  assert.equal(c.cwndBytes, MSS);
  assert.equal(c.ssthreshBytes, Math.floor(28 * MSS * 0.7));
});

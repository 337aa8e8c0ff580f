// Delay: the per-datagram extra delay drawn from a jitter distribution (reordering follows when it exceeds the
// spacing between datagrams), and the explicit overtaking rule for reorderRate.
import type { Prng } from '../util/prng.js';
import type { JitterConfig } from './link-config.js';

const TWO_PI = 2 * Math.PI;

/**
 * One draw of extra delay in ms. uniform: [0, maxMs). normal: mean 0 (Box-Muller on two draws; can be
 * negative, the link clamps the total at zero). pareto: X - scaleMs for X ~ Pareto(scaleMs, shape) by inverse
 * transform, X = scaleMs * U^(-1/shape) with U in (0, 1], bounded by capMs when given.
 */
export function sampleJitter(prng: Prng, j: JitterConfig): number {
  switch (j.kind) {
    case 'uniform':
      return prng.nextFloat() * j.maxMs;
    case 'normal': {
      const u1 = 1 - prng.nextFloat(); // (0, 1]: log is finite
      const u2 = prng.nextFloat();
      return j.stdDevMs * Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2);
    }
    case 'pareto': {
      const u = 1 - prng.nextFloat();
      const extra = j.scaleMs * Math.pow(u, -1 / j.shape) - j.scaleMs;
      return j.capMs !== undefined && extra > j.capMs ? j.capMs : extra;
    }
  }
}

/** How far ahead of the datagram it overtakes an overtaking datagram arrives (1 microsecond). */
export const OVERTAKE_MS = 0.001;

/**
 * Delivery time for a datagram that overtakes the previous one (due at prevAtMs), or -1 when it cannot: the
 * previous one is already due now, or this one already arrives first.
 */
export function overtakeTime(nowMs: number, atMs: number, prevAtMs: number): number {
  if (prevAtMs <= nowMs || atMs < prevAtMs) return -1;
  return prevAtMs - Math.min(OVERTAKE_MS, (prevAtMs - nowMs) / 2);
}

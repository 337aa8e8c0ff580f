// The drivers' one clock: monotonic milliseconds (fractions allowed), read once per batch of work.
import { performance } from 'node:perf_hooks';

export function monotonicMs(): number {
  return performance.now();
}

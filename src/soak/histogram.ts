// A latency histogram with logarithmic buckets (about 1% wide), exact count, sum and max. Plain data, so it
// crosses worker_threads and merges across seeds.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Values below this (ms) share bucket 0. */
const FLOOR_MS = 0.01;

export interface Histogram {
  /** bucket index -> count */
  buckets: Record<number, number>;
  count: number;
  sumMs: number;
  maxMs: number;
}

export function newHistogram(): Histogram {
  return { buckets: {}, count: 0, sumMs: 0, maxMs: 0 };
}

function bucketOf(ms: number): number {
  return ms <= FLOOR_MS ? 0 : 1 + Math.floor(Math.log(ms / FLOOR_MS) / LOG_GROWTH);
}

/** The upper edge of a bucket: a quantile is reported as at most this. */
function bucketValue(b: number): number {
  return b === 0 ? FLOOR_MS : FLOOR_MS * Math.pow(GROWTH, b);
}

export function record(h: Histogram, ms: number): void {
  const b = bucketOf(ms);
  h.buckets[b] = (h.buckets[b] ?? 0) + 1;
  h.count++;
  h.sumMs += ms;
  if (ms > h.maxMs) h.maxMs = ms;
}

export function merge(into: Histogram, from: Histogram): void {
  for (const [b, n] of Object.entries(from.buckets)) into.buckets[Number(b)] = (into.buckets[Number(b)] ?? 0) + n;
  into.count += from.count;
  into.sumMs += from.sumMs;
  if (from.maxMs > into.maxMs) into.maxMs = from.maxMs;
}

/** The q-quantile (0..1), within a bucket's width; undefined when empty. */
export function quantile(h: Histogram, q: number): number | undefined {
  if (h.count === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * h.count));
  const keys = Object.keys(h.buckets).map(Number).sort((a, b) => a - b);
  let seen = 0;
  for (const b of keys) {
    seen += h.buckets[b]!;
    if (seen >= rank) return Math.min(bucketValue(b), h.maxMs);
  }
  return h.maxMs;
}

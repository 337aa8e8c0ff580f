// Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). Never compare sequence numbers with `<` directly.

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
/** a + n, wrapped to an unsigned 32-bit sequence number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
/** The distance b - a, as a signed 32-bit number (positive when b is after a). */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}
export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
export function seqMin(a: number, b: number): number {
  return seqLt(a, b) ? a : b;
}
/** lo <= x < hi in sequence space. */
export function seqInRange(x: number, lo: number, hi: number): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}

// Damage to a datagram's bytes: one flipped bit, or truncation. Always on a copy, so the sender's array (which
// a protocol may keep for retransmission) stays intact.
import type { Prng } from '../util/prng.js';

/** A copy with one uniformly chosen bit flipped (an empty datagram is returned as is). */
export function flipBit(prng: Prng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return out;
  const bit = prng.intBetween(0, out.length * 8 - 1);
  out[bit >>> 3]! ^= 1 << (bit & 7);
  return out;
}

/** A copy cut to a uniform length in [0, length - 1]. */
export function truncate(prng: Prng, bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return bytes.slice();
  return bytes.slice(0, prng.intBetween(0, bytes.length - 1));
}

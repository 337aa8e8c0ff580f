// The endpoint's secret and the keyed functions built on it (blake2s in keyed mode, from @noble/hashes: no
// hand-written crypto, no node: import). RFC 6528: an ISN is a clock (4 us ticks) plus F(the connection's
// addresses and ports, secret), so ISNs of one 4-tuple grow with time while an attacker who saw others learns
// nothing; the timestamp offset (RFC 7323 5.4) is derived the same way. SYN cookies (syn-cookies.ts) are MACed
// with the same key. The secret comes from the endpoint's options (the Node driver passes 256 bits from
// node:crypto) or, in the simulator and replay, from the seed, so runs stay bit for bit.
import { blake2s } from '@noble/hashes/blake2.js';
import type { Remote } from './events.js';
import { Prng } from '../util/prng.js';

export const SECRET_BYTES = 32;
/** Below this the secret is refused (128 bits). */
const MIN_SECRET_BYTES = 16;

/** The endpoint's key: from a hex string of at least 128 bits, or derived from the seed. */
export function endpointSecret(secretHex: string | undefined, seed: number): Uint8Array {
  if (secretHex !== undefined) {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(secretHex) || secretHex.length < 2 * MIN_SECRET_BYTES) {
      throw new RangeError(`secret must be at least ${MIN_SECRET_BYTES} bytes of hex, got ${secretHex.length} characters`);
    }
    const out = new Uint8Array(secretHex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(secretHex.slice(2 * i, 2 * i + 2), 16);
    return out.length > SECRET_BYTES ? blake2s(out, { dkLen: SECRET_BYTES }) : out;
  }
  // A generator of its own, so the endpoint's PRNG (ephemeral ports) draws the same with or without a secret.
  const prng = new Prng(seed ^ 0x2545f491);
  const out = new Uint8Array(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i += 4) {
    const v = prng.nextUint32();
    out[i] = v & 0xff;
    out[i + 1] = (v >>> 8) & 0xff;
    out[i + 2] = (v >>> 16) & 0xff;
    out[i + 3] = v >>> 24;
  }
  return out;
}

/** What a keyed function of a connection is computed over: its peer's address and port and the TCP ports. */
export function tupleBytes(label: number, remote: Remote, localPort: number, remotePort: number, extra = 0): Uint8Array {
  const addr = new TextEncoder().encode(remote.address);
  const out = new Uint8Array(13 + addr.length);
  out[0] = label;
  out[1] = remote.port >>> 8;
  out[2] = remote.port & 0xff;
  out[3] = localPort >>> 8;
  out[4] = localPort & 0xff;
  out[5] = remotePort >>> 8;
  out[6] = remotePort & 0xff;
  out[7] = (extra >>> 24) & 0xff;
  out[8] = (extra >>> 16) & 0xff;
  out[9] = (extra >>> 8) & 0xff;
  out[10] = extra & 0xff;
  out[11] = 0;
  out[12] = addr.length;
  out.set(addr, 13);
  return out;
}

/** The first 8 bytes of the keyed hash, as two 32-bit words. */
export function keyedWords(key: Uint8Array, input: Uint8Array): [number, number] {
  const h = blake2s(input, { key, dkLen: 8 });
  return [((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0, ((h[4]! << 24) | (h[5]! << 16) | (h[6]! << 8) | h[7]!) >>> 0];
}

const LABEL_ISN = 1;

/** RFC 6528's F for a connection: the ISN's secret part and the timestamp offset. */
export function connectionOffsets(key: Uint8Array, remote: Remote, localPort: number, remotePort: number): { isnOffset: number; tsOffset: number } {
  const [a, b] = keyedWords(key, tupleBytes(LABEL_ISN, remote, localPort, remotePort));
  return { isnOffset: a, tsOffset: b };
}

/** RFC 6528's M: a clock ticking every 4 microseconds. */
export function isnClock(nowMs: number): number {
  return Math.floor(nowMs * 250) >>> 0;
}

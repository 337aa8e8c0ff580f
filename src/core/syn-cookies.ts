// SYN cookies (RFC 4987 3.6): past a listener's backlog (or always, if it asks), a SYN is answered with a SYN-ACK
// whose ISN is a cookie and nothing is kept; the ACK that completes the handshake carries the cookie back
// (ACK - 1) and the connection is built from it. The cookie is
//   bits 31..6  a 26-bit MAC (keyed, secrets.ts) over the peer's address and ports, our port, the peer's ISN and
//               a coarse time counter (64 s ticks)
//   bits  5..3  that counter modulo 8 (a cookie is valid for the current tick and the one before: 64-128 s)
//   bits  2..0  the peer's MSS, as an index into MSS_TABLE (the largest entry not above it)
// With timestamps, the low 6 bits of our TSval carry what else the SYN offered, as Linux does: bits 3..0 the
// window scale (15: none), bit 4 SACK-permitted, bit 5 ECN (never set: stevens has no ECN). Without timestamps,
// a cookie connection has no window scaling and no SACK (RFC 4987's known cost).
import type { Remote } from './events.js';
import { keyedWords, tupleBytes } from './secrets.js';

/** MSS values a cookie can carry (3 bits); a peer's MSS rounds down to one of them. */
export const MSS_TABLE = [536, 1024, 1160, 1206, 1220, 1380, 1426, 1460] as const;
export const COOKIE_TICK_MS = 64_000;
const LABEL_COOKIE = 2;
const WSCALE_NONE = 15;

export function cookieTick(nowMs: number): number {
  return Math.floor(nowMs / COOKIE_TICK_MS);
}

function mac26(key: Uint8Array, tick: number, remote: Remote, localPort: number, remotePort: number, peerIsn: number): number {
  const input = tupleBytes(LABEL_COOKIE, remote, localPort, remotePort, peerIsn);
  input[11] = tick & 0xff;
  // (The tick's higher bits ride in the label byte's neighbour so a cookie never outlives two ticks.)
  input[0] = (LABEL_COOKIE | ((tick >>> 8) & 0x3f) << 2) & 0xff;
  return keyedWords(key, input)[0] >>> 6;
}

export function mssIndex(peerMss: number): number {
  let i = 0;
  while (i + 1 < MSS_TABLE.length && MSS_TABLE[i + 1]! <= peerMss) i++;
  return i;
}

/** The cookie to use as our ISN for this SYN. */
export function makeCookie(key: Uint8Array, nowMs: number, remote: Remote, localPort: number, remotePort: number, peerIsn: number, peerMss: number): number {
  const tick = cookieTick(nowMs);
  return ((mac26(key, tick, remote, localPort, remotePort, peerIsn) << 6) | ((tick & 7) << 3) | mssIndex(peerMss)) >>> 0;
}

/** The peer's MSS the cookie carries, or undefined when the cookie is forged or stale. */
export function checkCookie(key: Uint8Array, nowMs: number, cookie: number, remote: Remote, localPort: number, remotePort: number, peerIsn: number): number | undefined {
  const now = cookieTick(nowMs);
  const low = (cookie >>> 3) & 7;
  // The tick the cookie was made in: now, or the one before (a cookie from the future is refused).
  const tick = low === (now & 7) ? now : low === ((now - 1) & 7) ? now - 1 : undefined;
  if (tick === undefined || tick < 0) return undefined;
  if (cookie >>> 6 !== mac26(key, tick, remote, localPort, remotePort, peerIsn)) return undefined;
  return MSS_TABLE[cookie & 7];
}

/** What a SYN offered besides the MSS, kept in the low 6 bits of the SYN-ACK's TSval. */
export interface CookieOptions {
  windowScale: number | undefined;
  sackPermitted: boolean;
}

export function encodeTsOptions(tsVal: number, o: CookieOptions): number {
  const ws = o.windowScale === undefined ? WSCALE_NONE : Math.min(o.windowScale, 14);
  return ((tsVal & ~0x3f) | ws | (o.sackPermitted ? 0x10 : 0)) >>> 0;
}

export function decodeTsOptions(tsEcho: number): CookieOptions {
  const ws = tsEcho & 0x0f;
  return { windowScale: ws === WSCALE_NONE ? undefined : ws, sackPermitted: (tsEcho & 0x10) !== 0 };
}

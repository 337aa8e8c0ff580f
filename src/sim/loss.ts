// Loss: independent (one draw per datagram against lossRate), bursty (a Gilbert-Elliott chain per link), and
// scheduled (outage and partition windows, checked against the time a datagram enters the link).
import type { Prng } from '../util/prng.js';
import type { GilbertElliott, TimeWindow } from './link-config.js';

/** True when tMs falls in one of the windows [fromMs, toMs). */
export function inWindows(windows: readonly TimeWindow[], tMs: number): boolean {
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    if (tMs >= w.fromMs && tMs < w.toMs) return true;
  }
  return false;
}

/** Long-run fraction of datagrams a Gilbert-Elliott chain loses: (r * lossInGood + p * lossInBad) / (p + r). */
export function gilbertElliottStationaryLoss(ge: GilbertElliott): number {
  const p = ge.pGoodToBad;
  const r = ge.pBadToGood;
  if (p + r === 0) return ge.lossInGood; // never leaves the good state it starts in
  return (r * ge.lossInGood + p * ge.lossInBad) / (p + r);
}

/**
 * The chain's state for one link. Per datagram: lost or not by the current state's loss probability, then one
 * transition. It starts in the good state. Probabilities of exactly 0 or 1 take no draw.
 */
export class GilbertElliottChannel {
  bad = false;

  /** Steps the chain for one datagram; true when that datagram is lost. */
  lose(prng: Prng, ge: GilbertElliott): boolean {
    const pLoss = this.bad ? ge.lossInBad : ge.lossInGood;
    const lost = pLoss >= 1 || (pLoss > 0 && prng.nextFloat() < pLoss);
    const pMove = this.bad ? ge.pBadToGood : ge.pGoodToBad;
    if (pMove >= 1 || (pMove > 0 && prng.nextFloat() < pMove)) this.bad = !this.bad;
    return lost;
  }
}

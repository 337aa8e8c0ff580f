// RACK (RFC 8985 6): time-based loss detection. A segment is lost when a segment sent after it has been
// delivered and more than an RTT plus a reordering window has passed since it was sent. Switchable with the
// duplicate-ACK counting of RFC 6675 (config lossDetection).
import type { Scoreboard, SentSegment } from './sack-scoreboard.js';
import { booleanOf, fieldsOf, numberOf, toPlain, type Plain } from './snapshot.js';

export class Rack {
  /** Send order and time of the most recently sent segment known delivered (RACK.xmit_ts / end_seq). */
  private order = -1;
  private xmitMs = 0;
  /** RTT of that segment (RACK.rtt). */
  rttMs = 0;
  /** Smallest RTT seen (RACK.min_RTT), for the reordering window. */
  private minRttMs = Infinity;
  /** Reordering was observed: a segment was delivered after one sent later (RFC 8985 6.2 step 3). */
  private reorderingSeen = false;
  /** RFC 8985 6.2 step 4: the window grows by a min_RTT/4 per round with D-SACKs, up to 2^N (N bounded). */
  private reoWndMult = 1;

  /** A segment was delivered (cumulatively acknowledged or SACKed) at nowMs. */
  onDelivered(seg: SentSegment, nowMs: number, tsEcho: number | undefined): void {
    const rtt = nowMs - seg.sentMs;
    // RFC 8985 6.2 step 2: a retransmitted segment whose delivery may belong to the original is ambiguous.
    if (seg.xmits > 1) {
      if (tsEcho !== undefined && tsEcho !== 0 && ((tsEcho - seg.tsVal) | 0) < 0) return;
      if (rtt < this.minRttMs) return;
    }
    if (rtt < this.minRttMs) this.minRttMs = rtt;
    if (seg.sentOrder < this.order) {
      this.reorderingSeen = true;
      return;
    }
    this.order = seg.sentOrder;
    this.xmitMs = seg.sentMs;
    this.rttMs = rtt;
  }

  onDsack(): void {
    if (this.reoWndMult < 16) this.reoWndMult++;
  }

  /** RFC 8985 6.2 step 4. */
  private reoWndMs(inRecovery: boolean, sackedSegments: number, dupThresh: number, srttMs: number): number {
    if (!this.reorderingSeen && (inRecovery || sackedSegments >= dupThresh)) return 0;
    if (this.minRttMs === Infinity) return 0;
    return Math.min((this.minRttMs / 4) * this.reoWndMult, srttMs);
  }

  /**
   * RFC 8985 6.2 step 5: mark what is lost; returns the time until the next segment may be declared lost
   * (the reordering timer), or undefined.
   */
  detect(board: Scoreboard, nowMs: number, inRecovery: boolean, dupThresh: number, srttMs: number): number | undefined {
    if (this.order < 0) return undefined;
    let sacked = 0;
    for (let i = 0; i < board.count; i++) if (board.at(i).sacked) sacked++;
    const reoWnd = this.reoWndMs(inRecovery, sacked, dupThresh, srttMs);
    let waitMs: number | undefined;
    for (let i = 0; i < board.count; i++) {
      const s = board.at(i);
      // Only segments sent before the delivered one (the board is in sequence order, not send order).
      if (s.sentOrder >= this.order || s.sacked || s.lost) continue;
      const remaining = s.sentMs + this.rttMs + reoWnd - nowMs;
      if (remaining <= 0) board.markLost(s);
      else if (waitMs === undefined || remaining > waitMs) waitMs = remaining; // RFC 8985 6.2: the max
    }
    return waitMs;
  }

  save(): Plain {
    return { order: this.order, xmitMs: this.xmitMs, rttMs: this.rttMs, minRttMs: toPlain(this.minRttMs), reorderingSeen: this.reorderingSeen, reoWndMult: this.reoWndMult };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'RACK');
    this.order = numberOf(f, 'order');
    this.xmitMs = numberOf(f, 'xmitMs');
    this.rttMs = numberOf(f, 'rttMs');
    this.minRttMs = numberOf(f, 'minRttMs');
    this.reorderingSeen = booleanOf(f, 'reorderingSeen');
    this.reoWndMult = numberOf(f, 'reoWndMult');
  }
}

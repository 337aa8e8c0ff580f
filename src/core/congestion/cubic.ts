// CUBIC (RFC 9438), the default as in Linux: after a loss the window follows
//   W_cubic(t) = C * (t - K)^3 + W_max,   K = cbrt(W_max * (1 - beta) / C)
// (windows in segments, t in seconds since the congestion-avoidance epoch began), with a Reno-friendly
// estimate W_est as a floor, fast convergence, and beta = 0.7. Slow start is RFC 5681's.
import { initialWindowBytes, WindowController, type CongestionController } from './controller.js';

/** RFC 9438 5.1 and 4.6. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** RFC 9438 4.3: the Reno-friendly additive increase that matches Reno's average rate with beta 0.7. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** K, the time (s) W_cubic takes to return to W_max (RFC 9438 eq. 2). */
export function cubicK(wMaxSegments: number, cwndEpochSegments: number, c = CUBIC_C): number {
  return Math.cbrt(Math.max(0, wMaxSegments - cwndEpochSegments) / c);
}

/** W_cubic(t) (RFC 9438 eq. 1), in segments. */
export function cubicWindow(tSeconds: number, wMaxSegments: number, kSeconds: number, c = CUBIC_C): number {
  const d = tSeconds - kSeconds;
  return c * d * d * d + wMaxSegments;
}

export class Cubic extends WindowController implements CongestionController {
  readonly name = 'cubic';
  /** W_max in segments: the window just before the last reduction. */
  private wMaxSegments = 0;
  /** cwnd at the start of the epoch, in segments (RFC 9438: cwnd_epoch). */
  private cwndEpochSegments = 0;
  private kSeconds = 0;
  /** Start of the current congestion-avoidance epoch (ms), or -1 before the first ACK in it. */
  private epochStartMs = -1;
  /** Reno-friendly estimate (segments). */
  private wEstSegments = 0;
  /** cwnd (segments) when ssthresh was last set; W_est's alpha becomes 1 past it (RFC 9438 4.3). */
  private cwndPriorSegments = 0;
  private bytesAckedInCa = 0;

  constructor(
    mssBytes: number,
    minCwndSegments = 0,
    private readonly fastConvergence = true,
    slowStartAckLimitSegments = 0,
  ) {
    super(mssBytes, minCwndSegments, slowStartAckLimitSegments);
  }

  onAck(nowMs: number, ackedBytes: number, inFlightBytes: number, srttMs: number): void {
    const caBytes = this.slowStart(ackedBytes, inFlightBytes);
    if (caBytes === 0) return;
    const mss = this.mssBytes;
    const cwndSeg = this.cwndBytes / mss;
    if (this.epochStartMs < 0) {
      // RFC 9438 4.2: a new epoch starts with the first ACK in congestion avoidance.
      this.epochStartMs = nowMs;
      this.cwndEpochSegments = cwndSeg;
      if (this.wMaxSegments < cwndSeg) {
        // No reduction to come back from (e.g. slow start ended by ssthresh): start at the plateau.
        this.wMaxSegments = cwndSeg;
        this.kSeconds = 0;
      } else {
        this.kSeconds = cubicK(this.wMaxSegments, cwndSeg);
      }
      this.wEstSegments = cwndSeg;
      this.bytesAckedInCa = 0;
    }
    const ackedSegments = caBytes / mss;
    // RFC 9438 4.3: W_est grows by alpha per window of ACKed segments (alpha 1 once past cwnd_prior).
    const alpha = this.wEstSegments >= this.cwndPriorSegments ? 1 : CUBIC_ALPHA;
    this.wEstSegments += (alpha * ackedSegments) / cwndSeg;

    const tSeconds = (nowMs - this.epochStartMs) / 1000;
    const rttSeconds = Math.max(srttMs, 1) / 1000;
    const wCubicNow = cubicWindow(tSeconds, this.wMaxSegments, this.kSeconds);
    if (wCubicNow < this.wEstSegments) {
      // Reno-friendly region (RFC 9438 4.3).
      this.cwndBytes = Math.max(this.cwndBytes, Math.floor(this.wEstSegments * mss));
      return;
    }
    // Concave and convex regions (RFC 9438 4.4, 4.5): aim for W_cubic one RTT ahead, within [cwnd, 1.5 cwnd].
    let target = cubicWindow(tSeconds + rttSeconds, this.wMaxSegments, this.kSeconds);
    if (target < cwndSeg) target = cwndSeg;
    if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
    // cwnd += (target - cwnd) / cwnd per ACKed segment, accumulated in bytes.
    this.bytesAckedInCa += ((target - cwndSeg) / cwndSeg) * ackedSegments * mss;
    if (this.bytesAckedInCa >= 1) {
      const grow = Math.floor(this.bytesAckedInCa);
      this.cwndBytes += grow;
      this.bytesAckedInCa -= grow;
    }
  }

  onLoss(_nowMs: number, _inFlightBytes: number): void {
    this.reduce();
    this.cwndBytes = Math.max(this.ssthreshBytes, this.floorBytes());
  }

  onRecoveryEnd(_nowMs: number): void {
    this.cwndBytes = Math.max(this.ssthreshBytes, this.floorBytes());
  }

  onRto(_nowMs: number, _inFlightBytes: number): void {
    // RFC 9438 4.8: the same reduction of ssthresh as for a loss, then cwnd to one segment.
    this.reduce();
    this.cwndBytes = Math.max(this.mssBytes, this.floorBytes());
  }

  onIdle(_nowMs: number): void {
    this.cwndBytes = Math.max(Math.min(this.cwndBytes, initialWindowBytes(this.mssBytes)), this.floorBytes());
    // Time spent idle must not count as time in the epoch (RFC 9438 5.8's concern); start a new one.
    this.epochStartMs = -1;
  }

  /** RFC 9438 4.6 and 4.7: W_max with fast convergence, ssthresh = cwnd * beta, a new epoch. */
  private reduce(): void {
    const cwndSeg = this.cwndBytes / this.mssBytes;
    if (this.fastConvergence && cwndSeg < this.wMaxSegments) this.wMaxSegments = (cwndSeg * (1 + CUBIC_BETA)) / 2;
    else this.wMaxSegments = cwndSeg;
    this.cwndPriorSegments = cwndSeg;
    this.ssthreshBytes = Math.max(Math.floor(this.cwndBytes * CUBIC_BETA), 2 * this.mssBytes);
    this.epochStartMs = -1;
    this.bytesAckedInCa = 0;
  }

  save(): Record<string, number> {
    return {
      cwndBytes: this.cwndBytes,
      ssthreshBytes: this.ssthreshBytes,
      wMaxSegments: this.wMaxSegments,
      cwndEpochSegments: this.cwndEpochSegments,
      kSeconds: this.kSeconds,
      epochStartMs: this.epochStartMs,
      wEstSegments: this.wEstSegments,
      cwndPriorSegments: this.cwndPriorSegments,
      bytesAckedInCa: this.bytesAckedInCa,
      mssBytes: this.mssBytes,
    };
  }

  restore(s: Record<string, number>): void {
    this.cwndBytes = s.cwndBytes!;
    this.ssthreshBytes = s.ssthreshBytes!;
    this.wMaxSegments = s.wMaxSegments!;
    this.cwndEpochSegments = s.cwndEpochSegments!;
    this.kSeconds = s.kSeconds!;
    this.epochStartMs = s.epochStartMs!;
    this.wEstSegments = s.wEstSegments!;
    this.cwndPriorSegments = s.cwndPriorSegments!;
    this.bytesAckedInCa = s.bytesAckedInCa!;
    this.mssBytes = s.mssBytes!;
  }
}

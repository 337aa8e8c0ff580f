// The one small interface every congestion controller implements (RFC 5681 vocabulary).

export interface CongestionController {
  readonly name: string;
  readonly cwndBytes: number;
  readonly ssthreshBytes: number;
  /** New data was cumulatively acknowledged (not called during loss recovery). */
  onAck(nowMs: number, ackedBytes: number, inFlightBytes: number, srttMs: number): void;
  /** A loss was detected by duplicate ACKs or SACK (entering recovery). */
  onLoss(nowMs: number, inFlightBytes: number): void;
  /** Recovery ended with everything up to the recovery point acknowledged. */
  onRecoveryEnd(nowMs: number): void;
  /** The retransmission timer fired. */
  onRto(nowMs: number, inFlightBytes: number): void;
  /** Sending resumes after an idle period longer than an RTO (RFC 5681 4.1). */
  onIdle(nowMs: number): void;
  /** The segment size changed (after the handshake). */
  setMss(mssBytes: number): void;
  /** Everything the controller knows, as plain data (undo after a spurious retransmission; snapshots). */
  save(): Record<string, number>;
  restore(state: Record<string, number>): void;
}

/** RFC 6928: initial window of 10 segments (capped as in its section 2). */
export function initialWindowBytes(mssBytes: number): number {
  return Math.min(10 * mssBytes, Math.max(2 * mssBytes, 14600));
}

/** ssthresh before the first loss: "arbitrarily high" (RFC 5681 3.1). */
export const INITIAL_SSTHRESH_BYTES = 0x7fffffff;

/** What NewReno and CUBIC share: the window variables, the initial window, and slow start. */
export abstract class WindowController {
  cwndBytes: number;
  ssthreshBytes = INITIAL_SSTHRESH_BYTES;

  constructor(
    protected mssBytes: number,
    /** A profile's cwnd floor, in segments of the current MSS. */
    protected readonly minCwndSegments = 0,
    /** RFC 3465's L in segments; 0 = none (see ConnectionConfig.slowStartAckLimitSegments). */
    protected readonly slowStartAckLimitSegments = 0,
  ) {
    this.cwndBytes = initialWindowBytes(mssBytes);
  }

  setMss(mssBytes: number): void {
    this.mssBytes = mssBytes;
    if (this.ssthreshBytes === INITIAL_SSTHRESH_BYTES) this.cwndBytes = initialWindowBytes(mssBytes);
  }

  /**
   * Slow start's part of an ACK: returns the acknowledged bytes left for congestion avoidance (0 when the ACK
   * was wholly used, or ignored, here).
   */
  protected slowStart(ackedBytes: number, inFlightBytes: number): number {
    // Do not grow a window the sender is not filling (RFC 7661's concern; Linux's is_cwnd_limited).
    if (inFlightBytes + 2 * this.mssBytes < this.cwndBytes) return 0;
    if (this.cwndBytes >= this.ssthreshBytes) return ackedBytes;
    const limit = this.slowStartAckLimitSegments;
    if (limit > 0) {
      // RFC 3465 2.2: slow start grows by the bytes acked, at most L * SMSS per ACK.
      this.cwndBytes += Math.min(ackedBytes, limit * this.mssBytes);
      return 0;
    }
    // A stretch ACK counts in full up to ssthresh; the rest grows the window the congestion avoidance way.
    const grow = Math.min(ackedBytes, this.ssthreshBytes - this.cwndBytes);
    this.cwndBytes += grow;
    return ackedBytes - grow;
  }

  protected floorBytes(): number {
    return this.minCwndSegments * this.mssBytes;
  }
}

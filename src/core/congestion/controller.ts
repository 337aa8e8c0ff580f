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
  ) {
    this.cwndBytes = initialWindowBytes(mssBytes);
  }

  setMss(mssBytes: number): void {
    this.mssBytes = mssBytes;
    if (this.ssthreshBytes === INITIAL_SSTHRESH_BYTES) this.cwndBytes = initialWindowBytes(mssBytes);
  }

  /**
   * Slow start's part of an ACK; returns true when the ACK was handled (or ignored) here, false when the
   * controller is in congestion avoidance and must grow the window its own way.
   */
  protected slowStart(ackedBytes: number, inFlightBytes: number): boolean {
    // Do not grow a window the sender is not filling (RFC 7661's concern; Linux's is_cwnd_limited).
    if (inFlightBytes + 2 * this.mssBytes < this.cwndBytes) return true;
    if (this.cwndBytes >= this.ssthreshBytes) return false;
    // RFC 3465 2.2: slow start grows by the bytes acked, at most 2 * SMSS per ACK (L = 2).
    this.cwndBytes += Math.min(ackedBytes, 2 * this.mssBytes);
    return true;
  }

  protected floorBytes(): number {
    return this.minCwndSegments * this.mssBytes;
  }
}

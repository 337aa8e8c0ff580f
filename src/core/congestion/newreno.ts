// NewReno's window arithmetic (RFC 5681): slow start, congestion avoidance with appropriate byte counting
// (RFC 3465), ssthresh = max(flight / 2, 2 * SMSS) on loss, one segment after an RTO, restart after idle.
import { initialWindowBytes, type CongestionController } from './controller.js';

export class NewReno implements CongestionController {
  readonly name = 'newreno';
  cwndBytes: number;
  ssthreshBytes = Number.MAX_SAFE_INTEGER;
  /** Bytes acknowledged since cwnd last grew in congestion avoidance. */
  private bytesAckedInCa = 0;

  constructor(private mssBytes: number) {
    this.cwndBytes = initialWindowBytes(mssBytes);
  }

  setMss(mssBytes: number): void {
    this.mssBytes = mssBytes;
    if (this.ssthreshBytes === Number.MAX_SAFE_INTEGER) this.cwndBytes = initialWindowBytes(mssBytes);
  }

  onAck(_nowMs: number, ackedBytes: number, inFlightBytes: number): void {
    // RFC 7661's spirit: do not grow a window the sender is not using.
    if (inFlightBytes + this.mssBytes < this.cwndBytes && this.cwndBytes >= this.ssthreshBytes) return;
    if (this.cwndBytes < this.ssthreshBytes) {
      // RFC 3465 2.2: slow start grows by the bytes acked, at most 2 * SMSS per ACK.
      this.cwndBytes += Math.min(ackedBytes, 2 * this.mssBytes);
      return;
    }
    // RFC 5681 3.1 with byte counting: one SMSS per cwnd's worth of acknowledged bytes.
    this.bytesAckedInCa += ackedBytes;
    if (this.bytesAckedInCa >= this.cwndBytes) {
      this.bytesAckedInCa -= this.cwndBytes;
      this.cwndBytes += this.mssBytes;
    }
  }

  onLoss(_nowMs: number, inFlightBytes: number): void {
    this.ssthreshBytes = Math.max(inFlightBytes / 2, 2 * this.mssBytes);
    this.cwndBytes = this.ssthreshBytes;
    this.bytesAckedInCa = 0;
  }

  onRto(_nowMs: number, inFlightBytes: number): void {
    this.ssthreshBytes = Math.max(inFlightBytes / 2, 2 * this.mssBytes);
    this.cwndBytes = this.mssBytes;
    this.bytesAckedInCa = 0;
  }

  onIdle(_nowMs: number): void {
    // RFC 5681 4.1: restart window = min(IW, cwnd).
    this.cwndBytes = Math.min(this.cwndBytes, initialWindowBytes(this.mssBytes));
  }
}

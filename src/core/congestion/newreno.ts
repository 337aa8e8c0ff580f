// NewReno's window arithmetic (RFC 5681): slow start, congestion avoidance with appropriate byte counting
// (RFC 3465), ssthresh = max(flight / 2, 2 * SMSS) on loss, one segment after an RTO, restart after idle.
// Fast recovery itself (which segments to send) lives in the connection's loss recovery; this is the window.
import { initialWindowBytes, WindowController, type CongestionController } from './controller.js';

export class NewReno extends WindowController implements CongestionController {
  readonly name: string = 'newreno';
  /** Bytes acknowledged since cwnd last grew in congestion avoidance. */
  protected bytesAckedInCa = 0;

  onAck(_nowMs: number, ackedBytes: number, inFlightBytes: number, _srttMs: number): void {
    const caBytes = this.slowStart(ackedBytes, inFlightBytes);
    if (caBytes === 0) return;
    // RFC 5681 3.1 with byte counting: one SMSS per cwnd's worth of acknowledged bytes.
    this.bytesAckedInCa += caBytes;
    if (this.bytesAckedInCa >= this.cwndBytes) {
      this.bytesAckedInCa -= this.cwndBytes;
      this.cwndBytes += this.mssBytes;
    }
  }

  onLoss(_nowMs: number, inFlightBytes: number): void {
    // RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); RFC 6675 enters recovery with cwnd = ssthresh.
    this.ssthreshBytes = Math.max(Math.floor(inFlightBytes / 2), 2 * this.mssBytes);
    this.cwndBytes = Math.max(this.ssthreshBytes, this.floorBytes());
    this.bytesAckedInCa = 0;
  }

  onRecoveryEnd(_nowMs: number): void {
    // RFC 6582 3.2 step 3 (full acknowledgment): deflate to ssthresh.
    this.cwndBytes = Math.max(this.ssthreshBytes, this.floorBytes());
  }

  onRto(_nowMs: number, inFlightBytes: number): void {
    this.ssthreshBytes = Math.max(Math.floor(inFlightBytes / 2), 2 * this.mssBytes);
    // RFC 5681 (5): the loss window is one segment (a profile may set a floor above it).
    this.cwndBytes = Math.max(this.mssBytes, this.floorBytes());
    this.bytesAckedInCa = 0;
  }

  onIdle(_nowMs: number): void {
    // RFC 5681 4.1: restart window = min(IW, cwnd).
    this.cwndBytes = Math.max(Math.min(this.cwndBytes, initialWindowBytes(this.mssBytes)), this.floorBytes());
  }

  save(): Record<string, number> {
    return { cwndBytes: this.cwndBytes, ssthreshBytes: this.ssthreshBytes, bytesAckedInCa: this.bytesAckedInCa, mssBytes: this.mssBytes };
  }

  restore(s: Record<string, number>): void {
    this.cwndBytes = s.cwndBytes!;
    this.ssthreshBytes = s.ssthreshBytes!;
    this.bytesAckedInCa = s.bytesAckedInCa!;
    this.mssBytes = s.mssBytes!;
  }
}

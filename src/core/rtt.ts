// RFC 6298 round-trip time estimation and the retransmission timeout.
import { booleanOf, fieldsOf, numberOf, type Plain } from './snapshot.js';

export class RttEstimator {
  srttMs = 0;
  rttvarMs = 0;
  /** The RTO before backoff. */
  baseRtoMs: number;
  hasSample = false;
  /** Timeouts since the last new sample; the RTO in use is baseRtoMs * backoff^backoffs (RFC 6298 5.5). */
  backoffs = 0;
  latestSampleMs = 0;

  constructor(
    private readonly initialRtoMs: number,
    private readonly minRtoMs: number,
    private readonly maxRtoMs: number,
    private readonly granularityMs: number,
    private readonly backoffFactor: number,
  ) {
    this.baseRtoMs = clamp(initialRtoMs, minRtoMs, maxRtoMs);
  }

  /** RFC 6298 2.2/2.3; alpha 1/8, beta 1/4. A new sample also ends any backoff. */
  onSample(sampleMs: number): void {
    const r = sampleMs < 0 ? 0 : sampleMs;
    this.latestSampleMs = r;
    if (!this.hasSample) {
      this.srttMs = r;
      this.rttvarMs = r / 2;
      this.hasSample = true;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - r);
      this.srttMs = 0.875 * this.srttMs + 0.125 * r;
    }
    this.baseRtoMs = clamp(this.srttMs + Math.max(this.granularityMs, 4 * this.rttvarMs), this.minRtoMs, this.maxRtoMs);
    this.backoffs = 0;
  }

  /** The timeout to arm now, with backoff applied and clamped to maxRto (RFC 6298 2.5). */
  get rtoMs(): number {
    if (this.backoffs === 0) return this.baseRtoMs;
    return Math.min(this.baseRtoMs * Math.pow(this.backoffFactor, this.backoffs), this.maxRtoMs);
  }

  /** RFC 6298 5.5: back off the timer. */
  onTimeout(): void {
    this.backoffs++;
  }

  /** RFC 6298 5.7: after the SYN timed out and data transfer starts, RTO is reset to 3 s if no sample yet. */
  resetAfterSynTimeout(): void {
    if (!this.hasSample) {
      this.baseRtoMs = clamp(Math.max(this.initialRtoMs, 3000), this.minRtoMs, this.maxRtoMs);
      this.backoffs = 0;
    }
  }

  save(): Plain {
    return { srttMs: this.srttMs, rttvarMs: this.rttvarMs, baseRtoMs: this.baseRtoMs, hasSample: this.hasSample, backoffs: this.backoffs, latestSampleMs: this.latestSampleMs };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'RTT estimator');
    this.srttMs = numberOf(f, 'srttMs');
    this.rttvarMs = numberOf(f, 'rttvarMs');
    this.baseRtoMs = numberOf(f, 'baseRtoMs');
    this.hasSample = booleanOf(f, 'hasSample');
    this.backoffs = numberOf(f, 'backoffs');
    this.latestSampleMs = numberOf(f, 'latestSampleMs');
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

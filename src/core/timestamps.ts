// RFC 7323 timestamps: our TSval clock (1 ms ticks from a random per-connection offset, section 5.4), TS.Recent
// and its update rule (section 4.3), and PAWS (section 5.3).
import { seqGe, seqLe, seqLt } from './seq.js';
import { booleanOf, fieldsOf, numberOf, type Plain } from './snapshot.js';

export const TIMESTAMP_OPTION_BYTES = 12;

export class Timestamps {
  /** Both SYNs carried the option: every segment carries it from now on. */
  ok = false;
  /** TS.Recent: the peer's TSval to echo. */
  recent = 0;
  readonly offset: number;

  constructor(offset: number) {
    this.offset = offset >>> 0;
  }

  /** Our TSval at nowMs. */
  now(nowMs: number): number {
    return (Math.floor(nowMs) + this.offset) >>> 0;
  }

  /** RFC 7323 5.3: PAWS rejects a segment whose TSval is older than TS.Recent. */
  isOld(tsValue: number): boolean {
    return seqLt(tsValue, this.recent);
  }

  /** RFC 7323 4.3: TS.Recent follows segments that cover Last.ACK.sent. */
  onAcceptable(tsValue: number, seq: number, lastAckSent: number): void {
    if (seqGe(tsValue, this.recent) && seqLe(seq, lastAckSent)) this.recent = tsValue;
  }

  save(): Plain {
    return { ok: this.ok, recent: this.recent };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'timestamps');
    this.ok = booleanOf(f, 'ok');
    this.recent = numberOf(f, 'recent');
  }
}

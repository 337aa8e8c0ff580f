// When to acknowledge (RFC 1122 4.2.3.2, RFC 5681 4.2): at once for out-of-order data, data filling a hole, a
// FIN, and anything odd; otherwise at least every second full-sized segment, or within delayedAckMs. Also the
// D-SACK block (RFC 2883) the next ACK reports first.
import type { SackBlock } from './wire/segment.js';
import { booleanOf, fieldsOf, fromPlain, numberOf, toPlain, type Plain } from './snapshot.js';
import { Timer, type TimerTable } from './timers.js';

export class DelayedAck {
  /** An ACK is due on the next poll. */
  ackNow = false;
  /** Full-sized segments received since the last ACK left. */
  private fullSegments = 0;
  /** Data we already had, to report as the first SACK block of the next ACK. */
  pendingDsack: SackBlock | undefined;

  constructor(
    private readonly delayedAckMs: number,
    private readonly timers: TimerTable,
  ) {}

  /** In-order data that needs no immediate answer arrived. */
  onInOrderData(nowMs: number, payloadBytes: number, mssBytes: number): void {
    if (this.delayedAckMs <= 0) {
      this.ackNow = true;
      return;
    }
    if (payloadBytes >= mssBytes) this.fullSegments++;
    if (this.fullSegments >= 2) this.ackNow = true;
    else if (!this.timers.isArmed(Timer.DelayedAck)) this.timers.set(Timer.DelayedAck, nowMs + this.delayedAckMs);
  }

  /** A segment left: it carried the ACK. */
  onSent(): void {
    this.ackNow = false;
    this.fullSegments = 0;
    this.timers.clear(Timer.DelayedAck);
  }

  save(): Plain {
    return { ackNow: this.ackNow, fullSegments: this.fullSegments, pendingDsack: toPlain(this.pendingDsack) };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'delayed ACK');
    this.ackNow = booleanOf(f, 'ackNow');
    this.fullSegments = numberOf(f, 'fullSegments');
    this.pendingDsack = (fromPlain(f.pendingDsack ?? null) ?? undefined) as SackBlock | undefined;
  }
}

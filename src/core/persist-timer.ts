// RFC 9293 3.8.6.1 zero-window probing: with data waiting, nothing in flight and a window too small for it, the
// persist timer sends a probe (one byte beyond the window, or what fits a small one) at intervals that back off
// from max(RTO, persistMinMs) to persistMaxMs. maxRetransmits unanswered probes, or the user timeout, abort.
import type { ConnectionConfig } from './config.js';
import { booleanOf, fieldsOf, numberOf, type Plain } from './snapshot.js';
import { Timer, type TimerTable } from './timers.js';

export class PersistTimer {
  private backoffs = 0;
  /** Probes sent since the peer last answered one. */
  private unanswered = 0;
  /** A probe is due on the next poll. */
  due = false;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly timers: TimerTable,
  ) {}

  get armed(): boolean {
    return this.timers.isArmed(Timer.Persist);
  }

  /** Probing starts (unless it already runs): the window cannot take what waits and nothing is in flight. */
  start(nowMs: number, rtoMs: number): void {
    if (!this.armed) this.timers.set(Timer.Persist, nowMs + this.intervalMs(rtoMs));
  }

  /** The probe goes out now; the next one is due an interval later. */
  onProbeSent(nowMs: number, rtoMs: number): void {
    this.due = false;
    this.timers.set(Timer.Persist, nowMs + this.intervalMs(rtoMs));
  }

  /** The timer fired: false when the peer is presumed gone, otherwise a probe is due. */
  onTimeout(nowMs: number, lastReceiveMs: number): boolean {
    const c = this.config;
    if (this.unanswered >= c.maxRetransmits || (c.userTimeoutMs > 0 && nowMs - lastReceiveMs >= c.userTimeoutMs)) return false;
    this.unanswered++;
    this.backoffs++;
    this.due = true;
    return true;
  }

  /** An ACK arrived while probing (any answer counts); true when its window opened and probing ended. */
  onAck(sendWindowBytes: number): boolean {
    if (!this.armed) return false;
    this.unanswered = 0;
    if (sendWindowBytes <= 0) return false;
    this.timers.clear(Timer.Persist);
    this.backoffs = 0;
    return true;
  }

  private intervalMs(rtoMs: number): number {
    const base = Math.max(rtoMs, this.config.persistMinMs);
    return Math.min(base * Math.pow(2, this.backoffs), this.config.persistMaxMs);
  }

  save(): Plain {
    return { backoffs: this.backoffs, unanswered: this.unanswered, due: this.due };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'persist timer');
    this.backoffs = numberOf(f, 'backoffs');
    this.unanswered = numberOf(f, 'unanswered');
    this.due = booleanOf(f, 'due');
  }
}

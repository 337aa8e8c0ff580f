// RFC 1122 4.2.3.6 keepalives (off unless keepaliveIdleMs > 0): after keepaliveIdleMs without hearing from the
// peer, a probe every keepaliveIntervalMs (a segment with SEG.SEQ = SND.NXT - 1, which draws an ACK); after
// keepaliveProbes unanswered ones the connection is aborted with ETIMEDOUT.
import type { ConnectionConfig } from './config.js';
import { booleanOf, fieldsOf, numberOf, type Plain } from './snapshot.js';
import { Timer, type TimerTable } from './timers.js';

export type KeepaliveVerdict = 'probe' | 'dead' | 'wait';

export class Keepalive {
  /** Probes sent since the peer was last heard from. */
  private probes = 0;
  /** A probe is due on the next poll. */
  due = false;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly timers: TimerTable,
  ) {}

  /** The first probe is due keepaliveIdleMs after the peer was last heard from (as Linux). */
  arm(nowMs: number, lastReceiveMs: number): void {
    if (this.config.keepaliveIdleMs <= 0) return;
    this.timers.set(Timer.Keepalive, Math.max(nowMs, lastReceiveMs + this.config.keepaliveIdleMs));
  }

  /** The peer was heard from. */
  onHeard(): void {
    this.probes = 0;
  }

  /**
   * The timer fired. `busy`: data is outstanding or the persist timer runs, so those watch the peer instead.
   * 'dead' when the last probe went unanswered; 'probe' when one is due now.
   */
  onTimeout(nowMs: number, lastReceiveMs: number, synchronized: boolean, busy: boolean): KeepaliveVerdict {
    const c = this.config;
    if (c.keepaliveIdleMs <= 0 || !synchronized) return 'wait';
    if (busy) {
      this.timers.set(Timer.Keepalive, nowMs + c.keepaliveIdleMs);
      return 'wait';
    }
    // Heard from the peer since the timer was armed: wait until the idle period has really passed.
    const dueAtMs = lastReceiveMs + c.keepaliveIdleMs;
    if (this.probes === 0 && nowMs < dueAtMs) {
      this.timers.set(Timer.Keepalive, dueAtMs);
      return 'wait';
    }
    if (this.probes >= c.keepaliveProbes) return 'dead';
    this.probes++;
    this.due = true;
    this.timers.set(Timer.Keepalive, nowMs + c.keepaliveIntervalMs);
    return 'probe';
  }

  save(): Plain {
    return { probes: this.probes, due: this.due };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'keepalive');
    this.probes = numberOf(f, 'probes');
    this.due = booleanOf(f, 'due');
  }
}

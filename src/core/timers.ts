// Every timer a connection has, named, in one table of absolute deadlines (Infinity = not armed).
// The connection's next deadline is the minimum of the table; nothing hides in a callback.

export const enum Timer {
  /** RFC 6298: retransmission of SYN, SYN-ACK, data or FIN. */
  Retransmit = 0,
  /** RFC 9293 3.8.6.1: zero-window probes. */
  Persist = 1,
  /** RFC 1122 4.2.3.2: the delayed ACK. */
  DelayedAck = 2,
  /** RFC 1122 4.2.3.6: keepalive probes. */
  Keepalive = 3,
  /** TIME-WAIT's 2*MSL, or the limit on an orphaned FIN-WAIT-2. */
  Linger = 4,
  /** RFC 8985 6.3: RACK's reordering timer. */
  Reorder = 5,
}

export const TIMER_NAMES = ['retransmit', 'persist', 'delayedAck', 'keepalive', 'linger', 'reorder'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

export class TimerTable {
  readonly deadlines = new Float64Array(TIMER_NAMES.length).fill(Infinity);

  set(timer: Timer, atMs: number): void {
    this.deadlines[timer] = atMs;
  }

  clear(timer: Timer): void {
    this.deadlines[timer] = Infinity;
  }

  isArmed(timer: Timer): boolean {
    return this.deadlines[timer] !== Infinity;
  }

  get(timer: Timer): number {
    return this.deadlines[timer]!;
  }

  clearAll(): void {
    this.deadlines.fill(Infinity);
  }

  /** The earliest armed deadline, or Infinity. */
  earliest(): number {
    const d = this.deadlines;
    let m = d[0]!;
    for (let i = 1; i < d.length; i++) if (d[i]! < m) m = d[i]!;
    return m;
  }

  /** Armed timers by name, for stats and snapshots. */
  toRecord(): Partial<Record<TimerName, number>> {
    const out: Partial<Record<TimerName, number>> = {};
    TIMER_NAMES.forEach((name, i) => {
      if (this.deadlines[i] !== Infinity) out[name] = this.deadlines[i];
    });
    return out;
  }
}

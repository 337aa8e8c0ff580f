// One timer for an absolute deadline on the monotonic clock, as a driver arms it from pollTimeoutMs(). A timer
// already armed earlier than a new deadline stays: when it fires nothing is due yet and the driver re-arms it.
// Deadlines mostly move later (each ACK restarts the RTO), so this avoids a new timer per datagram. Unref'd:
// the timer alone never keeps the process alive.
import { monotonicMs } from './clock.js';

export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private atMs = Infinity;

  constructor(private readonly fire: () => void) {}

  /** Arm for `atMs` (absolute, monotonic ms), or disarm with undefined. */
  arm(atMs: number | undefined): void {
    if (atMs === undefined) {
      this.cancel();
      return;
    }
    if (this.timer !== undefined && this.atMs <= atMs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.atMs = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.atMs = Infinity;
      this.fire();
    }, Math.ceil(Math.max(0, atMs - monotonicMs())));
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.atMs = Infinity;
  }
}

// The node the simulator drives for each soak host: the host's Endpoint, with what the core throws turned into a
// report instead of a crash, and a timer that stays due however often it fires (a livelock) noticed.
import type { Endpoint, Remote } from '../core/index.js';
import type { SansIoNode } from '../sim/index.js';

/** handleTimeout calls at one instant after which a timer is taken to be spinning (due, never passing). */
const LIVELOCK_CALLS = 1000;

/** What the node reports to the run it is part of. */
export interface GuardHooks {
  /** The core threw out of `where` (the endpoint call, with the host's name). */
  exception(e: unknown, where: string): void;
  /** handleTimeout was called `calls` times at `nowMs` (the run would spin at that instant forever). */
  livelock(nowMs: number, calls: number): void;
}

/**
 * Catches what the core throws so it is reported, not a crash; and notices a deadline that stays due however
 * often it fires (the run would spin at one instant forever).
 */
export class GuardedNode implements SansIoNode {
  private lastTimeoutMs = NaN;
  private timeoutsAtInstant = 0;
  private timersLost = false;

  constructor(
    private readonly ep: Endpoint,
    private readonly name: string,
    private readonly hooks: GuardHooks,
  ) {}
  handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    try {
      this.ep.handleDatagram(nowMs, remote, bytes);
    } catch (e) {
      this.hooks.exception(e, `${this.name}: Endpoint.handleDatagram`);
    }
  }
  pollTransmit(nowMs: number) {
    try {
      return this.ep.pollTransmit(nowMs);
    } catch (e) {
      this.hooks.exception(e, `${this.name}: Endpoint.pollTransmit`);
      return undefined;
    }
  }
  /** Test only (the loseTimers fault): from now on this driver never fires the endpoint's timers. */
  loseTimers(): void {
    this.timersLost = true;
  }
  pollTimeoutMs(): number | undefined {
    if (this.timersLost) return undefined;
    try {
      return this.ep.pollTimeoutMs();
    } catch (e) {
      this.hooks.exception(e, `${this.name}: Endpoint.pollTimeoutMs`);
      return undefined;
    }
  }
  handleTimeout(nowMs: number): void {
    if (nowMs === this.lastTimeoutMs) {
      if (++this.timeoutsAtInstant >= LIVELOCK_CALLS) {
        this.timeoutsAtInstant = 0;
        this.hooks.livelock(nowMs, LIVELOCK_CALLS);
        return;
      }
    } else {
      this.lastTimeoutMs = nowMs;
      this.timeoutsAtInstant = 0;
    }
    try {
      this.ep.handleTimeout(nowMs);
    } catch (e) {
      this.hooks.exception(e, `${this.name}: Endpoint.handleTimeout`);
    }
  }
}

// The one driver loop: what every driver does between a sans-IO endpoint and a world of sockets, written once.
// Inputs go in at the monotonic clock (datagrams at their batch's time), then the endpoint's events are handed to
// the application and its datagrams drained to the world, and the one timer is re-armed from pollTimeoutMs().
// The world is three things only: the endpoint, a way to send a datagram (with or without a completion callback)
// and an event sink. So the loop does not care whether a datagram leaves through a dgram socket (src/node/), as
// an IP packet to a TUN device (src/tun/), or, in a multi-threaded server, as a message to an I/O thread.
import type { Endpoint, EndpointEvent, Remote } from '../core/index.js';
import { monotonicMs } from './clock.js';
import { DeadlineTimer } from './deadline-timer.js';

/** libuv reads ~32 datagrams per socket per loop turn: yield after this many sends so receivers keep up. */
export const SENDS_PER_TURN = 32;

/** What the loop drives: the endpoint's inputs and polls (an Endpoint, or a RecordingEndpoint, has them). */
export type LoopEndpoint = Pick<Endpoint, 'handleDatagram' | 'handleTimeout' | 'pollTransmit' | 'pollTimeoutMs' | 'pollEvent' | 'hasEvents'>;

/** The loop's only contract with the world besides the endpoint. */
export interface LoopWorld {
  /**
   * Hand one datagram to the world. Only the last datagram of each flush gets `sent`: the world calls it exactly
   * once, when that datagram has left or failed to (at once if it could not be sent at all). As sends leave in
   * order, it also means every earlier one has left; close() waits for it. Errors are the world's to report.
   */
  send(remote: Remote, bytes: Uint8Array, sent?: () => void): void;
  /** Every event of the endpoint, in order. Handlers may call act(), flush() or requestFlush(): those fold in. */
  event(ev: EndpointEvent): void;
}

export class DriverLoop<E extends LoopEndpoint = Endpoint> {
  private readonly timer = new DeadlineTimer(() => {
    // Fired after this turn's I/O: setImmediate runs after the poll phase, which reads the sockets. When the
    // process was stalled (GC, a busy machine, the application) past a deadline, the datagrams that arrived
    // meanwhile (ACKs) are handled before the timer, so an RTO they make moot does not retransmit spuriously.
    // Measured on loopback, 20 stalls of 400 ms right after a write, the RTO at 200 ms, the peer's ACK queued
    // meanwhile: fired at once, 20 spurious RTO retransmissions; deferred, none (test/node/driver-timer.test.ts).
    // The cost: one setImmediate per expiry, late by the poll phase's reads at most.
    setImmediate(() => {
      if (this.stopped) return;
      this.endpoint.handleTimeout(this.freshNowMs());
      this.flush();
    });
  });
  private flushScheduled = false;
  /** The time of the datagrams read in this loop turn (see datagram()); cleared by any other input or flush. */
  private batchNowMs: number | undefined;
  private flushing = false;
  private flushAgain = false;
  private stopped = false;
  private closing: Promise<void> | undefined;
  /** Sends handed to the world whose `sent` has not come back: close() waits for them. */
  private sendsInFlight = 0;
  private sendsDrained: (() => void) | undefined;
  private readonly sent = () => {
    if (--this.sendsInFlight === 0) this.sendsDrained?.();
  };

  constructor(
    readonly endpoint: E,
    private readonly world: LoopWorld,
  ) {}

  /** True once close() has stopped the loop: inputs are ignored, nothing more is sent. */
  get closed(): boolean {
    return this.stopped;
  }

  /** Run `fn` against the endpoint at the current time, then move everything it produced. */
  act<T>(fn: (nowMs: number) => T): T {
    const out = fn(this.freshNowMs());
    this.flush();
    return out;
  }

  /**
   * One received datagram. PERF-NOTES: one clock read per batch. libuv reads a turn's datagrams back to back, all
   * of them already queued when the turn began; they are answered together once the turn's reads are done (fewer
   * ACKs and fewer passes, as GRO does for the kernel's TCP), and that flush starts the next batch.
   */
  datagram(remote: Remote, bytes: Uint8Array): void {
    if (this.stopped) return;
    if (this.batchNowMs === undefined) this.batchNowMs = monotonicMs();
    this.endpoint.handleDatagram(this.batchNowMs, remote, bytes);
    this.requestFlush();
  }

  /**
   * The clock for anything but a datagram: it also ends the current batch's time, so a datagram handled after
   * this input reads the clock again and the endpoint never sees time go back.
   */
  private freshNowMs(): number {
    this.batchNowMs = undefined;
    return monotonicMs();
  }

  /**
   * Hand events to the application, then drain sends, until neither is left; then re-arm the one timer. Events
   * go first so the application reads what arrived before the ACK is built: the ACK then carries the reopened
   * window, instead of an ACK with a shrunken window followed at once by a window update. A flush asked for
   * while one runs (the application writing or reading in an event handler) is folded into it.
   */
  flush(): void {
    if (this.stopped) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      let sent = 0;
      do {
        this.flushAgain = false;
        for (let ev = this.endpoint.pollEvent(); ev !== undefined; ev = this.endpoint.pollEvent()) this.world.event(ev);
        // (close() waits for a running flush, so this only guards against sending after a stop.)
        if (this.stopped) return;
        const now = this.freshNowMs();
        // Sent one behind, so the flush's last datagram is known: only it carries a callback (see LoopWorld.send).
        let held: { remote: Remote; bytes: Uint8Array } | undefined;
        for (let t = this.endpoint.pollTransmit(now); t !== undefined; t = this.endpoint.pollTransmit(now)) {
          if (held !== undefined) this.world.send(held.remote, held.bytes);
          held = t;
          if (++sent >= SENDS_PER_TURN) break;
        }
        if (held !== undefined) {
          this.sendsInFlight++;
          this.world.send(held.remote, held.bytes, this.sent);
        }
        if (sent >= SENDS_PER_TURN) {
          // Yield to the loop so receivers (perhaps in this process) keep up; the rest goes next turn.
          this.scheduleFlush();
          break;
        }
      } while (this.flushAgain || this.endpoint.hasEvents());
    } finally {
      this.flushing = false;
    }
    this.timer.arm(this.endpoint.pollTimeoutMs());
  }

  /** Flush later in this loop turn, after its reads (setImmediate); inside a running flush, fold into it. */
  requestFlush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Send what is due, stop (no input reaches the endpoint any more, the timer is cancelled), and resolve once the
   * sends handed to the world have left. Connections are not told. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Called from an event handler inside a flush: let that flush send what it has first.
      if (this.flushing) await Promise.resolve();
      this.flush();
      this.stopped = true;
      this.timer.cancel();
      if (this.sendsInFlight > 0) await new Promise<void>((resolve) => (this.sendsDrained = resolve));
    })();
    return this.closing;
  }
}

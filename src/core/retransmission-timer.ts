// The retransmission timer (RFC 6298): armed with the RTO, or with the tail loss probe's shorter timeout when a
// probe may be scheduled (tail-loss-probe.ts). When the RTO fires: the SYN or SYN-ACK is sent again up to
// synRetries times; data is presumed lost and resent under a backed-off RTO (RFC 6298 5.5-5.7), up to
// maxRetransmits times in a row without progress or until the user timeout (RFC 9293 3.8.3) passes.
import type { Connection } from './connection.js';
import { connectionError } from './errors.js';
import { booleanOf, fieldsOf, numberOf, type Plain } from './snapshot.js';
import { Timer } from './timers.js';

export class RetransmissionTimer {
  /** SYN or SYN-ACK retransmissions so far. */
  synRetries = 0;
  /** The SYN or SYN-ACK was sent more than once (Karn: its RTT is ambiguous). */
  synRetransmitted = false;
  /** Consecutive RTO expirations without progress. */
  private rtoRetries = 0;

  constructor(private readonly c: Connection) {}

  /** Arm (or re-arm) from now. */
  arm(nowMs: number): void {
    const c = this.c;
    c.timers.set(Timer.Retransmit, nowMs + c.recovery.tlp.timeoutMs(this.mayProbe, c.rtt, c.board.count));
  }

  /** RFC 8985 7.2: a probe may be scheduled (loss recovery open, none outstanding), never in the handshake. */
  private readonly mayProbe = (): boolean => {
    const c = this.c;
    return c.state !== 'SYN-SENT' && c.state !== 'SYN-RECEIVED' && c.recovery.canProbe();
  };

  /** New data was acknowledged. */
  onProgress(): void {
    this.rtoRetries = 0;
  }

  /** The timer fired (already cleared). */
  onTimeout(nowMs: number): void {
    const c = this.c;
    const cfg = c.config;
    if (c.state === 'SYN-SENT' || c.state === 'SYN-RECEIVED') {
      c.counters.timeouts++;
      if (this.synRetries >= cfg.synRetries) {
        c.enterClosed(connectionError('ETIMEDOUT', `no answer to the ${c.state === 'SYN-SENT' ? 'SYN' : 'SYN-ACK'} after ${cfg.synRetries} retries`));
        return;
      }
      this.synRetries++;
      this.synRetransmitted = true;
      c.rtt.onTimeout();
      c.handshake.synPending = true;
      this.traceRto(nowMs);
      c.host.wantsTransmit(c);
      return;
    }
    if (c.board.isEmpty) return;
    const tlp = c.recovery.tlp;
    if (tlp.timerIsProbe) {
      tlp.onTimeout();
      c.host.wantsTransmit(c);
      return;
    }
    c.counters.timeouts++;
    const userTimedOut = cfg.userTimeoutMs > 0 && nowMs - c.lastProgressMs >= cfg.userTimeoutMs;
    if (this.rtoRetries >= cfg.maxRetransmits || userTimedOut) {
      c.enterClosed(connectionError('ETIMEDOUT', userTimedOut ? `no acknowledgment within the user timeout of ${cfg.userTimeoutMs} ms` : `no acknowledgment after ${cfg.maxRetransmits} retransmissions`));
      return;
    }
    this.rtoRetries++;
    // RFC 6298 5.5-5.6: back off, then resend; every unSACKed segment is presumed lost.
    c.rtt.onTimeout();
    c.recovery.onRto(nowMs, c.sndNxt);
    if (c.host.trace) c.traceCwnd(nowMs);
    this.traceRto(nowMs);
    c.host.wantsTransmit(c);
  }

  private traceRto(nowMs: number): void {
    const c = this.c;
    if (c.host.trace) c.host.trace({ type: 'rto', atMs: nowMs, connectionId: c.id, rtoMs: c.rtt.rtoMs, backoffs: c.rtt.backoffs });
  }

  save(): Plain {
    return { synRetries: this.synRetries, synRetransmitted: this.synRetransmitted, rtoRetries: this.rtoRetries };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'retransmission timer');
    this.synRetries = numberOf(f, 'synRetries');
    this.synRetransmitted = booleanOf(f, 'synRetransmitted');
    this.rtoRetries = numberOf(f, 'rtoRetries');
  }
}

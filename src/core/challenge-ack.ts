// RFC 5961 7: challenge ACKs (the answer to an in-window RST or SYN that may be a blind attack) are rate-limited
// per connection, so an attacker cannot make the connection flood its peer.
import { booleanOf, fieldsOf, numberOf, toPlain, type Plain } from './snapshot.js';

/** RFC 5961 7: challenge ACKs at most this many per second per connection. */
export const CHALLENGE_ACKS_PER_S = 10;

export class ChallengeAckLimiter {
  private windowStartMs = -Infinity;
  private sentInWindow = 0;
  /** A challenge ACK is due on the next poll. */
  pending = false;

  /** One challenge ACK is wanted now; false when this limit or the endpoint's global one refuses it. */
  request(nowMs: number, globalAllows: () => boolean): boolean {
    if (nowMs - this.windowStartMs >= 1000) {
      this.windowStartMs = nowMs;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow >= CHALLENGE_ACKS_PER_S || !globalAllows()) return false;
    this.sentInWindow++;
    this.pending = true;
    return true;
  }

  save(): Plain {
    return { windowStartMs: toPlain(this.windowStartMs), sentInWindow: this.sentInWindow, pending: this.pending };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'challenge ACK limiter');
    this.windowStartMs = numberOf(f, 'windowStartMs');
    this.sentInWindow = numberOf(f, 'sentInWindow');
    this.pending = booleanOf(f, 'pending');
  }
}

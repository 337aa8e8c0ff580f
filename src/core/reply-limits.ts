// Limits on the replies an endpoint makes to input that may be forged (RFC 5961 10, and Linux's
// tcp_invalid_ratelimit and global limits): RSTs to segments for no connection, ACKs to out-of-window or
// otherwise invalid segments, challenge ACKs. A spoofer can then neither make the endpoint flood a victim nor
// learn much from the replies. Per-peer limits use a fixed table of buckets (memory does not grow with the
// number of spoofed sources).
import { fieldsOf, numberOf, toPlain, type Plain } from './snapshot.js';

/** A token bucket: `ratePerS` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private lastMs = -Infinity;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(nowMs: number): boolean {
    if (this.lastMs !== -Infinity) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerS) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  save(): Plain {
    return { tokens: this.tokens, lastMs: toPlain(this.lastMs) };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'token bucket');
    this.tokens = numberOf(f, 'tokens');
    this.lastMs = numberOf(f, 'lastMs');
  }
}

/** RSTs to segments for no connection: at most 10 a second to one peer address, 1000 a second in all. */
export const RST_PER_PEER_PER_S = 10;
export const RST_GLOBAL_PER_S = 1000;
/** ACKs to invalid pure ACKs and out-of-window segments: one per 500 ms per connection (as Linux), 1000 a second in all. */
export const INVALID_ACK_INTERVAL_MS = 500;
export const INVALID_ACK_GLOBAL_PER_S = 1000;
/** Challenge ACKs: 10 a second per connection (challenge-ack.ts), 1000 a second in all (Linux's tcp_challenge_ack_limit). */
export const CHALLENGE_ACK_GLOBAL_PER_S = 1000;
const PEER_SLOTS = 256;

/** A bucket per slot of peer addresses, and one for everyone. */
export class PeerReplyLimiter {
  private readonly slots: TokenBucket[] = [];
  private readonly global: TokenBucket;

  constructor(
    private readonly perPeerPerS: number,
    globalPerS: number,
    private readonly salt: number,
  ) {
    for (let i = 0; i < PEER_SLOTS; i++) this.slots.push(new TokenBucket(perPeerPerS, perPeerPerS));
    this.global = new TokenBucket(globalPerS, globalPerS);
  }

  /** May we answer this peer now? */
  allow(nowMs: number, address: string): boolean {
    // FNV-1a, salted from the endpoint's secret: colliding addresses only share a bucket.
    let h = (0x811c9dc5 ^ this.salt) >>> 0;
    for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193) >>> 0;
    return this.slots[h % PEER_SLOTS]!.take(nowMs) && this.global.take(nowMs);
  }

  save(): Plain {
    return { slots: this.slots.map((b) => b.save()), global: this.global.save() };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'peer reply limiter');
    const slots = f.slots as Plain[];
    this.slots.forEach((b, i) => b.restore(slots[i] ?? null));
    this.global.restore(f.global ?? null);
  }
}

/** One connection's ACKs to invalid segments: at most one per INVALID_ACK_INTERVAL_MS. */
export class InvalidAckLimiter {
  private lastMs = -Infinity;

  allow(nowMs: number): boolean {
    if (nowMs - this.lastMs < INVALID_ACK_INTERVAL_MS) return false;
    this.lastMs = nowMs;
    return true;
  }

  save(): Plain {
    return { lastMs: toPlain(this.lastMs) };
  }

  restore(plain: Plain): void {
    this.lastMs = numberOf(fieldsOf(plain, 'invalid ACK limiter'), 'lastMs');
  }
}


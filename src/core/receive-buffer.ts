// The receive buffer: in-order bytes the application has not read, then out-of-order ranges placed where they
// belong (reassembly), all inside the advertised window. Also the source of SACK blocks (RFC 2018).
import { ByteRing } from './byte-ring.js';
import { Fifo } from '../util/fifo.js';
import { allocBytes } from './slab.js';
import { fromPlain, toPlain, type Plain } from './snapshot.js';
import { seqAdd, seqDiff, seqLe, seqLt, seqMax, seqMin } from './seq.js';
import type { SackBlock } from './wire/segment.js';

/** An out-of-order range [left, right) in sequence space, with when it last grew (for SACK block order). */
interface Range {
  left: number;
  right: number;
  touched: number;
}

/** Bound on out-of-order ranges; a segment that would create more is dropped (the sender retransmits it). */
const MAX_RANGES = 64;

export type ReceiveResult = 'ok' | 'duplicate' | 'out-of-window' | 'too-many-ranges';

export class ReceiveBuffer {
  private readonly ring: ByteRing;
  /** In-order bytes waiting for the application, ending at rcvNxt: first those in the ring, then the chunks. */
  readableBytes = 0;
  /** In-order bytes held in the ring. */
  private ringReadable = 0;
  /**
   * In-order payloads kept as views of the received datagrams (no copy) while nothing is out of order; the
   * first out-of-order arrival moves them into the ring. The caller must not reuse a datagram's memory after
   * handing it to the endpoint (Node's dgram gives each message its own).
   */
  private readonly chunks = new Fifo<Uint8Array>();
  private chunkBytes = 0;
  /** RCV.NXT: the next in-order sequence number expected. */
  rcvNxt = 0;
  private ranges: Range[] = [];
  private touchCounter = 0;

  constructor(readonly limitBytes: number) {
    this.ring = new ByteRing(limitBytes);
  }

  /** Space the window may offer: everything not holding unread in-order data. */
  get freeBytes(): number {
    return this.limitBytes - this.readableBytes;
  }

  get hasOutOfOrder(): boolean {
    return this.ranges.length > 0;
  }

  /** Everything held, as plain data (snapshots): unread bytes, and each out-of-order range with its bytes. */
  snapshot(): Plain {
    return {
      rcvNxt: this.rcvNxt,
      touchCounter: this.touchCounter,
      readable: toPlain(this.peekReadable()),
      ranges: this.ranges.map((r) => {
        const n = seqDiff(r.right, r.left);
        const bytes = new Uint8Array(n);
        if (n > 0) this.ring.read(this.ringReadable + seqDiff(r.left, this.rcvNxt), bytes, 0, n);
        return { left: r.left, right: r.right, touched: r.touched, bytes: toPlain(bytes) };
      }),
    };
  }

  restore(plain: Plain): void {
    const s = fromPlain(plain) as { rcvNxt: number; touchCounter: number; readable: Uint8Array; ranges: Array<Range & { bytes: Uint8Array }> };
    this.rcvNxt = s.rcvNxt;
    this.touchCounter = s.touchCounter;
    this.readableBytes = s.readable.length;
    this.ringReadable = s.readable.length;
    const last = s.ranges[s.ranges.length - 1];
    const extent = this.readableBytes + (last ? seqDiff(last.right, this.rcvNxt) : 0);
    if (extent > 0) this.ring.ensure(extent, 0);
    if (s.readable.length > 0) this.ring.write(0, s.readable, 0, s.readable.length);
    this.ranges = s.ranges.map((r) => {
      if (r.bytes.length > 0) this.ring.write(this.readableBytes + seqDiff(r.left, this.rcvNxt), r.bytes, 0, r.bytes.length);
      return { left: r.left, right: r.right, touched: r.touched };
    });
  }

  /** Out-of-order ranges (each one a SACK block). */
  get sackBlockCount(): number {
    return this.ranges.length;
  }

  /** Bytes held out of order. */
  get outOfOrderBytes(): number {
    let n = 0;
    for (const r of this.ranges) n += seqDiff(r.right, r.left);
    return n;
  }

  /**
   * Place payload that starts at `seq`; only the part inside [rcvNxt, rcvNxt + windowBytes) is kept.
   * Returns how many bytes became readable in order (0 for out-of-order or duplicate data).
   */
  receive(seq: number, payload: Uint8Array, windowBytes: number): { delivered: number; result: ReceiveResult } {
    const windowEnd = seqAdd(this.rcvNxt, windowBytes);
    const left = seqMax(seq, this.rcvNxt);
    const right = seqMin(seqAdd(seq, payload.length), windowEnd);
    if (!seqLt(left, right)) {
      return { delivered: 0, result: seqLe(seqAdd(seq, payload.length), this.rcvNxt) ? 'duplicate' : 'out-of-window' };
    }
    if (left !== this.rcvNxt && this.ranges.length >= MAX_RANGES && !this.overlapsRange(left, right)) {
      return { delivered: 0, result: 'too-many-ranges' };
    }
    const srcOffset = seqDiff(left, seq);
    const n = seqDiff(right, left);
    if (left === this.rcvNxt && this.ranges.length === 0) {
      // In order with no hole behind it: keep a view of the datagram instead of copying.
      const view = srcOffset === 0 && n === payload.length ? payload : payload.subarray(srcOffset, srcOffset + n);
      this.chunks.push(view);
      this.chunkBytes += n;
      this.readableBytes += n;
      this.rcvNxt = right;
      return { delivered: n, result: 'ok' };
    }
    if (this.chunkBytes > 0) this.flattenChunks();
    const ringOffset = this.ringReadable + seqDiff(left, this.rcvNxt);
    this.ring.ensure(ringOffset + n, this.ringReadable + this.maxRangeExtent());
    this.ring.write(ringOffset, payload, srcOffset, n);

    if (left === this.rcvNxt) {
      let newNxt = right;
      // Absorb out-of-order ranges the new data reaches.
      while (this.ranges.length > 0 && seqLe(this.ranges[0]!.left, newNxt)) {
        newNxt = seqMax(newNxt, this.ranges[0]!.right);
        this.ranges.shift();
      }
      const delivered = seqDiff(newNxt, this.rcvNxt);
      this.readableBytes += delivered;
      this.ringReadable += delivered;
      this.rcvNxt = newNxt;
      return { delivered, result: 'ok' };
    }
    this.addRange(left, right);
    return { delivered: 0, result: 'ok' };
  }

  /** Up to maxBytes of in-order data for the application (a view of a received datagram when it can be). */
  read(maxBytes: number): Uint8Array {
    const n = Math.min(maxBytes, this.readableBytes);
    if (n === 0) return EMPTY;
    this.readableBytes -= n;
    if (this.ringReadable === 0) {
      const first = this.chunks.peek()!;
      if (first.length >= n) {
        this.chunkBytes -= n;
        if (first.length === n) this.chunks.shift();
        else this.chunks.replaceHead(first.subarray(n));
        return n === first.length ? first : first.subarray(0, n);
      }
    }
    const out = allocBytes(n);
    const fromRing = Math.min(n, this.ringReadable);
    if (fromRing > 0) {
      this.ring.read(0, out, 0, fromRing);
      this.ring.advance(fromRing);
      this.ringReadable -= fromRing;
    }
    let off = fromRing;
    while (off < n) {
      const c = this.chunks.peek()!;
      const m = Math.min(c.length, n - off);
      out.set(m === c.length ? c : c.subarray(0, m), off);
      off += m;
      this.chunkBytes -= m;
      if (m === c.length) this.chunks.shift();
      else this.chunks.replaceHead(c.subarray(m));
    }
    return out;
  }

  /** Something arrived out of order: the in-order views move into the ring behind its own readable bytes. */
  private flattenChunks(): void {
    this.ring.ensure(this.ringReadable + this.chunkBytes, this.ringReadable);
    let off = this.ringReadable;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks.at(i);
      this.ring.write(off, c, 0, c.length);
      off += c.length;
    }
    this.ringReadable += this.chunkBytes;
    this.chunks.clear();
    this.chunkBytes = 0;
  }

  /** All readable bytes, copied, without consuming them (snapshots). */
  private peekReadable(): Uint8Array {
    const out = new Uint8Array(this.readableBytes);
    if (this.ringReadable > 0) this.ring.read(0, out, 0, this.ringReadable);
    let off = this.ringReadable;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks.at(i);
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** Give the memory back when nothing is held (the connection is done with it). */
  release(): void {
    if (this.readableBytes === 0 && this.ranges.length === 0) this.ring.release();
  }

  /** Up to `max` SACK blocks, the most recently changed first (RFC 2018 section 4). */
  sackBlocks(max: number): SackBlock[] {
    if (this.ranges.length === 0 || max <= 0) return [];
    const sorted = [...this.ranges].sort((a, b) => b.touched - a.touched);
    const out: SackBlock[] = [];
    for (let i = 0; i < sorted.length && i < max; i++) out.push({ left: sorted[i]!.left, right: sorted[i]!.right });
    return out;
  }

  /** Sequence ranges held out of order, in sequence order (for snapshots and tests). */
  outOfOrderRanges(): SackBlock[] {
    return this.ranges.map((r) => ({ left: r.left, right: r.right }));
  }

  /** [left, right) lies wholly inside one out-of-order range (a duplicate). */
  holds(left: number, right: number): boolean {
    for (const r of this.ranges) if (seqLe(r.left, left) && seqLe(right, r.right)) return true;
    return false;
  }

  private overlapsRange(left: number, right: number): boolean {
    for (const r of this.ranges) if (seqLe(r.left, right) && seqLe(left, r.right)) return true;
    return false;
  }

  private maxRangeExtent(): number {
    // (Out-of-order offsets are measured from the end of the ring's readable bytes.)
    if (this.ranges.length === 0) return 0;
    return seqDiff(this.ranges[this.ranges.length - 1]!.right, this.rcvNxt);
  }

  /** Insert [left, right), merging with ranges it touches; keeps ranges sorted and disjoint. */
  private addRange(left: number, right: number): void {
    const touched = ++this.touchCounter;
    const rs = this.ranges;
    let i = 0;
    while (i < rs.length && seqLt(rs[i]!.right, left)) i++;
    let j = i;
    let l = left;
    let r = right;
    while (j < rs.length && seqLe(rs[j]!.left, r)) {
      l = seqMin(l, rs[j]!.left);
      r = seqMax(r, rs[j]!.right);
      j++;
    }
    rs.splice(i, j - i, { left: l, right: r, touched });
  }
}

const EMPTY = new Uint8Array(0);

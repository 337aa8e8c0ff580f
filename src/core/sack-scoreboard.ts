// The sender's record of every segment in flight, in sequence order: what the peer SACKed (RFC 2018), what is
// presumed lost and what was retransmitted. It answers RFC 6675's questions (IsLost, pipe, NextSeg) and keeps
// the per-segment send times that RTT sampling and RACK need.
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import type { SackBlock } from './wire/segment.js';
import { fieldsOf, fromPlain, numberOf, optionalNumberOf, toPlain, SnapshotError, type Plain } from './snapshot.js';

export interface SentSegment {
  seq: number;
  /** Sequence space the segment occupies: data bytes plus one for a FIN. */
  len: number;
  dataBytes: number;
  fin: boolean;
  /** Time of the latest (re)transmission. */
  sentMs: number;
  /** TSval carried by the latest transmission. */
  tsVal: number;
  /** Transmissions so far (1 = never retransmitted). */
  xmits: number;
  /** Order of the latest transmission among all of the connection's transmissions. */
  sentOrder: number;
  sacked: boolean;
  /** Presumed lost and not yet retransmitted since. */
  lost: boolean;
  /** Retransmitted in the current recovery episode (RFC 6675 HighRxt, per segment). */
  retransmitted: boolean;
}

export interface SackUpdate {
  /** Bytes newly marked SACKed by this ACK. */
  newlySackedBytes: number;
  /** The first block reported a duplicate (RFC 2883 D-SACK). */
  dsack: boolean;
  /** Highest sequence number SACKed so far moved up. */
  advanced: boolean;
}

export class Scoreboard {
  private segs: SentSegment[] = [];
  private head = 0;
  /** Bytes (sequence space) in records not yet cumulatively acknowledged. */
  outstandingBytes = 0;
  sackedBytes = 0;
  /** Bytes presumed lost and not retransmitted since: they are not in the network. */
  lostBytes = 0;
  /** RFC 6675 HighSACK: the end of the highest SACKed segment, or undefined. */
  highSackedEnd: number | undefined;

  get count(): number {
    return this.segs.length - this.head;
  }

  get isEmpty(): boolean {
    return this.head >= this.segs.length;
  }

  at(i: number): SentSegment {
    return this.segs[this.head + i]!;
  }

  first(): SentSegment | undefined {
    return this.segs[this.head];
  }

  last(): SentSegment | undefined {
    return this.head < this.segs.length ? this.segs[this.segs.length - 1] : undefined;
  }

  /** RFC 6675 pipe: outstanding bytes the network still holds. */
  get pipeBytes(): number {
    return this.outstandingBytes - this.sackedBytes - this.lostBytes;
  }

  push(seg: SentSegment): void {
    this.segs.push(seg);
    this.outstandingBytes += seg.len;
  }

  /**
   * Cumulative ACK: drop every record below `ack`, trimming one that is acknowledged in part. Returns when the
   * newest wholly acknowledged record sent only once was sent (RFC 6298 3, Karn: the RTT sample), or -1.
   */
  acknowledge(ack: number, onAcked: ((seg: SentSegment) => void) | undefined): number {
    let newestOnceSentMs = -1;
    while (this.head < this.segs.length) {
      const s = this.segs[this.head]!;
      const end = seqAdd(s.seq, s.len);
      if (seqLe(end, ack)) {
        this.forget(s);
        this.head++;
        if (s.xmits === 1 && s.sentMs > newestOnceSentMs) newestOnceSentMs = s.sentMs;
        onAcked?.(s);
        continue;
      }
      if (seqGt(ack, s.seq)) {
        // Partly acknowledged (the peer acked inside a segment): keep the rest.
        const cut = seqDiff(ack, s.seq);
        this.forget(s);
        s.seq = ack;
        s.len -= cut;
        s.dataBytes = Math.max(0, s.dataBytes - cut);
        this.count_(s);
      }
      break;
    }
    if (this.head > 256 && this.head * 2 > this.segs.length) {
      this.segs = this.segs.slice(this.head);
      this.head = 0;
    }
    if (this.highSackedEnd !== undefined && seqLe(this.highSackedEnd, ack)) this.highSackedEnd = undefined;
    return newestOnceSentMs;
  }

  /** Mark what the SACK blocks cover (RFC 2018); a first block below `ack` or already SACKed is a D-SACK. */
  applySack(blocks: readonly SackBlock[], ack: number, onSacked?: (seg: SentSegment) => void): SackUpdate {
    const out: SackUpdate = { newlySackedBytes: 0, dsack: false, advanced: false };
    for (let b = 0; b < blocks.length; b++) {
      const { left, right } = blocks[b]!;
      if (!seqLt(left, right)) continue;
      if (b === 0 && (seqLe(right, ack) || (blocks.length > 1 && seqLe(blocks[1]!.left, left) && seqLe(right, blocks[1]!.right)))) {
        out.dsack = true;
        continue;
      }
      // Find the first record that may be covered (binary search by sequence number).
      let lo = this.head;
      let hi = this.segs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (seqLe(seqAdd(this.segs[mid]!.seq, this.segs[mid]!.len), left)) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < this.segs.length; i++) {
        const s = this.segs[i]!;
        if (seqGe(s.seq, right)) break;
        const end = seqAdd(s.seq, s.len);
        // Only whole segments count as SACKed.
        if (s.sacked || seqLt(s.seq, left) || seqGt(end, right)) continue;
        this.forget(s);
        s.sacked = true;
        s.lost = false;
        this.count_(s);
        out.newlySackedBytes += s.len;
        onSacked?.(s);
        if (this.highSackedEnd === undefined || seqGt(end, this.highSackedEnd)) {
          this.highSackedEnd = end;
          out.advanced = true;
        }
      }
    }
    return out;
  }

  /**
   * RFC 6675 IsLost for every unSACKed record below the highest SACK: lost when at least dupThresh
   * SACKed segments, or more than (dupThresh - 1) * mss SACKed bytes, lie above it. For a retransmitted
   * record only SACKs of segments sent after its retransmission count (RACK's insight, RFC 8985 2): older
   * ones say nothing about the retransmission. Returns the bytes newly marked lost.
   */
  markLostBySack(dupThresh: number, mssBytes: number): number {
    if (this.highSackedEnd === undefined) return 0;
    let newly = 0;
    let sackedAbove = 0;
    let sackedSegmentsAbove = 0;
    for (let i = this.segs.length - 1; i >= this.head; i--) {
      const s = this.segs[i]!;
      if (s.sacked) {
        sackedAbove += s.len;
        sackedSegmentsAbove++;
        continue;
      }
      if (sackedAbove === 0 || s.lost) continue;
      let segments = sackedSegmentsAbove;
      let bytes = sackedAbove;
      if (s.xmits > 1) {
        segments = 0;
        bytes = 0;
        for (let j = i + 1; j < this.segs.length; j++) {
          const t = this.segs[j]!;
          if (t.sacked && t.sentOrder > s.sentOrder) {
            segments++;
            bytes += t.len;
          }
        }
      }
      if (segments >= dupThresh || bytes > (dupThresh - 1) * mssBytes) {
        this.setLost(s);
        newly += s.len;
      }
    }
    return newly;
  }

  /** Mark a record lost (RACK's verdict). */
  markLost(s: SentSegment): void {
    if (!s.sacked && !s.lost) this.setLost(s);
  }

  /** Mark one record lost (NewReno's fast retransmit and partial ACKs; the head of the queue). */
  markFirstLost(): boolean {
    const s = this.first();
    if (s === undefined || s.sacked || s.lost) return false;
    this.setLost(s);
    return true;
  }

  /** After an RTO, every unSACKed record is presumed lost (RFC 6675 5.1, RFC 5681 3.1). */
  markAllLost(): void {
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      s.retransmitted = false;
      if (!s.sacked && !s.lost) this.setLost(s);
    }
  }

  /** The peer may have discarded SACKed data (RFC 2018 8): forget every SACK mark. */
  clearSacks(): void {
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (s.sacked) {
        this.forget(s);
        s.sacked = false;
        this.count_(s);
      }
    }
    this.highSackedEnd = undefined;
  }

  /** Undo loss marks (a spurious retransmission was detected). */
  clearLost(): void {
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (s.lost) {
        this.forget(s);
        s.lost = false;
        this.count_(s);
      }
      s.retransmitted = false;
    }
  }

  /** End of a recovery episode: retransmitted marks no longer matter. */
  endEpisode(): void {
    for (let i = this.head; i < this.segs.length; i++) this.segs[i]!.retransmitted = false;
  }

  /** RFC 6675 NextSeg rule 1: the lowest record presumed lost and not yet retransmitted. */
  nextLost(): SentSegment | undefined {
    if (this.lostBytes === 0) return undefined;
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (s.lost) return s;
    }
    return undefined;
  }

  /** RFC 6675 NextSeg rule 3: an unSACKed, not retransmitted record below the highest SACK. */
  nextUnsackedBelowHighSack(): SentSegment | undefined {
    if (this.highSackedEnd === undefined) return undefined;
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (seqGe(s.seq, this.highSackedEnd)) return undefined;
      if (!s.sacked && !s.retransmitted && !s.lost) return s;
    }
    return undefined;
  }

  /** RFC 6675 rule 4 (rescue): the highest unSACKed record. */
  highestUnsacked(): SentSegment | undefined {
    for (let i = this.segs.length - 1; i >= this.head; i--) {
      const s = this.segs[i]!;
      if (!s.sacked) return s;
    }
    return undefined;
  }

  /** Cut a record so its first part carries `firstDataBytes` (the options of a retransmission grew). */
  split(s: SentSegment, firstDataBytes: number): void {
    const i = this.segs.indexOf(s, this.head);
    if (i < 0 || firstDataBytes <= 0 || firstDataBytes >= s.dataBytes) return;
    this.forget(s);
    const rest: SentSegment = { ...s, seq: seqAdd(s.seq, firstDataBytes), len: s.len - firstDataBytes, dataBytes: s.dataBytes - firstDataBytes };
    s.len = firstDataBytes;
    s.dataBytes = firstDataBytes;
    s.fin = false;
    this.count_(s);
    this.count_(rest);
    this.segs.splice(i + 1, 0, rest);
  }

  /** A record goes out again: it is back in the network. */
  onRetransmit(s: SentSegment, nowMs: number, tsVal: number, sentOrder: number): void {
    this.forget(s);
    s.lost = false;
    s.retransmitted = true;
    s.xmits++;
    s.sentOrder = sentOrder;
    s.sentMs = nowMs;
    s.tsVal = tsVal;
    this.count_(s);
  }

  private setLost(s: SentSegment): void {
    this.forget(s);
    s.lost = true;
    this.count_(s);
  }

  /** Remove a record's contribution to the byte counters... */
  private forget(s: SentSegment): void {
    this.outstandingBytes -= s.len;
    if (s.sacked) this.sackedBytes -= s.len;
    else if (s.lost) this.lostBytes -= s.len;
  }

  /** ...and add it back after its flags changed. */
  private count_(s: SentSegment): void {
    this.outstandingBytes += s.len;
    if (s.sacked) this.sackedBytes += s.len;
    else if (s.lost) this.lostBytes += s.len;
  }

  /** Records, for stats and snapshots. */
  toArray(): SentSegment[] {
    return this.segs.slice(this.head).map((s) => ({ ...s }));
  }

  save(): Plain {
    return { segs: toPlain(this.toArray()), outstandingBytes: this.outstandingBytes, sackedBytes: this.sackedBytes, lostBytes: this.lostBytes, highSackedEnd: toPlain(this.highSackedEnd) };
  }

  restore(plain: Plain): void {
    const f = fieldsOf(plain, 'scoreboard');
    const segs = fromPlain(f.segs ?? null);
    if (!Array.isArray(segs)) throw new SnapshotError('snapshot: scoreboard records are not a list');
    this.segs = segs as SentSegment[];
    this.head = 0;
    this.outstandingBytes = numberOf(f, 'outstandingBytes');
    this.sackedBytes = numberOf(f, 'sackedBytes');
    this.lostBytes = numberOf(f, 'lostBytes');
    this.highSackedEnd = optionalNumberOf(f, 'highSackedEnd');
  }
}

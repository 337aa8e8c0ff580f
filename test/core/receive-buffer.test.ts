// ReceiveBuffer: reassembly of segments in any order (property), SACK blocks (RFC 2018) against a model, and the
// window: out-of-window data is trimmed or refused. rcvNxt also starts just below 2^32 so the wrap is crossed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReceiveBuffer, type ReceiveResult } from '../../src/core/receive-buffer.js';

const TWO32 = 2 ** 32;
const s = (start: number, off: number) => (start + off) % TWO32;
/** Contents only: the core may hand out Buffers, which deepStrictEqual tells apart from Uint8Arrays. */
const u8 = (b: Uint8Array) => Uint8Array.from(b);

function pattern(n: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (salt * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Deterministic Fisher-Yates from a seed (the seed itself comes from fast-check). */
function shuffle<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = a.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Start sequence numbers: anywhere, or close enough below 2^32 that the data crosses the wrap. */
const startSeq = fc.oneof(fc.integer({ min: 0, max: TWO32 - 1 }), fc.integer({ min: TWO32 - 20_000, max: TWO32 - 1 }));

describe('ReceiveBuffer: examples', () => {
  it('in-order data is delivered at once and read back', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 1000;
    const d = pattern(300, 1);
    assert.deepEqual(rb.receive(1000, d.subarray(0, 100), rb.freeBytes), { delivered: 100, result: 'ok' });
    assert.equal(rb.readableBytes, 100);
    assert.equal(rb.rcvNxt, 1100);
    assert.deepEqual(rb.receive(1100, d.subarray(100), rb.freeBytes), { delivered: 200, result: 'ok' });
    assert.deepEqual(u8(rb.read(50)), u8(d.subarray(0, 50)));
    assert.deepEqual(u8(rb.read(1000)), u8(d.subarray(50)));
    assert.equal(rb.read(10).length, 0);
  });

  it('a hole filled late delivers everything behind it; a straddling segment delivers only the new bytes', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 0xfffffff0; // the data crosses 2^32
    const d = pattern(64, 2);
    assert.deepEqual(rb.receive(s(0xfffffff0, 32), d.subarray(32), rb.freeBytes), { delivered: 0, result: 'ok' });
    assert.deepEqual(rb.outOfOrderRanges(), [{ left: 0x10, right: 0x30 }]);
    assert.equal(rb.outOfOrderBytes, 32);
    assert.deepEqual(rb.receive(0xfffffff0, d.subarray(0, 8), rb.freeBytes), { delivered: 8, result: 'ok' });
    // [0xfffffff0 - 8 .. +24): 8 old bytes, 16 new ones, reaching the held range
    assert.deepEqual(rb.receive(s(0xfffffff0, 0), d.subarray(0, 32), rb.freeBytes), { delivered: 56, result: 'ok' });
    assert.equal(rb.rcvNxt, 0x30);
    assert.equal(rb.hasOutOfOrder, false);
    assert.deepEqual(u8(rb.read(1000)), u8(d));
  });

  it('data entirely before rcvNxt is a duplicate; entirely beyond the window is out-of-window', () => {
    const rb = new ReceiveBuffer(2048);
    rb.rcvNxt = 5000;
    assert.deepEqual(rb.receive(4000, pattern(1000, 3), 1000), { delivered: 0, result: 'duplicate' });
    assert.deepEqual(rb.receive(6000, pattern(10, 3), 1000), { delivered: 0, result: 'out-of-window' });
    assert.deepEqual(rb.receive(6500, pattern(10, 3), 1000), { delivered: 0, result: 'out-of-window' });
    assert.equal(rb.readableBytes, 0);
    assert.equal(rb.hasOutOfOrder, false);
    assert.equal(rb.rcvNxt, 5000);
  });

  it('a segment running past the window edge is trimmed to the window', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 100;
    const d = pattern(300, 4);
    // window [100, 200): keeps [150, 200) of [150, 250)
    assert.deepEqual(rb.receive(150, d.subarray(50, 150), 100), { delivered: 0, result: 'ok' });
    assert.deepEqual(rb.outOfOrderRanges(), [{ left: 150, right: 200 }]);
    // in order, also past the edge: keeps [100, 200) and reaches the held range, nothing beyond 200
    assert.deepEqual(rb.receive(100, d.subarray(0, 300), 100), { delivered: 100, result: 'ok' });
    assert.equal(rb.rcvNxt, 200);
    assert.deepEqual(u8(rb.read(1000)), u8(d.subarray(0, 100)));
  });

  it('a zero window accepts nothing', () => {
    const rb = new ReceiveBuffer(1024);
    rb.rcvNxt = 7;
    assert.deepEqual(rb.receive(7, pattern(10, 5), 0), { delivered: 0, result: 'out-of-window' });
    assert.equal(rb.readableBytes, 0);
  });

  it('SACK blocks: most recently changed first, at most N', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 0;
    const d = pattern(100, 6);
    rb.receive(10, d.subarray(10, 20), 4096);
    rb.receive(30, d.subarray(30, 40), 4096);
    rb.receive(50, d.subarray(50, 60), 4096);
    assert.deepEqual(rb.sackBlocks(4), [
      { left: 50, right: 60 },
      { left: 30, right: 40 },
      { left: 10, right: 20 },
    ]);
    rb.receive(35, d.subarray(35, 45), 4096); // grows [30, 40) to [30, 45): now the newest
    assert.deepEqual(rb.sackBlocks(2), [
      { left: 30, right: 45 },
      { left: 50, right: 60 },
    ]);
    rb.receive(12, d.subarray(12, 14), 4096); // a duplicate inside [10, 20) triggers an ACK naming that block first
    assert.deepEqual(rb.sackBlocks(1), [{ left: 10, right: 20 }]);
    rb.receive(20, d.subarray(20, 30), 4096); // joins [10, 20) and [30, 45)
    assert.deepEqual(rb.sackBlocks(4), [
      { left: 10, right: 45 },
      { left: 50, right: 60 },
    ]);
    assert.deepEqual(rb.sackBlocks(0), []);
    rb.receive(0, d.subarray(0, 10), 4096); // absorbs [10, 45)
    assert.deepEqual(rb.sackBlocks(4), [{ left: 50, right: 60 }]);
    assert.equal(rb.rcvNxt, 45);
  });

  it('bounds the number of out-of-order ranges; in-order and overlapping data still get in', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 0;
    const d = pattern(400, 7);
    for (let i = 0; i < 64; i++) assert.equal(rb.receive(2 + 2 * i, d.subarray(2 + 2 * i, 3 + 2 * i), 4096).result, 'ok');
    assert.equal(rb.outOfOrderRanges().length, 64);
    assert.deepEqual(rb.receive(300, d.subarray(300, 301), 4096), { delivered: 0, result: 'too-many-ranges' });
    // touching an existing range is fine (it merges)
    assert.equal(rb.receive(3, d.subarray(3, 4), 4096).result, 'ok');
    assert.equal(rb.outOfOrderRanges().length, 63);
    // in-order data always gets in and absorbs what it reaches: bytes 0..4 are now contiguous
    assert.deepEqual(rb.receive(0, d.subarray(0, 2), 4096), { delivered: 5, result: 'ok' });
    assert.equal(rb.rcvNxt, 5);
    assert.deepEqual(u8(rb.read(100)), u8(d.subarray(0, 5)));
  });
});

describe('ReceiveBuffer: reassembly property', () => {
  it('segments in random order with duplicates and overlaps read back the original bytes exactly once, in order', () => {
    fc.assert(
      fc.property(
        startSeq,
        fc.integer({ min: 1024, max: 16_384 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 39 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 20 }),
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 60 }),
        (start, limit, lenFrac, cutFracs, extraFracs, orderSeed, readSizes) => {
          const total = Math.max(1, Math.floor(lenFrac * limit));
          const data = pattern(total, start ^ total);
          // A partition of [0, total) at random cut points ...
          const cuts = [...new Set(cutFracs.map((f) => Math.floor(f * total)).filter((c) => c > 0 && c < total))].sort((a, b) => a - b);
          const bounds = [0, ...cuts, total];
          const segs: Array<[number, number]> = [];
          for (let i = 0; i + 1 < bounds.length; i++) segs.push([bounds[i]!, bounds[i + 1]!]);
          // ... plus duplicates and overlapping spans, all inside the data (so inside the window).
          for (const [a, b] of extraFracs) {
            const lo = Math.floor(a * total);
            const hi = Math.min(total, lo + 1 + Math.floor(b * (total - lo)));
            if (hi > lo) segs.push([lo, hi]);
          }
          const rb = new ReceiveBuffer(limit);
          rb.rcvNxt = start;
          const out: number[] = [];
          let deliveredSum = 0;
          let r = 0;
          const readSome = () => {
            const n = readSizes.length > 0 ? readSizes[r++ % readSizes.length]! : 0;
            const got = rb.read(n);
            assert.ok(got.length <= n);
            out.push(...got);
          };
          for (const [lo, hi] of shuffle(segs, orderSeed)) {
            const before = rb.rcvNxt;
            const res = rb.receive(s(start, lo), data.subarray(lo, hi), rb.freeBytes);
            assert.notEqual(res.result, 'out-of-window');
            assert.notEqual(res.result, 'too-many-ranges');
            assert.equal(res.delivered, ((rb.rcvNxt - before + TWO32) % TWO32));
            deliveredSum += res.delivered;
            if ((lo & 1) === 0) readSome();
          }
          assert.equal(deliveredSum, total, 'every byte delivered once');
          assert.equal(rb.rcvNxt, s(start, total));
          assert.equal(rb.hasOutOfOrder, false);
          assert.equal(rb.readableBytes, total - out.length);
          out.push(...rb.read(Number.MAX_SAFE_INTEGER));
          assert.deepEqual(Uint8Array.from(out), data);
          assert.equal(rb.readableBytes, 0);
          assert.equal(rb.read(1).length, 0);
        },
      ),
      { seed: 2018, numRuns: 400 },
    );
  });
});

describe('ReceiveBuffer: a stream longer than the buffer (the ring wraps)', () => {
  it('in-order and out-of-order writes that straddle the end of the ring read back intact', () => {
    const rb = new ReceiveBuffer(4096);
    rb.rcvNxt = 0xfffff000;
    const d = pattern(12_000, 8);
    let at = 0;
    const take = (n: number) => {
      const got = u8(rb.read(n));
      assert.deepEqual(got, d.subarray(at, at + got.length));
      at += got.length;
    };
    rb.receive(0xfffff000, d.subarray(0, 3000), rb.freeBytes);
    take(3000);
    // Out of order first, across the physical end of the ring, then the hole.
    assert.equal(rb.receive(s(0xfffff000, 4000), d.subarray(4000, 6000), rb.freeBytes).result, 'ok');
    assert.deepEqual(rb.receive(s(0xfffff000, 3000), d.subarray(3000, 4000), rb.freeBytes), { delivered: 3000, result: 'ok' });
    take(2500);
    assert.deepEqual(rb.receive(s(0xfffff000, 6000), d.subarray(6000, 9500), rb.freeBytes), { delivered: 3500, result: 'ok' });
    take(100_000);
    assert.equal(at, 9500);
  });

  it('property: a stream several times the buffer, segments in random order within the moving window', () => {
    fc.assert(
      fc.property(
        startSeq,
        fc.integer({ min: 1024, max: 8192 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 50, max: 1500 }),
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 40 }),
        (start, limit, times, maxSeg, orderSeed, readSizes) => {
          const total = limit * times + (orderSeed & 1023);
          const data = pattern(total, orderSeed);
          const segs: Array<[number, number]> = [];
          // Segments of varying size, plus overlapping resends of some of them.
          let x = orderSeed >>> 0 || 1;
          for (let off = 0; off < total; ) {
            x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
            const len = Math.min(total - off, 1 + (x % Math.min(maxSeg, limit))); // a segment fits the window
            segs.push([off, off + len]);
            if (x % 5 === 0) segs.push([Math.max(0, off - (x % 97)), Math.min(total, off + Math.min(len + (x % 89), limit - 97))]);
            off += len;
          }
          const rb = new ReceiveBuffer(limit);
          rb.rcvNxt = start;
          let pending = shuffle(segs, orderSeed);
          const out: Uint8Array[] = [];
          let readTotal = 0;
          let r = 0;
          let rounds = 0;
          while (pending.length > 0) {
            assert.ok(rounds++ < 100_000, 'progress');
            const edge = readTotal + limit; // the window's right edge: everything read frees room
            const later: Array<[number, number]> = [];
            for (const [lo, hi] of pending) {
              if (hi > edge) {
                later.push([lo, hi]);
                continue;
              }
              const res = rb.receive(s(start, lo), data.subarray(lo, hi), rb.freeBytes);
              if (res.result === 'too-many-ranges') {
                // Refused for now (at most 64 out-of-order ranges): the sender sends it again later.
                assert.ok(rb.outOfOrderRanges().length >= 64);
                later.push([lo, hi]);
                continue;
              }
              assert.ok(res.result === 'ok' || res.result === 'duplicate', res.result);
              const got = rb.read(readSizes[r++ % readSizes.length]!);
              out.push(u8(got));
              readTotal += got.length;
            }
            if (later.length === pending.length) {
              // Nothing fitted: the application reads everything, which opens the window.
              const got = rb.read(Number.MAX_SAFE_INTEGER);
              out.push(u8(got));
              readTotal += got.length;
              assert.ok(got.length > 0 || later.every(([lo]) => lo >= readTotal), 'stuck with an open window');
            }
            pending = later;
          }
          const rest = rb.read(Number.MAX_SAFE_INTEGER);
          out.push(u8(rest));
          const all = new Uint8Array(total);
          let o = 0;
          for (const c of out) {
            all.set(c, o);
            o += c.length;
          }
          assert.equal(o, total);
          assert.deepEqual(all, data);
          assert.equal(rb.rcvNxt, s(start, total));
        },
      ),
      { seed: 4242, numRuns: 150 },
    );
  });
});

describe('ReceiveBuffer: model-based property (window trimming, SACK blocks)', () => {
  type Op = { kind: 'recv'; off: number; len: number } | { kind: 'read'; n: number };

  it('matches a byte-map model: results, delivery, ranges, SACK order and limits, trimming at the window edge', () => {
    fc.assert(
      fc.property(
        startSeq,
        fc.integer({ min: 1024, max: 6000 }),
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.record({ kind: fc.constant('recv' as const), off: fc.nat(18_000), len: fc.integer({ min: 1, max: 2500 }) }) },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), n: fc.nat(4000) }) },
          ),
          { maxLength: 50 },
        ),
        (start, limit, ops) => {
          const total = 20_500;
          const data = pattern(total, start);
          const rb = new ReceiveBuffer(limit);
          rb.rcvNxt = start;
          const have = new Uint8Array(total);
          let nxt = 0;
          let readPos = 0;
          let clock = 0;
          const events: Array<{ l: number; r: number; t: number }> = [];

          const runs = (): Array<{ l: number; r: number }> => {
            const out: Array<{ l: number; r: number }> = [];
            for (let i = nxt; i < total; ) {
              if (!have[i]) {
                i++;
                continue;
              }
              let j = i;
              while (j < total && have[j]) j++;
              out.push({ l: i, r: j });
              i = j;
            }
            return out;
          };

          for (const o of ops) {
            if (o.kind === 'read') {
              const got = rb.read(o.n);
              const n = Math.min(o.n, nxt - readPos);
              assert.deepEqual(u8(got), data.subarray(readPos, readPos + n));
              readPos += n;
            } else {
              const len = Math.min(o.len, total - o.off);
              if (len <= 0) continue;
              const window = rb.freeBytes;
              assert.equal(window, limit - (nxt - readPos));
              const res = rb.receive(s(start, o.off), data.subarray(o.off, o.off + len), window);
              const left = Math.max(o.off, nxt);
              const right = Math.min(o.off + len, nxt + window);
              let expected: ReceiveResult;
              let delivered = 0;
              if (left >= right) {
                expected = o.off + len <= nxt ? 'duplicate' : 'out-of-window';
              } else {
                const rs = runs();
                const touches = rs.some((x) => x.l <= right && left <= x.r);
                if (left !== nxt && rs.length >= 64 && !touches) expected = 'too-many-ranges';
                else {
                  expected = 'ok';
                  have.fill(1, left, right);
                  if (left === nxt) {
                    let n2 = nxt;
                    while (n2 < total && have[n2]) n2++;
                    delivered = n2 - nxt;
                    nxt = n2;
                  } else {
                    events.push({ l: left, r: right, t: ++clock });
                  }
                }
              }
              assert.deepEqual(res, { delivered, result: expected }, `segment [${o.off}, ${o.off + len}) nxt ${nxt} window ${window}`);
            }
            // State against the model after every operation.
            assert.equal(rb.rcvNxt, s(start, nxt));
            assert.equal(rb.readableBytes, nxt - readPos);
            const rs = runs();
            assert.deepEqual(
              rb.outOfOrderRanges(),
              rs.map((x) => ({ left: s(start, x.l), right: s(start, x.r) })),
            );
            assert.equal(rb.outOfOrderBytes, rs.reduce((a, x) => a + x.r - x.l, 0));
            assert.equal(rb.hasOutOfOrder, rs.length > 0);
            // Nothing beyond the window edge offered at the time is ever held.
            for (const x of rs) assert.ok(x.r - readPos <= limit);
            // SACK: a run's age is that of the newest segment stored in it (RFC 2018 4: the block holding the
            // segment that triggered the ACK comes first).
            const aged = rs.map((x) => ({ ...x, t: Math.max(...events.filter((e) => e.l >= x.l && e.r <= x.r).map((e) => e.t)) }));
            aged.sort((a, b) => b.t - a.t);
            for (const k of [1, 2, 3, 4]) {
              const blocks = rb.sackBlocks(k);
              assert.ok(blocks.length <= k);
              assert.deepEqual(
                blocks,
                aged.slice(0, k).map((x) => ({ left: s(start, x.l), right: s(start, x.r) })),
              );
            }
          }
        },
      ),
      { seed: 793, numRuns: 300 },
    );
  });
});

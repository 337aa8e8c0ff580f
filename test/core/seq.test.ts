// Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4, RFC 1982), around the wrap and by property.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqMax, seqMin } from '../../src/core/seq.js';

const TWO32 = 2 ** 32;
const HALF = 2 ** 31;
const u32 = fc.integer({ min: 0, max: TWO32 - 1 });
/** A distance strictly inside the half-space where comparison is defined. */
const dist = fc.integer({ min: 1, max: HALF - 1 });

describe('seq: across the wrap', () => {
  it('0xFFFFFFF0 is before 0x10', () => {
    assert.equal(seqLt(0xfffffff0, 0x10), true);
    assert.equal(seqLe(0xfffffff0, 0x10), true);
    assert.equal(seqGt(0xfffffff0, 0x10), false);
    assert.equal(seqGe(0xfffffff0, 0x10), false);
    assert.equal(seqGt(0x10, 0xfffffff0), true);
    assert.equal(seqGe(0x10, 0xfffffff0), true);
    assert.equal(seqLt(0x10, 0xfffffff0), false);
  });

  it('0xFFFFFFFF is just before 0', () => {
    assert.equal(seqLt(0xffffffff, 0), true);
    assert.equal(seqDiff(0, 0xffffffff), 1);
    assert.equal(seqDiff(0xffffffff, 0), -1);
    assert.equal(seqAdd(0xffffffff, 1), 0);
  });

  it('distance and addition wrap', () => {
    assert.equal(seqDiff(0x10, 0xfffffff0), 0x20);
    assert.equal(seqDiff(0xfffffff0, 0x10), -0x20);
    assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
    assert.equal(seqAdd(5, -10), 0xfffffffb);
    assert.equal(seqAdd(0, -1), 0xffffffff);
    assert.equal(seqAdd(0x7fffffff, 1), 0x80000000);
  });

  it('max and min pick by sequence order, not by number', () => {
    assert.equal(seqMax(0xfffffff0, 0x10), 0x10);
    assert.equal(seqMin(0xfffffff0, 0x10), 0xfffffff0);
    assert.equal(seqMax(100, 200), 200);
    assert.equal(seqMin(100, 200), 100);
  });

  it('equal numbers are neither before nor after each other', () => {
    for (const a of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
      assert.equal(seqLt(a, a), false);
      assert.equal(seqGt(a, a), false);
      assert.equal(seqLe(a, a), true);
      assert.equal(seqGe(a, a), true);
      assert.equal(seqDiff(a, a), 0);
    }
  });

  it('in-range across the wrap: lo <= x < hi', () => {
    assert.equal(seqInRange(0xfffffff0, 0xfffffff0, 0x10), true);
    assert.equal(seqInRange(0xffffffff, 0xfffffff0, 0x10), true);
    assert.equal(seqInRange(0, 0xfffffff0, 0x10), true);
    assert.equal(seqInRange(0xf, 0xfffffff0, 0x10), true);
    assert.equal(seqInRange(0x10, 0xfffffff0, 0x10), false);
    assert.equal(seqInRange(0xffffffef, 0xfffffff0, 0x10), false);
    assert.equal(seqInRange(0x80000000, 0xfffffff0, 0x10), false);
  });

  it('a distance of just under 2^31 still compares; numbers are ordered by the short way round', () => {
    assert.equal(seqLt(0, 0x7fffffff), true);
    assert.equal(seqGt(0, 0x80000001), true); // 0x80000001 is 2^31 - 1 before 0
    assert.equal(seqLt(0x80000001, 0), true);
  });
});

describe('seq: properties', () => {
  const opts = { seed: 42, numRuns: 2000 };

  it('a + n is after a and the distance back is n, for 0 < n < 2^31', () => {
    fc.assert(
      fc.property(u32, dist, (a, n) => {
        const b = seqAdd(a, n);
        assert.ok(b >= 0 && b < TWO32 && Number.isInteger(b));
        assert.equal(b, (a + n) % TWO32);
        assert.equal(seqLt(a, b), true);
        assert.equal(seqLe(a, b), true);
        assert.equal(seqGt(b, a), true);
        assert.equal(seqGe(b, a), true);
        assert.equal(seqLt(b, a), false);
        assert.equal(seqGt(a, b), false);
        assert.equal(seqDiff(b, a), n);
        assert.equal(seqDiff(a, b), -n);
        assert.equal(seqAdd(b, -n), a);
        assert.equal(seqMax(a, b), b);
        assert.equal(seqMin(a, b), a);
        assert.equal(seqInRange(a, a, b), true);
        assert.equal(seqInRange(b, a, b), false);
      }),
      opts,
    );
  });

  it('exactly one of <, =, > holds when the distance is not 2^31', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        fc.pre(Math.abs(a - b) !== HALF);
        const n = Number(seqLt(a, b)) + Number(a === b) + Number(seqGt(a, b));
        assert.equal(n, 1);
        assert.equal(seqLe(a, b), seqLt(a, b) || a === b);
        assert.equal(seqGe(a, b), seqGt(a, b) || a === b);
        assert.equal(seqLt(a, b), seqGt(b, a));
        // agrees with the signed distance
        assert.equal(seqLt(a, b), seqDiff(b, a) > 0);
      }),
      opts,
    );
  });

  it('order is invariant under a common shift (the wrap does not matter)', () => {
    fc.assert(
      fc.property(u32, u32, u32, (a, b, k) => {
        const a2 = seqAdd(a, k);
        const b2 = seqAdd(b, k);
        assert.equal(seqLt(a2, b2), seqLt(a, b));
        assert.equal(seqGe(a2, b2), seqGe(a, b));
        assert.equal(seqDiff(b2, a2), seqDiff(b, a));
      }),
      opts,
    );
  });

  it('is transitive for points inside one half-window', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: HALF / 2 }), fc.integer({ min: 0, max: HALF / 2 - 1 }), (a, d1, d2) => {
        const b = seqAdd(a, d1);
        const c = seqAdd(b, d2);
        if (seqLe(a, b) && seqLe(b, c)) assert.equal(seqLe(a, c), true);
        assert.equal(seqDiff(c, a), d1 + d2);
        assert.equal(seqInRange(b, a, seqAdd(c, 1)), true);
      }),
      opts,
    );
  });

  it('a sorted run of numbers crossing the wrap stays sorted under seq comparison', () => {
    fc.assert(
      fc.property(fc.integer({ min: TWO32 - 5000, max: TWO32 - 1 }), fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 30 }), (start, offs) => {
        const sorted = [...offs].sort((x, y) => x - y);
        const seqs = sorted.map((o) => seqAdd(start, o));
        const resorted = [...seqs].sort((x, y) => seqDiff(x, y));
        assert.deepEqual(resorted, seqs);
      }),
      opts,
    );
  });
});

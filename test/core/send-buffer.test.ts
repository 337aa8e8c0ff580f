// SendBuffer (and the ByteRing under it) against a plain array model: backpressure, acknowledgment and copies
// across the ring's wrap and its growth.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SendBuffer } from '../../src/core/send-buffer.js';

function bytes(n: number, start = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (start + i * 7 + (i >> 8)) & 0xff;
  return out;
}

function copyOf(sb: SendBuffer, offset: number, n: number): Uint8Array {
  const dst = new Uint8Array(n + 4).fill(0xee);
  sb.copy(offset, dst, 2, n);
  // Bytes around the copied span are untouched.
  assert.equal(dst[0], 0xee);
  assert.equal(dst[1], 0xee);
  assert.equal(dst[n + 2], 0xee);
  assert.equal(dst[n + 3], 0xee);
  return dst.subarray(2, 2 + n);
}

describe('SendBuffer: backpressure', () => {
  it('takes at most limitBytes and says how much it took', () => {
    const sb = new SendBuffer(4096);
    assert.equal(sb.freeBytes, 4096);
    assert.equal(sb.write(bytes(3000)), 3000);
    assert.equal(sb.freeBytes, 1096);
    assert.equal(sb.write(bytes(3000)), 1096);
    assert.equal(sb.lengthBytes, 4096);
    assert.equal(sb.freeBytes, 0);
    assert.equal(sb.write(bytes(10)), 0);
    assert.equal(sb.write(new Uint8Array(0)), 0);
    sb.acknowledge(1000);
    assert.equal(sb.freeBytes, 1000);
    assert.equal(sb.write(bytes(5000)), 1000);
    assert.equal(sb.lengthBytes, 4096);
  });

  it('a single write larger than the limit takes exactly the limit, and the right bytes', () => {
    const sb = new SendBuffer(5000); // not a power of two: the ring grows 4096 -> 5000
    const src = bytes(12_345, 3);
    assert.equal(sb.write(src), 5000);
    assert.deepEqual(Uint8Array.from(sb.snapshotBytes()), src.subarray(0, 5000));
  });

  it('acknowledging everything empties it; it then starts over', () => {
    const sb = new SendBuffer(2048);
    sb.write(bytes(2048));
    sb.acknowledge(2048);
    assert.equal(sb.lengthBytes, 0);
    assert.equal(sb.freeBytes, 2048);
    assert.deepEqual(Uint8Array.from(sb.snapshotBytes()), new Uint8Array(0));
    assert.equal(sb.write(bytes(100, 9)), 100);
    assert.deepEqual(Uint8Array.from(copyOf(sb, 0, 100)), bytes(100, 9));
  });
});

describe('SendBuffer: wrap and growth', () => {
  it('copies a span that wraps around the end of the ring', () => {
    const sb = new SendBuffer(4096);
    const model: number[] = [];
    const w = (n: number, s: number) => {
      const b = bytes(n, s);
      const took = sb.write(b);
      model.push(...b.subarray(0, took));
    };
    w(4000, 1); // ring of 4096, head 0
    sb.acknowledge(3000); // head at 3000
    model.splice(0, 3000);
    w(2500, 2); // 1000 + 2500 = 3500 bytes, the tail wraps past 4096
    assert.equal(sb.lengthBytes, 3500);
    assert.deepEqual(Array.from(copyOf(sb, 0, 3500)), model);
    assert.deepEqual(Array.from(copyOf(sb, 900, 300)), model.slice(900, 1200)); // straddles the physical end
  });

  for (const live of [0, 1, 2, 100, 4095]) {
    it(`grows from a full 4096-byte ring holding ${live} live byte(s) and keeps them`, () => {
      const sb = new SendBuffer(1 << 16);
      const first = bytes(4096, 1);
      sb.write(first);
      sb.acknowledge(4096 - live);
      const second = bytes(5000, 2);
      assert.equal(sb.write(second), 5000); // 5000 + live > 4096: the ring grows
      assert.deepEqual(Uint8Array.from(sb.snapshotBytes()), Uint8Array.from([...first.subarray(4096 - live), ...second]));
    });
  }

  it('grows while wrapped and keeps the order of the live bytes', () => {
    const sb = new SendBuffer(1 << 16);
    const model: number[] = [];
    sb.write(bytes(4000, 1));
    model.push(...bytes(4000, 1));
    sb.acknowledge(3500);
    model.splice(0, 3500);
    sb.write(bytes(3000, 2)); // wraps inside the 4096 ring
    model.push(...bytes(3000, 2));
    sb.write(bytes(20_000, 3)); // forces growth from a wrapped ring
    model.push(...bytes(20_000, 3));
    assert.deepEqual(Array.from(sb.snapshotBytes()), model);
  });
});

describe('SendBuffer: property against an array model', () => {
  type Op =
    | { kind: 'write'; n: number; seed: number }
    | { kind: 'ack'; frac: number }
    | { kind: 'copy'; offFrac: number; lenFrac: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), n: fc.integer({ min: 0, max: 9000 }), seed: fc.nat(255) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('copy' as const), offFrac: fc.double({ min: 0, max: 1, noNaN: true }), lenFrac: fc.double({ min: 0, max: 1, noNaN: true }) }),
    },
  );

  it('write, acknowledge and copy agree with a plain array, through wraps and growth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: 40_000 }), fc.array(op, { maxLength: 80 }), (limit, ops) => {
        const sb = new SendBuffer(limit);
        let model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'write') {
            const src = bytes(o.n, o.seed);
            const took = sb.write(src);
            const expect = Math.min(o.n, limit - model.length);
            assert.equal(took, expect, 'backpressure: takes exactly what fits');
            for (let i = 0; i < took; i++) model.push(src[i]!);
          } else if (o.kind === 'ack') {
            const n = Math.floor(o.frac * model.length);
            sb.acknowledge(n);
            model = model.slice(n);
          } else {
            const off = Math.floor(o.offFrac * model.length);
            const n = Math.floor(o.lenFrac * (model.length - off));
            assert.deepEqual(Array.from(copyOf(sb, off, n)), model.slice(off, off + n));
          }
          assert.equal(sb.lengthBytes, model.length);
          assert.equal(sb.freeBytes, limit - model.length);
        }
        assert.deepEqual(Array.from(sb.snapshotBytes()), model);
      }),
      { seed: 2024, numRuns: 300 },
    );
  });
});

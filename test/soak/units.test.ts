// The soak's small parts: durations, seed ranges and shards; the stream checker; the latency histogram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration, parseSeedRange, parseShard, seedsOf } from '../../src/soak/options.js';
import { fillPayload, PAYLOAD_PERIOD, payloadStart, StreamChecker, StreamLedger } from '../../src/soak/stream.js';
import { newHistogram, quantile, record } from '../../src/soak/histogram.js';

test('durations: 30s, 10m, 1h, 1h30m, 250ms; printed back in the same form', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  for (const bad of ['', '30', 's', '10 m', '1d', '-5s', '0s']) assert.throws(() => parseDuration(bad), Error, bad);
  for (const ms of [250, 30_000, 180_000, 5_400_000, 3_723_456]) assert.equal(parseDuration(formatDuration(ms)), ms);
  assert.equal(formatDuration(180_000), '3m');
});

test('seed ranges and shards: seed s belongs to shard s mod N', () => {
  assert.deepEqual(parseSeedRange('3..7'), { from: 3, to: 7 });
  assert.throws(() => parseSeedRange('7..3'));
  assert.deepEqual(parseShard('1/3'), { index: 1, count: 3 });
  assert.throws(() => parseShard('3/3'));
  const range = { from: 1, to: 10 };
  const shards = [0, 1, 2].map((index) => seedsOf(range, { index, count: 3 }));
  assert.deepEqual(shards, [
    [3, 6, 9],
    [1, 4, 7, 10],
    [2, 5, 8],
  ]);
  assert.deepEqual(shards.flat().sort((a, b) => a - b), seedsOf(range));
});

function ledgerWith(sizes: number[]): StreamLedger {
  const l = new StreamLedger(1234);
  for (const [i, s] of sizes.entries()) l.begin(16 + s, i * 10);
  l.writtenBytes = l.plannedBytes;
  return l;
}

function streamOf(l: StreamLedger): Uint8Array {
  const out = new Uint8Array(l.plannedBytes);
  for (let i = 0; i < l.lengths.length; i++) l.fillMessage(i, 0, out.subarray(l.starts[i]!, l.starts[i]! + l.lengths[i]!));
  return out;
}

test('the stream checker accepts the stream in any chunking and times each message', () => {
  const l = ledgerWith([1, 1000, 70_000, 5]);
  const bytes = streamOf(l);
  const seen: number[] = [];
  const c = new StreamChecker(l, 'a->b', (i) => seen.push(i));
  for (let off = 0, step = 1; off < bytes.length; off += step, step = (step * 7) % 4099 || 1) assert.ok(c.check(bytes.subarray(off, Math.min(bytes.length, off + step))));
  assert.equal(c.violation, undefined);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.equal(c.readBytes, l.plannedBytes);
});

test('payload content is the same however it is cut into windows (offsets across the generator period)', () => {
  for (const key of [1, 77, 123456789]) {
    const whole = new Uint8Array(200_000);
    fillPayload(key, 3, 0, whole);
    for (const from of [0, 1, 65_505, 65_520, 65_521, 65_535, 65_536, 131_040, 131_071, 150_000]) {
      for (const len of [1, 15, 16, 1194, 65_536]) {
        if (from + len > whole.length) continue;
        const part = new Uint8Array(len);
        fillPayload(key, 3, from, part);
        assert.deepEqual(part, whole.subarray(from, from + len), `key ${key} from ${from} len ${len}`);
      }
    }
    const one = new Uint8Array(1);
    for (let i = 0; i < whole.length; i += 97) {
      fillPayload(key, 3, i, one);
      assert.equal(one[0], whole[i], `byte ${i}`);
    }
    // The longest windows starting just below the period's end wrap around it: byte by byte, they must agree.
    const start = payloadStart(key, 3);
    const window = new Uint8Array(64 * 1024);
    for (let at = PAYLOAD_PERIOD - 40; at < PAYLOAD_PERIOD; at++) {
      const from = (at - start + PAYLOAD_PERIOD) % PAYLOAD_PERIOD;
      fillPayload(key, 3, from, window);
      for (let i = window.length - 80; i < window.length; i++) {
        fillPayload(key, 3, from + i, one);
        assert.equal(window[i], one[0], `window from ${from}, byte ${i}`);
      }
    }
  }
});

test('the stream checker names the first wrong byte: a flipped bit, a lost chunk, a duplicate, extra bytes', () => {
  const l = ledgerWith([100, 100]);
  const good = streamOf(l);
  const flipped = good.slice();
  flipped[150]! ^= 4;
  let c = new StreamChecker(l, 'x', () => {});
  assert.equal(c.check(flipped), false);
  assert.match(c.violation!.message, /^x: byte 150 \(message 1, offset 34 of 116\)/);

  c = new StreamChecker(l, 'x', () => {});
  c.check(good.subarray(0, 40));
  assert.equal(c.check(good.subarray(60)), false, 'a gap');
  assert.equal(c.violation!.offset, 40);

  c = new StreamChecker(l, 'x', () => {});
  c.check(good.subarray(0, 40));
  assert.equal(c.check(good.subarray(20, 60)), false, 'a duplicate');
  assert.equal(c.violation!.offset, 40);

  c = new StreamChecker(l, 'x', () => {});
  assert.ok(c.check(good));
  assert.equal(c.check(new Uint8Array(3)), false);
  assert.match(c.violation!.message, /beyond the 232 written/);
});

test('histogram quantiles within 1%', () => {
  const h = newHistogram();
  for (let i = 1; i <= 1000; i++) record(h, i);
  assert.ok(Math.abs(quantile(h, 0.5)! - 500) <= 5);
  assert.ok(Math.abs(quantile(h, 0.99)! - 990) <= 10);
  assert.equal(h.maxMs, 1000);
  assert.equal(quantile(newHistogram(), 0.5), undefined);
});

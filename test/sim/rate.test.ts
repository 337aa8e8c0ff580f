// The rate limiter: throughput, serialization delay, tail drop and bufferbloat. Service is deterministic, so
// most of these are exact (to floating point), not statistical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blast } from '../support/sim-nodes.js';

// 1250-byte datagrams at 1 Mbit/s: 10 ms of serialization each.
const SIZE = 1250;
const RATE = 1e6;
const SERIAL_MS = (SIZE * 8 * 1000) / RATE;

test('below the rate: no queueing, each datagram takes delay + size * 8 / rate', () => {
  const r = blast({ delayMs: 20, rateBitsPerS: RATE }, { count: 500, intervalMs: 20, size: SIZE });
  assert.equal(r.receiver.arrivals.length, 500);
  for (const a of r.receiver.arrivals) assert.ok(Math.abs(a.atMs - a.sentAtMs - (20 + SERIAL_MS)) < 1e-9);
  assert.equal(r.link.stats.maxQueueBytes, SIZE);
});

test('offered twice the rate: delivered throughput is the rate, the excess is tail-dropped as queue-full', () => {
  // A datagram every 5 ms for 20 s: 2 Mbit/s offered into 1 Mbit/s with room for 20 datagrams.
  const count = 4000;
  const r = blast({ delayMs: 5, rateBitsPerS: RATE, queuePackets: 20 }, { count, intervalMs: 5, size: SIZE });
  const arr = r.receiver.arrivals;
  const first = arr[0]!.atMs;
  const last = arr[arr.length - 1]!.atMs;
  // Back to back once the queue is busy: (n - 1) datagrams in (last - first) ms.
  const bps = ((arr.length - 1) * SIZE * 8) / ((last - first) / 1000);
  assert.ok(Math.abs(bps / RATE - 1) < 0.001, `throughput ${bps}`);
  // Half the offered load fits (plus the queue's worth at the end).
  assert.ok(Math.abs(arr.length - (count / 2 + 20)) <= 2, `delivered ${arr.length}`);
  assert.deepEqual(r.link.stats.dropped, { 'queue-full': count - arr.length });
  assert.ok(arr.every((a) => a.intact));
  // FIFO: in order.
  for (let i = 1; i < arr.length; i++) assert.ok(arr[i]!.seq > arr[i - 1]!.seq);
});

test('bufferbloat: the queueing delay grows to queueBytes * 8 / rate and stays there', () => {
  const queueBytes = 100_000; // 800 ms at 1 Mbit/s
  const r = blast({ delayMs: 10, rateBitsPerS: RATE, queueBytes }, { count: 2000, intervalMs: 5, size: SIZE });
  const sojourn = r.receiver.arrivals.map((a) => a.atMs - a.sentAtMs - 10);
  const maxWait = (queueBytes * 8 * 1000) / RATE;
  // Fills at 1 datagram per 10 ms net: 80 datagrams in the queue after ~800 ms, waits growing 5 ms per datagram.
  assert.ok(Math.abs(sojourn[0]! - SERIAL_MS) < 1e-9);
  for (let i = 1; i < 80; i++) assert.ok(sojourn[i]! > sojourn[i - 1]!, `growing at ${i}`);
  const steady = sojourn.slice(200);
  assert.ok(Math.max(...sojourn) <= maxWait + 1e-9, `max ${Math.max(...sojourn)}`);
  // Once full, every wait is within one datagram's serialization of the bound.
  assert.ok(steady.every((w) => w > maxWait - 2 * SERIAL_MS), `min steady ${Math.min(...steady)}`);
  assert.ok(r.link.stats.maxQueueBytes <= queueBytes && r.link.stats.maxQueueBytes > queueBytes - SIZE);
  assert.ok(r.link.stats.dropped['queue-full']! > 900);
});

test('queueBytes and queuePackets both bound the queue; without either it holds 1000 datagrams', () => {
  // A burst of 2000 datagrams at one instant (interval 0).
  const both = blast({ delayMs: 1, rateBitsPerS: RATE, queueBytes: 50 * SIZE, queuePackets: 30 }, { count: 2000, intervalMs: 0, size: SIZE });
  assert.equal(both.receiver.arrivals.length, 30);
  const bytes = blast({ delayMs: 1, rateBitsPerS: RATE, queueBytes: 50 * SIZE }, { count: 2000, intervalMs: 0, size: SIZE });
  assert.equal(bytes.receiver.arrivals.length, 50);
  const dflt = blast({ delayMs: 1, rateBitsPerS: RATE }, { count: 2000, intervalMs: 0, size: SIZE });
  assert.equal(dflt.receiver.arrivals.length, 1000);
  assert.equal(dflt.link.stats.dropped['queue-full'], 1000);
});

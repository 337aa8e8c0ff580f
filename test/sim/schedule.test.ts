// Link parameters that change on a schedule, and a link's config replaced while a run is under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from '../../src/sim/index.js';
import { blast, missing, Probe } from '../support/sim-nodes.js';

test('a schedule changes parameters at the given times (for datagrams entering from then on)', () => {
  const r = blast(
    {
      delayMs: 10,
      schedule: [
        { atMs: 5000, set: { lossRate: 1 } },
        { atMs: 6000, set: { lossRate: 0 } },
        { atMs: 7000, set: { delayMs: 50 } },
      ],
    },
    { count: 10_000, intervalMs: 1 },
  );
  assert.deepEqual(missing(10_000, r.receiver.arrivals), Array.from({ length: 1000 }, (_, i) => 5000 + i));
  for (const a of r.receiver.arrivals) assert.equal(a.atMs - a.sentAtMs, a.sentAtMs < 7000 ? 10 : 50);
  assert.deepEqual(r.link.stats.dropped, { loss: 1000 });
  assert.equal(r.link.config.delayMs, 50);
  assert.equal(r.link.config.lossRate, 0);
});

test('entries may come in any order; the config is visible to a callback at the scheduled time', () => {
  const sim = new Simulator({ seed: 1 });
  const a = sim.addHost({ name: 'a' }, new Probe());
  const b = sim.addHost({ name: 'b' }, new Probe());
  const [ab] = sim.connect(a, b, {
    delayMs: 1,
    schedule: [
      { atMs: 3000, set: { rateBitsPerS: 2e6 } },
      { atMs: 1000, set: { rateBitsPerS: 1e6, queuePackets: 5 } },
    ],
  });
  const seen: Array<[number, number | undefined]> = [];
  for (const t of [999, 1000, 2999, 3000]) sim.at(t, (now) => seen.push([now, ab.config.rateBitsPerS]));
  sim.run(5000);
  assert.deepEqual(seen, [[999, undefined], [1000, 1e6], [2999, 1e6], [3000, 2e6]]);
  assert.equal(ab.config.queuePackets, 5);
});

test('the rate doubles at a scheduled time and so does the delivered throughput', () => {
  const size = 1250;
  const r = blast(
    { delayMs: 5, rateBitsPerS: 1e6, queuePackets: 10, schedule: [{ atMs: 10_000, set: { rateBitsPerS: 2e6 } }] },
    { count: 8000, intervalMs: 2.5, size }, // 4 Mbit/s offered
  );
  const rate = (from: number, to: number) => {
    const arr = r.receiver.arrivals.filter((a) => a.atMs >= from && a.atMs < to);
    return (arr.length * size * 8) / ((to - from) / 1000);
  };
  assert.ok(Math.abs(rate(2000, 9000) / 1e6 - 1) < 0.01, `before: ${rate(2000, 9000)}`);
  assert.ok(Math.abs(rate(11_000, 19_000) / 2e6 - 1) < 0.01, `after: ${rate(11_000, 19_000)}`);
});

test('assigning link.config mid-run takes effect at once and restarts its schedule; bad values are refused', () => {
  const r = (() => {
    const sim = new Simulator({ seed: 1 });
    const rx = new Probe();
    const b = sim.addHost({ name: 'b' }, rx);
    const tx = new Probe({ to: b.addresses[0]!, count: 4000, intervalMs: 1 });
    const a = sim.addHost({ name: 'a' }, tx);
    const [ab] = sim.connect(a, b, { delayMs: 10, schedule: [{ atMs: 3500, set: { lossRate: 1 } }] });
    sim.at(1000, () => (ab.config = { delayMs: 10, lossRate: 1, schedule: [{ atMs: 2000, set: { lossRate: 0 } }] }));
    sim.run(10_000);
    return { rx, ab };
  })();
  // Lost from 1000 to 2000 only: the replaced config's schedule ran, the old one's 3500 entry did not.
  assert.deepEqual(missing(4000, r.rx.arrivals), Array.from({ length: 1000 }, (_, i) => 1000 + i));
  assert.throws(() => (r.ab.config = { delayMs: 10, lossRate: 2 }), /a->b\.lossRate must be a number in \[0, 1\], got 2/);
});

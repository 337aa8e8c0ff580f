// The simulator's perturbations (buggify) stay within what the seam allows: a timer fires late, never early; a
// burst hands a host several datagrams in one turn, none lost, none reordered, none early. The same seed gives
// the same perturbations. And heal(): after it, a link delivers every datagram once, intact, in order, on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Remote, Transmit } from '../../src/core/index.js';
import { Buggify, Simulator, type SansIoNode } from '../../src/sim/index.js';
import { missing, Probe } from '../support/sim-nodes.js';

/** A node whose timer is due every 7 ms; records how late each firing came. */
class Ticker implements SansIoNode {
  readonly lateness: number[] = [];
  private next = 7;
  handleDatagram(): void {}
  pollTransmit(): Transmit | undefined {
    return undefined;
  }
  pollTimeoutMs(): number | undefined {
    return this.next <= 20_000 ? this.next : undefined;
  }
  handleTimeout(nowMs: number): void {
    if (nowMs < this.next) {
      this.lateness.push(nowMs - this.next);
      return;
    }
    this.lateness.push(nowMs - this.next);
    this.next += 7;
  }
}

function tick(buggify?: Buggify): Ticker {
  const sim = new Simulator({ seed: 5, ...(buggify ? { buggify } : {}) });
  const t = new Ticker();
  sim.addHost({ name: 't' }, t);
  sim.run(30_000);
  return t;
}

test('timer-late: timers fire late sometimes, never early; without buggify exactly on time', () => {
  const plain = tick();
  assert.ok(plain.lateness.length > 2000);
  assert.ok(plain.lateness.every((l) => l === 0));
  const b = new Buggify(9, 'all');
  const late = tick(b);
  assert.ok(late.lateness.every((l) => l >= 0), 'a timer fired early');
  // About 5% of the timers armed are stretched; a long stretch makes the ticks due meanwhile late too.
  const fired = b.fired['timer-late'];
  assert.ok(fired > 50 && fired < 300, `${fired} stretched of ${late.lateness.length}`);
  assert.ok(late.lateness.filter((l) => l > 0).length >= fired);
  // A stretch is at most 250 ms; the ticks due meanwhile catch up one per turn, so lateness can add up a little.
  assert.ok(Math.max(...late.lateness) < 1000);
  assert.deepEqual(tick(new Buggify(9, 'all')).lateness, late.lateness, 'the same seed, the same perturbations');
});

function bursts(buggify?: Buggify) {
  const sim = new Simulator({ seed: 3, ...(buggify ? { buggify } : {}) });
  const receiver = new Probe();
  const perTurn: number[] = [];
  let inTurn = 0;
  const rNode: SansIoNode = {
    handleDatagram: (now: number, from: Remote, bytes: Uint8Array) => {
      inTurn++;
      receiver.handleDatagram(now, from, bytes);
    },
    pollTransmit: () => undefined,
    pollTimeoutMs: () => undefined,
    handleTimeout: () => {},
  };
  const rHost = sim.addHost({ name: 'receiver', ipv4: '10.0.0.2', port: 9 }, rNode, () => {
    perTurn.push(inTurn);
    inTurn = 0;
  });
  const sender = new Probe({ count: 5000, intervalMs: 1, size: 64, to: rHost.addresses[0] });
  const sHost = sim.addHost({ name: 'sender', ipv4: '10.0.0.1', port: 7 }, sender);
  sim.connect(sHost, rHost, { delayMs: 10, preserveOrder: true });
  sim.run(10_000);
  return { receiver, perTurn };
}

test('datagram-burst: several datagrams in one turn, every one delivered, in order, never early', () => {
  const plain = bursts();
  assert.ok(plain.perTurn.every((n) => n === 1));
  const b = new Buggify(4, 'all');
  const { receiver, perTurn } = bursts(b);
  assert.deepEqual(missing(5000, receiver.arrivals), []);
  assert.equal(receiver.arrivals.length, 5000);
  assert.deepEqual(
    receiver.arrivals.map((a) => a.seq),
    [...Array(5000).keys()],
  );
  assert.ok(receiver.arrivals.every((a) => a.intact && a.atMs >= a.sentAtMs + 10));
  const big = perTurn.filter((n) => n > 1);
  // A burst's window (0.2-20 ms) may catch only its first datagram at 1 per ms.
  assert.ok(big.length > 10 && big.length <= b.fired['datagram-burst'], `${big.length} bursts, ${b.fired['datagram-burst']} fired`);
  assert.ok(Math.max(...big) > 3);
});

test('a seeded Buggify turns sites on per seed; stop() ends every perturbation', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 32; seed++) seen.add(new Buggify(seed).sites.join(','));
  assert.ok(seen.size > 4, [...seen].join(' | '));
  const b = new Buggify(1, 'all');
  let fired = 0;
  for (let i = 0; i < 1000; i++) if (b.fires('slow-reactions')) fired++;
  assert.ok(fired > 20 && fired < 100, `${fired} of 1000 at 5%`);
  b.stop();
  for (let i = 0; i < 1000; i++) assert.equal(b.fires('slow-reactions'), false);
});

test('heal(): from then on no loss, damage, duplication, reordering, jitter, outage or partition', () => {
  const sim = new Simulator({ seed: 11 });
  const receiver = new Probe();
  const rHost = sim.addHost({ name: 'receiver', ipv4: '10.0.0.2', port: 9 }, receiver);
  const sender = new Probe({ count: 4000, intervalMs: 1, size: 80, to: rHost.addresses[0] });
  const sHost = sim.addHost({ name: 'sender', ipv4: '10.0.0.1', port: 7 }, sender);
  const [link] = sim.connect(sHost, rHost, {
    delayMs: 20,
    jitter: { kind: 'uniform', maxMs: 30 },
    lossRate: 0.3,
    duplicateRate: 0.2,
    corruptRate: 0.1,
    truncateRate: 0.05,
    reorderRate: 0.1,
    outages: [{ fromMs: 2500, toMs: 3000 }],
    schedule: [{ atMs: 3500, set: { lossRate: 1 } }],
    rateBitsPerS: 1e7,
  });
  sim.partition(sHost, rHost, 800, 2500);
  sim.at(1000, () => sim.heal());
  sim.run(10_000);
  const before = receiver.arrivals.filter((a) => a.sentAtMs < 800);
  assert.ok(before.length < 700 && before.some((a) => !a.intact), 'the impairments worked before the heal');
  const after = receiver.arrivals.filter((a) => a.sentAtMs >= 1000);
  assert.equal(after.length, 3000);
  assert.ok(after.every((a, i) => a.intact && a.seq === 1000 + i), 'every datagram once, intact, in order');
  assert.ok(after.every((a) => a.atMs - a.sentAtMs >= 20 && a.atMs - a.sentAtMs < 20.1), 'the delay and the rate only');
  assert.deepEqual(link.config, { delayMs: 20, rateBitsPerS: 1e7 });
});

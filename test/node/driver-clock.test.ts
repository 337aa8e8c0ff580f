// The driver reads the clock once per loop turn of datagrams. Other input in the same turn must not let the
// endpoint see time go back. Here the other input is writes made from node:net callbacks, which run in the same
// poll phase as the datagrams of the driver's two sockets (IPv4 and IPv6).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, connect as netConnect, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Driver, createServer, type Server } from '../../src/node/index.js';
import type { Connection } from '../../src/core/index.js';

const BYTES_EACH = 4 << 20;

/** Record every time the endpoint is given, in order. */
function recordTimes(driver: Driver): number[] {
  const times: number[] = [];
  const ep = driver.endpoint;
  for (const name of ['handleDatagram', 'handleTimeout', 'pollTransmit'] as const) {
    const original = ep[name].bind(ep) as (nowMs: number, ...rest: unknown[]) => unknown;
    (ep as unknown as Record<string, unknown>)[name] = (nowMs: number, ...rest: unknown[]) => {
      times.push(nowMs);
      return original(nowMs, ...rest);
    };
  }
  return times;
}

it('a datagram after another input in the same loop turn reads the clock again', async () => {
  const driver = new Driver({ seed: 3 });
  await driver.bind({ type: 'udp4', address: '127.0.0.1' });
  const times = recordTimes(driver);
  const deliver = (driver as unknown as { onMessage(msg: Buffer, address: string, port: number): void }).onMessage.bind(driver);
  const realNow = performance.now;
  let fakeMs = 1000;
  performance.now = () => fakeMs;
  try {
    // All in one synchronous stretch, as in one poll phase: a datagram, an application call, a datagram.
    deliver(Buffer.from('not a datagram'), '127.0.0.1', 9);
    fakeMs = 1005;
    deliver(Buffer.from('same batch'), '127.0.0.1', 9);
    fakeMs = 1010;
    driver.act(() => undefined);
    fakeMs = 1020;
    deliver(Buffer.from('after the call'), '127.0.0.1', 9);
  } finally {
    performance.now = realNow;
  }
  // The second datagram shares the batch's time; the third, after the call, reads the clock again.
  assert.deepEqual(times, [1000, 1000, 1010, 1020]);
  await driver.close();
});

/** A node:net source on loopback whose 'data' callbacks write into `conn`, backpressure kept in `pending`. */
async function feedFromTcp(driver: Driver, conn: Connection): Promise<() => void> {
  const source = createNetServer((s) => {
    const chunk = Buffer.alloc(16 << 10, 3);
    for (let sent = 0; sent < BYTES_EACH; sent += chunk.length) s.write(chunk);
    s.end();
  });
  source.listen(0, '127.0.0.1');
  await once(source, 'listening');
  const pending: Buffer[] = [];
  const push = () =>
    driver.act(() => {
      while (pending.length > 0) {
        const head = pending[0]!;
        const n = conn.write(head);
        if (n < head.length) {
          pending[0] = head.subarray(n);
          return;
        }
        pending.shift();
      }
    });
  driver.on('event', (ev) => {
    if (ev.type === 'writable' && ev.connection === conn) push();
  });
  const tcp = netConnect((source.address() as AddressInfo).port, '127.0.0.1');
  tcp.on('data', (d: Buffer) => {
    pending.push(d);
    push();
  });
  return () => {
    tcp.destroy();
    source.close();
  };
}

it('the endpoint never sees time go back while datagrams on two sockets and other I/O interleave', async () => {
  const server: Server = createServer({ ipv6: 'separate' }, (s) => s.on('error', () => undefined).pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = server.address()!.port;

  const driver = new Driver({ seed: 7 });
  await driver.bind({ type: 'udp4', address: '127.0.0.1' });
  await driver.bind({ type: 'udp6', address: '::1' });
  const times = recordTimes(driver);
  const ep = driver.endpoint;

  const echoed = new Map<Connection, number>();
  let connected = 0;
  const bothConnected = new Promise<void>((resolve) => {
    driver.on('event', (ev) => {
      if (ev.type === 'connected' && ++connected === 2) resolve();
      if (ev.type === 'readable') echoed.set(ev.connection, (echoed.get(ev.connection) ?? 0) + ev.connection.read().length);
    });
  });
  const conns = driver.act((now) => ['127.0.0.1', '::1'].map((address) => ep.connect(now, { address, port })));
  await bothConnected;
  const stops = await Promise.all(conns.map((c) => feedFromTcp(driver, c)));
  const done = () => conns.every((c) => echoed.get(c) === BYTES_EACH);
  for (let t = 0; t < 2000 && !done(); t++) await new Promise((r) => setTimeout(r, 5));

  assert.deepEqual(conns.map((c) => echoed.get(c)), [BYTES_EACH, BYTES_EACH]);
  let backwards = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) backwards++;
  assert.equal(backwards, 0, `time went back ${backwards} times in ${times.length} calls`);

  for (const stop of stops) stop();
  // Resets, so the server is not left waiting for these connections.
  driver.act(() => conns.forEach((c) => c.abort()));
  await driver.close();
  await new Promise<void>((r) => server.close(() => r()));
});

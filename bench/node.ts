// Node driver benchmarks over loopback, each against a baseline measured in the same run: goodput of one
// connection vs the raw node:dgram ceiling (same payload size, no protocol) and vs node:net TCP; small-message
// round trips vs node:net; memory per idle connection on a server.
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from '../src/node/index.js';
import { printTable } from './table.js';

const MB = 1 << 20;
const PEER = fileURLToPath(new URL('./node-peer.js', import.meta.url));

async function peer(role: string, execArgv: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(PEER, [role], { execArgv });
  const [m] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: m.port };
}

async function report<T>(child: ChildProcess, ask: object): Promise<T> {
  child.send(ask);
  const [m] = (await once(child, 'message')) as [T];
  return m;
}

function stop(child: ChildProcess): void {
  child.disconnect();
}

/** Raw dgram: as many 1232-byte datagrams as the sender can push, yielding every 32 (PERF-NOTES). */
async function rawDgram(totalBytes: number): Promise<number> {
  const { child, port } = await peer('dgram-sink');
  const s = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  s.connect(port, '127.0.0.1');
  await once(s, 'connect');
  const payload = Buffer.alloc(1232, 7);
  let sent = 0;
  while (sent < totalBytes) {
    for (let i = 0; i < 32 && sent < totalBytes; i++, sent += payload.length) s.send(payload);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  const r = await report<{ bytes: number; ms: number }>(child, { report: true });
  s.close();
  stop(child);
  return r.bytes / MB / (r.ms / 1000);
}

async function pumpStream(s: NodeJS.WritableStream, totalBytes: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  while (sent < totalBytes) {
    sent += chunk.length;
    if (!s.write(chunk)) await once(s, 'drain');
  }
  s.end();
}

async function stevensBulk(totalBytes: number): Promise<{ mbps: number; retransmitted: number }> {
  const { child, port } = await peer('stevens-sink');
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  s.resume();
  await once(s, 'connect');
  await pumpStream(s, totalBytes);
  await once(s, 'end');
  const r = await report<{ bytes: number; ms: number }>(child, { report: true });
  const retransmitted = s.stats()?.segmentsRetransmitted ?? 0;
  s.destroy();
  stop(child);
  return { mbps: r.bytes / MB / (r.ms / 1000), retransmitted };
}

async function netBulk(totalBytes: number): Promise<number> {
  const { child, port } = await peer('net-sink');
  const s = netConnect(port, '127.0.0.1');
  s.resume();
  await once(s, 'connect');
  await pumpStream(s, totalBytes);
  await once(s, 'end');
  const r = await report<{ bytes: number; ms: number }>(child, { report: true });
  s.destroy();
  stop(child);
  return r.bytes / MB / (r.ms / 1000);
}

/** 32-byte request/response round trips, one at a time. */
async function roundTrips(kind: 'stevens' | 'net', count: number): Promise<{ p50: number; p99: number }> {
  const { child, port } = await peer(kind === 'stevens' ? 'stevens-echo' : 'net-echo');
  let s: Socket | ReturnType<typeof netConnect>;
  if (kind === 'stevens') {
    s = connect({ host: '127.0.0.1', port, noDelay: true });
  } else {
    s = netConnect(port, '127.0.0.1');
    s.setNoDelay(true);
  }
  await once(s, 'connect');
  const msg = Buffer.alloc(32, 1);
  const rtts: number[] = [];
  let got = 0;
  let resolveOne: (() => void) | undefined;
  s.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= 32) {
      got -= 32;
      resolveOne?.();
    }
  });
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const done = new Promise<void>((r) => (resolveOne = r));
    s.write(msg);
    await done;
    rtts.push((performance.now() - t0) * 1000);
  }
  s.destroy();
  stop(child);
  rtts.sort((a, b) => a - b);
  return { p50: rtts[Math.floor(rtts.length / 2)]!, p99: rtts[Math.floor(rtts.length * 0.99)]! };
}

async function idleMemory(connections: number): Promise<{ perConnectionBytes: number; connections: number }> {
  const { child, port } = await peer('stevens-idle', ['--expose-gc']);
  const before = await report<{ heapUsed: number; arrayBuffers: number }>(child, { memory: true });
  const sockets: Socket[] = [];
  for (let i = 0; i < connections; i += 50) {
    const batch = Array.from({ length: Math.min(50, connections - i) }, () => {
      const s = connect({ host: '127.0.0.1', port, keepaliveIdleMs: 0 });
      s.on('error', () => undefined);
      sockets.push(s);
      return once(s, 'connect');
    });
    await Promise.all(batch);
  }
  await new Promise((r) => setTimeout(r, 300));
  const after = await report<{ heapUsed: number; arrayBuffers: number; connections: number }>(child, { memory: true });
  for (const s of sockets) s.destroy();
  stop(child);
  const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  return { perConnectionBytes: grown / after.connections, connections: after.connections };
}

export async function runNodeBench(quick: boolean): Promise<void> {
  const bytes = (quick ? 32 : 128) * MB;
  const raw = await rawDgram(bytes);
  const stevens = await stevensBulk(bytes);
  const net = await netBulk(bytes);
  printTable(`Node driver: one connection over loopback, ${bytes / MB} MB, sender and receiver in two processes`, ['what', 'MB/s', 'vs raw dgram', 'vs node:net'], [
    ['raw node:dgram, 1232-byte datagrams, no protocol (ceiling)', raw, 1, raw / net],
    [`stevens (${stevens.retransmitted} segments retransmitted)`, stevens.mbps, stevens.mbps / raw, stevens.mbps / net],
    ['node:net (the kernel TCP)', net, net / raw, 1],
  ]);
  const n = quick ? 500 : 2000;
  const rs = await roundTrips('stevens', n);
  const rn = await roundTrips('net', n);
  printTable(`Node driver: ${n} round trips of 32 bytes over loopback (µs)`, ['what', 'p50', 'p99', 'p50 vs node:net'], [
    ['stevens (noDelay)', rs.p50, rs.p99, rs.p50 / rn.p50],
    ['node:net (setNoDelay)', rn.p50, rn.p99, 1],
  ]);
  const mem = await idleMemory(quick ? 200 : 1000);
  printTable('Node driver: idle connections held by one server', ['connections', 'bytes per connection (heap + array buffers)', 'target'], [[mem.connections, mem.perConnectionBytes, 16 * 1024]]);
}

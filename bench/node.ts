// Node driver benchmarks over loopback, each against a baseline measured in the same run: goodput of one
// connection vs the raw node:dgram ceiling (same payload size, no protocol) and vs node:net TCP; small-message
// round trips vs node:net; memory per idle connection on a server.
import { fork, type ChildProcess } from 'node:child_process';
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

type Peer = Awaited<ReturnType<typeof peer>>;
type Kind = 'dgram' | 'stevens' | 'net';

/**
 * One transfer from a source process to a sink process: the sink's count is zeroed first, and it measures from
 * its first byte to its last.
 */
async function transfer(source: Peer, sink: Peer, kind: Kind, bytes: number): Promise<{ mbps: number; retransmitted: number }> {
  await report(sink.child, { reset: true });
  const done = await report<{ retransmitted: number }>(source.child, { send: { kind, port: sink.port, bytes } });
  const r = await report<{ bytes: number; ms: number }>(sink.child, { report: true });
  return { mbps: r.bytes / MB / (r.ms / 1000), retransmitted: done.retransmitted };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

/**
 * Goodput of one connection against raw dgram and node:net. Every sender and every receiver is a process of its
 * own, kept for the whole measurement (a sender flooding raw datagrams leaves Node's dgram code optimized for
 * that pattern, which slowed a stevens sender sharing its process by a quarter). A warm-up transfer of each kind
 * comes first (optimized code on both sides, as in a long-lived server; its goodput is shown too), then `trials`
 * rounds of raw, stevens, node:net in turn, so drift on this shared machine hits all three alike. Medians are
 * compared.
 */
async function goodput(quick: boolean): Promise<void> {
  const bytes = (quick ? 64 : 128) * MB;
  // Fresh processes reach steady goodput only after 300-500 MB (about 110 MB/s over the first 64 MB, 150-190
  // from there; the same with V8's compiler made synchronous or a larger young generation).
  const warmBytes = (quick ? 256 : 512) * MB;
  const trials = quick ? 3 : 5;
  const kinds: Kind[] = ['dgram', 'stevens', 'net'];
  const pairs = await Promise.all(
    kinds.map(async (kind) => {
      const [source, sink] = await Promise.all([peer('source'), peer(`${kind}-sink`)]);
      return { kind, source, sink, mbps: [] as number[], retransmitted: 0, coldMbps: 0 };
    }),
  );
  for (const p of pairs) p.coldMbps = (await transfer(p.source, p.sink, p.kind, warmBytes)).mbps;
  for (let t = 0; t < trials; t++) {
    for (const p of pairs) {
      const r = await transfer(p.source, p.sink, p.kind, bytes);
      p.mbps.push(r.mbps);
      p.retransmitted += r.retransmitted;
    }
  }
  for (const p of pairs) {
    stop(p.source.child);
    stop(p.sink.child);
  }
  const [raw, stevens, net] = pairs;
  const [mr, ms, mn] = [median(raw!.mbps), median(stevens!.mbps), median(net!.mbps)];
  printTable(
    `Node driver: one connection over loopback, ${bytes / MB} MB per trial, median of ${trials} (after a ${warmBytes / MB} MB warm-up), sender and receiver in two processes`,
    ['what', 'MB/s', 'range', 'vs raw dgram', 'vs node:net'],
    [
      ['raw node:dgram, 1232-byte datagrams, no protocol (ceiling)', mr, range(raw!.mbps), 1, mr / mn],
      [`stevens, 1232-byte datagrams (${stevens!.retransmitted} segments retransmitted)`, ms, range(stevens!.mbps), ms / mr, ms / mn],
      ['node:net (the kernel TCP)', mn, range(net!.mbps), mn / mr, 1],
      [`stevens cold: the warm-up, ${warmBytes / MB} MB from fresh processes`, stevens!.coldMbps, '', stevens!.coldMbps / mr, stevens!.coldMbps / mn],
    ],
  );
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
  await goodput(quick);
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

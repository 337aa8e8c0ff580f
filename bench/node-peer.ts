// The far side of the Node benchmarks, run as a child process (fork) so sender and receiver each have a core,
// as on a real network. Sinks count bytes from the first to the last since the last reset; a source sends when
// asked, one kind of traffic per process. Roles: source, dgram-sink, stevens-sink, net-sink, stevens-echo,
// net-echo, stevens-idle.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { connect, createServer } from '../src/node/index.js';

const role = process.argv[2];
const send = (m: unknown) => process.send!(m);
process.on('disconnect', () => process.exit(0));

function sinkReport(): { onBytes: (n: number) => void } {
  let bytes = 0;
  let first = 0;
  let last = 0;
  process.on('message', (m: { report?: boolean; reset?: boolean }) => {
    if (m.report) send({ bytes, ms: last - first });
    if (m.reset) {
      bytes = 0;
      send({ reset: true });
    }
  });
  return {
    onBytes: (n) => {
      const now = performance.now();
      if (bytes === 0) first = now;
      bytes += n;
      last = now;
    },
  };
}

const RAW_PAYLOAD = Buffer.alloc(1232, 7);

/** Raw dgram: as many 1232-byte datagrams as the sender can push, yielding every 32 (PERF-NOTES). */
async function sendDgram(port: number, totalBytes: number): Promise<void> {
  const udp = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  udp.connect(port, '127.0.0.1');
  await once(udp, 'connect');
  let sent = 0;
  while (sent < totalBytes) {
    for (let i = 0; i < 32 && sent < totalBytes; i++, sent += RAW_PAYLOAD.length) udp.send(RAW_PAYLOAD);
    await new Promise((r) => setImmediate(r));
  }
  // The last datagrams reach the sink.
  await new Promise((r) => setTimeout(r, 200));
  udp.close();
}

/** On a connection being opened: write totalBytes in 64 KiB chunks, half-close, and wait for the sink's FIN. */
async function bulk(s: NodeJS.ReadWriteStream, totalBytes: number): Promise<void> {
  s.resume();
  await once(s, 'connect');
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let sent = 0; sent < totalBytes; sent += chunk.length) {
    if (!s.write(chunk)) await once(s, 'drain');
  }
  s.end();
  await once(s, 'end');
}

/** One stevens connection; returns the segments it retransmitted. */
async function sendStevens(port: number, totalBytes: number): Promise<number> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await bulk(s, totalBytes);
  const retransmitted = s.stats()?.segmentsRetransmitted ?? 0;
  s.destroy();
  return retransmitted;
}

async function sendNet(port: number, totalBytes: number): Promise<void> {
  const s = netConnect(port, '127.0.0.1');
  await bulk(s, totalBytes);
  s.destroy();
}

if (role === 'source') {
  process.on('message', async (m: { send?: { kind: 'dgram' | 'stevens' | 'net'; port: number; bytes: number } }) => {
    if (!m.send) return;
    const { kind, port, bytes } = m.send;
    let retransmitted = 0;
    if (kind === 'dgram') await sendDgram(port, bytes);
    else if (kind === 'stevens') retransmitted = await sendStevens(port, bytes);
    else await sendNet(port, bytes);
    send({ retransmitted });
  });
  send({ port: 0 });
} else if (role === 'dgram-sink') {
  const r = sinkReport();
  const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  s.on('message', (m) => r.onBytes(m.length));
  s.bind(0, '127.0.0.1', () => send({ port: s.address().port }));
} else if (role === 'stevens-sink') {
  const r = sinkReport();
  const server = createServer({ idleTimeoutMs: 0 }, (s) => {
    s.on('data', (d: Buffer) => r.onBytes(d.length));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => send({ port: server.address()!.port }));
} else if (role === 'net-sink') {
  const r = sinkReport();
  const server = createNetServer((s) => {
    s.on('data', (d) => r.onBytes(d.length));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => send({ port: (server.address() as { port: number }).port }));
} else if (role === 'stevens-echo') {
  const server = createServer({ idleTimeoutMs: 0, noDelay: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1', () => send({ port: server.address()!.port }));
} else if (role === 'net-echo') {
  const server = createNetServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1', () => send({ port: (server.address() as { port: number }).port }));
} else if (role === 'stevens-idle') {
  // Reports its memory when asked, so the parent can divide the growth by the connections it opened.
  const server = createServer({ idleTimeoutMs: 0 }, (s) => s.on('error', () => undefined));
  process.on('message', (m: { memory?: boolean }) => {
    if (m.memory) {
      globalThis.gc?.();
      const u = process.memoryUsage();
      send({ heapUsed: u.heapUsed, arrayBuffers: u.arrayBuffers, rss: u.rss, connections: server.connections });
    }
  });
  server.listen(0, '127.0.0.1', () => send({ port: server.address()!.port }));
} else {
  throw new Error(`unknown role ${role}`);
}

// The far side of the Node benchmarks, run as a child process (fork) so sender and receiver each have a core,
// as on a real network. Roles: dgram-sink, stevens-sink, net-sink, stevens-echo, net-echo, stevens-idle.
import { createSocket } from 'node:dgram';
import { createServer as createNetServer } from 'node:net';
import { createServer } from '../src/node/index.js';

const role = process.argv[2];
const send = (m: unknown) => process.send!(m);
process.on('disconnect', () => process.exit(0));

function sinkReport(): { onBytes: (n: number) => void } {
  let bytes = 0;
  let first = 0;
  let last = 0;
  process.on('message', (m: { report?: boolean }) => {
    if (m.report) send({ bytes, ms: last - first });
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

if (role === 'dgram-sink') {
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

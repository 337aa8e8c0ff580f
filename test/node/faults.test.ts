// Bad input and faults against a real server on loopback: garbage, a SYN flood from many ports, a peer that
// vanishes mid-transfer. Each is counted (and logged with plain addresses), none crashes the process, and a
// transfer running alongside is not disturbed.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, createServer, type Server, type ServerOptions, type Socket } from '../../src/node/index.js';
import { wire } from '../../src/core/index.js';
import { patternBytes } from '../../src/sim/bulk.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function startServer(opts: Parameters<typeof createServer>[0], onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(opts, onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address()!.port };
}

function close(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

it('garbage and a SYN flood from many ports are counted and logged; a transfer alongside stays intact', async () => {
  const log: string[] = [];
  const { server, port } = await startServer({ log: (l: string) => log.push(l), logLimitPerS: 1000, backlog: 32 }, (s) => s.on('error', () => undefined).pipe(s));
  const data = patternBytes(9, 2 << 20);
  const client = connect({ host: '127.0.0.1', port });
  await once(client, 'connect');
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  const ended = once(client, 'end');
  client.end(data);

  const attacker = createSocket('udp4');
  attacker.bind(0, '127.0.0.1');
  await once(attacker, 'listening');
  const from = attacker.address().port;
  // Garbage: random bytes, and valid-looking datagrams with a bad CRC.
  for (let i = 0; i < 300; i++) attacker.send(randomBytes(1 + (i % 200)), port, '127.0.0.1');
  // A SYN flood: 200 SYNs from as many TCP source ports, all on one UDP address.
  for (let p = 0; p < 200; p++) {
    const syn = wire.encodeSegmentDatagram({ srcPort: 20000 + p, dstPort: port, seq: p * 1000, ack: 0, flags: wire.SYN, window: 65535, checksum: 0, urgentPointer: 0, options: { mss: 1206 }, payload: new Uint8Array(0) });
    attacker.send(syn, port, '127.0.0.1');
  }
  // A new honest client during the flood still gets in (past the backlog, through a SYN cookie).
  const late = connect({ host: '127.0.0.1', port, connectTimeoutMs: 3000 });
  await once(late, 'connect');
  late.destroy();
  await ended;
  assert.equal(sha(Buffer.concat(chunks)), sha(data), 'the honest transfer is intact');
  await new Promise((r) => setTimeout(r, 100));
  const drops = server.stats()!.endpoint.drops;
  const garbage = (drops['bad-crc'] ?? 0) + (drops['short'] ?? 0) + (drops['bad-version'] ?? 0) + (drops['bad-type'] ?? 0);
  assert.ok(garbage >= 290, `garbage drops counted: ${JSON.stringify(drops)}`);
  assert.ok(server.stats()!.endpoint.synCookiesSent >= 150, `SYNs over the backlog answered with cookies: ${JSON.stringify(server.stats()!.endpoint)}`);
  assert.equal(drops['backlog-full'] ?? 0, 0, 'no SYN dropped, no half-open connection evicted');
  assert.ok(log.some((l) => l.endsWith(` from 127.0.0.1:${from}`)), 'logged with the plain source address');
  assert.ok(log.every((l) => !/[a-z]{3,}\.[a-z]{2,}/i.test(l.replace(/^drop [a-z-]+ from /, ''))), 'no names, only addresses');
  attacker.close();
  client.destroy();
  await close(server);
});

it('a peer that vanishes mid-transfer: the server times out and keeps serving others', async () => {
  let vanished: NodeJS.ErrnoException | undefined;
  const { server, port } = await startServer({ userTimeoutMs: 600, idleTimeoutMs: 0 }, (s) => {
    s.on('error', (e: NodeJS.ErrnoException) => (vanished = e));
    // Stream to the client until it disappears.
    const chunk = Buffer.alloc(64 * 1024, 3);
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once('drain', pump);
    };
    pump();
  });
  // The client is another process, killed without a chance to send a RST or FIN.
  const child = fork(fileURLToPath(new URL('./vanishing-client.js', import.meta.url)), [String(port)]);
  await once(child, 'message');
  child.kill('SIGKILL');
  for (let i = 0; i < 300 && vanished === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(vanished?.code, 'ETIMEDOUT');
  // Still serving.
  const other = connect({ host: '127.0.0.1', port });
  await once(other, 'connect');
  other.destroy();
  await close(server);
});

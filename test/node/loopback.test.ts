// The Node driver and its node:net-like API over real loopback sockets (127.0.0.1 and ::1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type ServerOptions, type Socket, ConnectFailedError, type Attempt } from '../../src/node/index.js';
import { patternBytes } from '../../src/sim/bulk.js';
import { drain } from '../support/streams.js';

const MB = 1 << 20;

async function listening(opts: ServerOptions, onConnection: (s: Socket) => void, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer(opts, onConnection);
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: server.address()!.port };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A UDP port on loopback that nobody listens on (bound, then released). */
async function deadPort(type: 'udp4' | 'udp6' = 'udp4'): Promise<number> {
  const s = createSocket(type);
  s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(s, 'listening');
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Node driver: transfers over loopback', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`10 MB each way over ${host} arrive intact (SHA-256)`, async () => {
      const toServer = patternBytes(1, 10 * MB);
      const toClient = patternBytes(2, 10 * MB);
      let serverGot: Promise<Buffer> | undefined;
      const { server, port } = await listening({ ipv6: host === '::1' ? 'separate' : false }, (s) => {
        serverGot = drain(s);
        s.end(toClient);
      }, host === '::1' ? '127.0.0.1' : host);
      const client = connect({ host, port });
      const clientGot = drain(client);
      client.end(toServer);
      const got = await clientGot;
      assert.equal(got.length, toClient.length);
      assert.equal(sha(got), sha(toClient));
      const atServer = await serverGot!;
      assert.equal(sha(atServer), sha(toServer));
      assert.equal(client.remoteAddress, host);
      await closeServer(server);
    });
  }

  it('half-close: the client ends, the server keeps sending, the client keeps reading', async () => {
    const { server, port } = await listening({ allowHalfOpen: true }, (s) => {
      s.on('end', () => {
        // The client's FIN arrived; this side may still send.
        s.write(Buffer.from('after your FIN '));
        setTimeout(() => s.end(Buffer.from('and done')), 20);
      });
      s.resume();
    });
    const client = connect({ host: '127.0.0.1', port });
    const got = drain(client);
    client.end(Buffer.from('bye'));
    assert.equal((await got).toString(), 'after your FIN and done');
    await closeServer(server);
  });

  it('resetAndDestroy() aborts: the peer sees ECONNRESET', async () => {
    let serverSocket: Socket | undefined;
    const { server, port } = await listening({}, (s) => {
      serverSocket = s;
      s.resume();
    });
    const client = connect({ host: '127.0.0.1', port });
    await once(client, 'connect');
    client.write(Buffer.from('x'));
    while (serverSocket === undefined) await new Promise((r) => setTimeout(r, 5));
    const errored = once(serverSocket, 'error');
    client.resetAndDestroy();
    const [err] = (await errored) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.syscall, 'read');
    assert.equal(err.errno, -(await import('node:os')).constants.errno.ECONNRESET);
    await closeServer(server);
  });

  it('destroy() closes as node:net does: a FIN after what was written, a RST when data was left unread', async () => {
    const seen = new Map<number, string[]>();
    const { server, port } = await listening({}, (s) => {
      const log: string[] = [];
      seen.set(s.remotePort!, log);
      s.on('data', (d: Buffer) => log.push(d.toString()));
      s.on('error', (e: NodeJS.ErrnoException) => log.push(e.code!));
      s.on('end', () => log.push('end'));
      s.write('hello');
    });
    // a reads what the server wrote: its destroy() sends the written bytes, then a FIN.
    const a = connect({ host: '127.0.0.1', port });
    await once(a, 'data');
    a.write('from a');
    const aClosed = once(a, 'close');
    a.destroy();
    // b never reads: like a kernel socket closed with data unread, the peer gets a RST.
    const b = connect({ host: '127.0.0.1', port });
    await once(b, 'connect');
    for (let i = 0; i < 200 && b.connection!.readableBytes === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const bClosed = once(b, 'close');
    b.destroy();
    await Promise.all([aClosed, bClosed]);
    const done = () => [a, b].every((c) => (seen.get(c.localPort!) ?? []).some((e) => e === 'end' || e === 'ECONNRESET'));
    for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen.get(a.localPort!), ['from a', 'end']);
    assert.deepEqual(seen.get(b.localPort!), ['ECONNRESET']);
    await closeServer(server);
  });

  it('unreliable datagrams go both ways next to the stream', async () => {
    const { server, port } = await listening({}, (s) => {
      s.on('datagram', (d: Buffer) => s.sendDatagram(Buffer.concat([Buffer.from('echo:'), d])));
      s.on('error', () => undefined); // the client destroys at the end
      s.resume();
    });
    const client = connect({ host: '127.0.0.1', port });
    await once(client, 'connect');
    const replies: string[] = [];
    client.on('datagram', (d: Buffer) => replies.push(d.toString()));
    for (let i = 0; i < 5; i++) assert.equal(client.sendDatagram(Buffer.from(`m${i}`)), true);
    for (let t = 0; t < 200 && replies.length < 5; t++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(replies.sort(), ['echo:m0', 'echo:m1', 'echo:m2', 'echo:m3', 'echo:m4']);
    assert.throws(() => client.sendDatagram(Buffer.alloc(client.maxDatagramBytes + 1)), RangeError);
    client.destroy();
    await closeServer(server);
  });

  it('50 connections at once each echo their own data', async () => {
    const { server, port } = await listening({}, (s) => s.pipe(s));
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const data = patternBytes(100 + i, 20_000 + i);
        const c = connect({ host: '127.0.0.1', port });
        const got = drain(c);
        c.end(data);
        return sha(await got) === sha(data);
      }),
    );
    assert.deepEqual(results, Array(50).fill(true));
    await closeServer(server);
  });
});

describe('Node driver: idle connections', () => {
  it('the server drops a connection that stays silent past idleTimeoutMs', async () => {
    const { server, port } = await listening({ idleTimeoutMs: 200 }, (s) => s.on('error', () => undefined).resume());
    const client = connect({ host: '127.0.0.1', port, keepaliveIdleMs: 0 });
    await once(client, 'connect');
    const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');
    await closeServer(server);
  });

  it("a client's keepalives keep a quiet connection open", async () => {
    const { server, port } = await listening({ idleTimeoutMs: 200 }, (s) => s.on('error', () => undefined).resume());
    const client = connect({ host: '127.0.0.1', port, keepaliveIdleMs: 50, keepaliveIntervalMs: 50 });
    await once(client, 'connect');
    let failed: Error | undefined;
    client.on('error', (e) => (failed = e));
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(failed, undefined);
    assert.equal(server.connections, 1);
    assert.ok(client.stats()!.keepalivesSent >= 3, `keepalives sent: ${client.stats()!.keepalivesSent}`);
    client.destroy();
    await closeServer(server);
  });
});

describe('Node driver: the connection strategy', () => {
  it('tries addresses at random, removes dead ones, and connects to the live one', async () => {
    const { server, port } = await listening({}, (s) => s.on('error', () => undefined).resume());
    const dead = await deadPort();
    const attempts: Attempt[] = [];
    const client = connect({ servers: [`127.0.0.1:${dead}`, `127.0.0.2:${dead}`, `127.0.0.1:${port}`], port, connectTimeoutMs: 300 });
    client.on('attempt', (a: Attempt) => attempts.push(a));
    await once(client, 'connect');
    const last = attempts[attempts.length - 1]!;
    assert.equal(last.outcome, 'connected');
    assert.equal(last.port, port);
    // Loopback answers a dead port with ICMP port unreachable (refused at once); elsewhere it may be silence.
    for (const a of attempts.slice(0, -1)) assert.ok(a.outcome === 'refused' || a.outcome === 'timeout', a.outcome);
    assert.equal(new Set(attempts.map((a) => `${a.address}:${a.port}`)).size, attempts.length, 'no address tried twice in a round');
    client.destroy();
    await closeServer(server);
  });

  it('a resolver that fails is recorded, and the literal addresses still work', async () => {
    const { server, port } = await listening({}, (s) => s.on('error', () => undefined).resume());
    const attempts: Attempt[] = [];
    const client = connect({
      servers: ['eu.game.invalid', '127.0.0.1'],
      port,
      resolver: async () => {
        throw new Error('SERVFAIL');
      },
    });
    client.on('attempt', (a: Attempt) => attempts.push(a));
    await once(client, 'connect');
    assert.ok(attempts.some((a) => a.outcome === 'resolve-failed' && a.server === 'eu.game.invalid' && a.error === 'SERVFAIL'));
    client.destroy();
    await closeServer(server);
  });

  it('uses every address a name resolves to, IPv6 and IPv4', async () => {
    const { server, port } = await listening({ ipv6: 'separate' }, (s) => s.on('error', () => undefined).resume());
    const families = new Set<string>();
    // Connect several times: each run picks at random among ::1 and 127.0.0.1; both must be usable.
    for (let i = 0; i < 12 && families.size < 2; i++) {
      const client = connect({ servers: ['game.test'], port, resolver: async () => [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }] });
      await once(client, 'connect');
      families.add(client.remoteFamily!);
      client.destroy();
    }
    assert.deepEqual([...families].sort(), ['IPv4', 'IPv6']);
    await closeServer(server);
  });

  it('resolves again in the next round when every address failed', async () => {
    const { server, port } = await listening({}, (s) => s.on('error', () => undefined).resume());
    let calls = 0;
    const attempts: Attempt[] = [];
    const client = connect({
      servers: ['game.test'],
      port,
      connectTimeoutMs: 200,
      rounds: 3,
      // The address changed between rounds (a DNS update): 127.0.0.2 has no server, 127.0.0.1 has.
      resolver: async () => [{ address: ++calls === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 as const }],
    });
    client.on('attempt', (a: Attempt) => attempts.push(a));
    await once(client, 'connect');
    assert.equal(calls, 2, 'resolved once per round');
    assert.deepEqual(
      attempts.map((a) => [a.round, a.address]),
      [
        [1, '127.0.0.2'],
        [2, '127.0.0.1'],
      ],
    );
    assert.ok(['refused', 'timeout'].includes(attempts[0]!.outcome), attempts[0]!.outcome);
    assert.equal(attempts[1]!.outcome, 'connected');
    client.destroy();
    await closeServer(server);
  });

  it('fails after every round with an error listing every attempt', async () => {
    const dead = await deadPort();
    let calls = 0;
    const client = connect({
      servers: ['game.test', '127.0.0.1'],
      port: dead,
      connectTimeoutMs: 150,
      rounds: 2,
      resolver: async () => {
        calls++;
        return [{ address: '127.0.0.3', family: 4 }];
      },
    });
    const [err] = (await once(client, 'error')) as [ConnectFailedError];
    assert.ok(err instanceof ConnectFailedError);
    assert.ok(err instanceof AggregateError);
    // Every attempt failed the same way (loopback refuses at once) or not (a timeout among them).
    const codes = new Set(err.attempts.map((a) => a.code));
    assert.equal(err.code, codes.size === 1 ? [...codes][0] : 'ECONNFAILED');
    assert.equal(err.errors.length, 4);
    assert.equal(calls, 2);
    assert.equal(err.attempts.length, 4, '2 addresses x 2 rounds');
    assert.ok(err.attempts.every((a) => a.outcome === 'refused' || a.outcome === 'timeout'));
    assert.match(err.message, /could not connect after 4 attempts: .*127\.0\.0\.3:\d+ (refused|timeout)/);
  });
});

describe('Node driver: length-prefixed messages', () => {
  it('messages of every size arrive whole and in order, however the stream cuts them', async () => {
    const { MessageChannel } = await import('../../src/node/messages.js');
    const sizes = [0, 1, 3, 4, 5, 1000, 70_000, 1, 300_000, 2];
    const { server, port } = await listening({}, (s) => {
      const ch = new MessageChannel(s);
      ch.on('message', (m) => ch.send(m)); // echo each message
      s.on('end', () => s.end());
    });
    const client = connect({ host: '127.0.0.1', port });
    const ch = new MessageChannel(client);
    const got: Buffer[] = [];
    ch.on('message', (m) => got.push(m));
    const sent = sizes.map((n, i) => Buffer.from(patternBytes(500 + i, n)));
    for (const m of sent) ch.send(m);
    while (got.length < sent.length) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got.map((m) => sha(m)), sent.map((m) => sha(m)));
    client.end();
    await once(client, 'close');
    await closeServer(server);
  });

  it('a length over the limit is an error on the channel, not a crash', async () => {
    const { MessageChannel } = await import('../../src/node/messages.js');
    let serverError: Error | undefined;
    const { server, port } = await listening({}, (s) => {
      const ch = new MessageChannel(s, 1000);
      ch.on('error', (e) => (serverError = e));
    });
    const client = connect({ host: '127.0.0.1', port });
    client.on('error', () => undefined);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(5000);
    client.write(header);
    while (serverError === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.match(serverError.message, /5000 bytes, over the limit of 1000/);
    client.destroy();
    await closeServer(server);
  });
});

describe('Node driver: dual stack', () => {
  it("'dual-stack': one udp6 socket serves IPv6 and IPv4, and reports IPv4 peers as plain addresses", async () => {
    const peers: string[] = [];
    const server = createServer({ ipv6: 'dual-stack' }, (s) => {
      peers.push(s.remoteAddress!);
      s.on('error', () => undefined);
      s.pipe(s);
    });
    server.listen(0);
    await once(server, 'listening');
    const port = server.address()!.port;
    for (const host of ['::1', '127.0.0.1']) {
      const c = connect({ host, port });
      const got = drain(c);
      c.end(Buffer.from(`via ${host}`));
      assert.equal((await got).toString(), `via ${host}`);
    }
    assert.deepEqual(peers, ['::1', '127.0.0.1']);
    await closeServer(server);
  });
});

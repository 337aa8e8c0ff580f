// 1,000 clients connecting at once to one server over loopback: none is reset, every connection echoes its own
// data. (Before SYN cookies, the oldest half-open connections were evicted past the backlog of 128 after their
// SYN-ACK had gone out, and their clients were reset.)
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from '../../src/node/index.js';

it('1,000 clients at once: 0 resets, every connection echoes', { timeout: 120_000 }, async () => {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const n = 1000;
  const errors: string[] = [];
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => new Promise<boolean>((resolve) => {
      const msg = Buffer.from(`client ${i} says hello`);
      const c = connect({ host: '127.0.0.1', port, connectTimeoutMs: 60_000 });
      const chunks: Buffer[] = [];
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', (e: NodeJS.ErrnoException) => {
        errors.push(e.code ?? e.message);
        resolve(false);
      });
      c.on('end', () => {
        resolve(Buffer.concat(chunks).equals(msg));
        c.destroy();
      });
      c.on('connect', () => c.end(msg));
    })),
  );
  assert.deepEqual(errors, [], 'no client saw an error (ECONNRESET)');
  assert.equal(results.filter(Boolean).length, n, 'every connection echoed');
  const st = server.stats?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (st) assert.equal(st.endpoint.drops['backlog-full'] ?? 0, 0);
});

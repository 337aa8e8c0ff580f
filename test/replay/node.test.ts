// The Node driver records through the same seam: a server and a client over real loopback sockets, each with a
// `record` option (one file; a ring of chunk files), and their logs replay with every output matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from '../../src/node/index.js';
import { LogReader, Replayer, formatDivergence, ringFiles, type ReplayResult } from '../../src/replay/index.js';
import { drain } from '../support/streams.js';

/** Replays until the log is complete (a client's log closes once its TIME-WAIT lingered), within a few seconds. */
async function replayWhenClosed(files: () => string[]): Promise<ReplayResult> {
  for (let i = 0; ; i++) {
    const r = new Replayer(files().map((f) => LogReader.open(f))).run();
    if (r.status !== 'cut-off' || i >= 60) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

test('a server and a client on loopback record to files; both logs replay with every output matching', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-record-'));
  try {
    const payload = Buffer.alloc(300_000, 7);
    const server = createServer({ allowHalfOpen: true, record: { path: join(dir, 'server.stvlog') } }, (s) => {
      void drain(s).then((got) => s.end(got));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address()!.port;
    const client = connect({ host: '127.0.0.1', port, record: { path: join(dir, 'client.stvlog') } });
    const echoed = drain(client);
    client.end(payload);
    assert.equal((await echoed).length, payload.length);
    await new Promise<void>((res) => server.close(() => res()));
    for (const name of ['server', 'client']) {
      const r = await replayWhenClosed(() => [join(dir, `${name}.stvlog`)]);
      assert.equal(r.status, 'complete', `${name}: ${r.divergence ? formatDivergence(r.divergence).join('\n') : r.truncation?.message}`);
      assert.ok(r.steps > 300, `${name}: ${r.steps} steps`);
    }
    assert.ok(!existsSync(join(dir, 'client.attempt2.stvlog')), 'one attempt, one log');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server recording into a ring directory keeps a bounded tail that replays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-ring-node-'));
  try {
    const server = createServer({ allowHalfOpen: true, record: { ringBytes: 200_000, dir, prefix: 'srv' } }, (s) => {
      void drain(s).then((got) => s.end(got.subarray(0, 10)));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address()!.port;
    for (let i = 0; i < 3; i++) {
      const client = connect({ host: '127.0.0.1', port });
      const got = drain(client);
      client.end(randomBytes(400_000));
      assert.equal((await got).length, 10);
    }
    await new Promise<void>((res) => server.close(() => res()));
    const files = ringFiles(dir);
    assert.ok(files.length >= 2, `${files.length} chunk files`);
    const r = await replayWhenClosed(() => ringFiles(dir));
    assert.equal(r.status, 'complete', r.divergence ? formatDivergence(r.divergence).join('\n') : r.truncation?.message);
    assert.equal(r.snapshotsVerified, files.length - 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

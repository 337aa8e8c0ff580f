// stevens serve and stevens ping, by hand as the README shows them (loopback, bounded in time).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = 'dist/src/cli/main.js';

it('stevens serve echoes; stevens ping prints round trips over the stream and over datagrams', async () => {
  // Port 0: the system picks a free one, read back from the first line.
  const server = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    while (!/stevens echo server on 127\.0\.0\.1:\d+/.test(out)) {
      if (server.exitCode !== null) throw new Error(`serve exited: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const port = /stevens echo server on 127\.0\.0\.1:(\d+)/.exec(out)![1]!;
    const stream = await run(process.execPath, [CLI, 'ping', `127.0.0.1:${port}`, '--count', '3', '--interval', '10'], { timeout: 15_000 });
    assert.match(stream.stdout, /64 bytes from 127\.0\.0\.1: seq=2 time=/);
    assert.match(stream.stdout, /3 probes sent, 3 answered, 0\.0% lost/);
    assert.match(stream.stdout, /rtt min\/avg\/max\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/);
    const dg = await run(process.execPath, [CLI, 'ping', `127.0.0.1:${port}`, '--count', '3', '--interval', '10', '--datagram', '--size', '100'], { timeout: 15_000 });
    assert.match(dg.stdout, /100 bytes over datagrams/);
    assert.match(dg.stdout, /3 probes sent, 3 answered/);
    while (!/close 127\.0\.0\.1:\d+ .*/.test(out)) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /connect 127\.0\.0\.1:\d+/, 'one line per connection, plain address');
  } finally {
    server.kill('SIGINT');
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
});

it('bad option values are one line and a non-zero exit', async () => {
  await assert.rejects(run(process.execPath, [CLI, 'ping', '127.0.0.1', '--size', '5']), (err: { code: number; stderr: string }) => {
    assert.notEqual(err.code, 0);
    assert.equal(err.stderr.trim(), "stevens: --size must be an integer in [12, 1048576], got '5'");
    return true;
  });
  await assert.rejects(run(process.execPath, [CLI, 'serve', '--port', 'x']), (err: { stderr: string }) => {
    assert.equal(err.stderr.trim().split('\n').length, 1);
    return true;
  });
});

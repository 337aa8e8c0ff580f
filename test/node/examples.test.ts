// The examples the README shows run as shown (loopback only, bounded in time).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';

const run = promisify(execFile);

async function withServer(script: string, port: number, fn: () => Promise<void>): Promise<string> {
  const server = spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    while (!out.includes('server on')) {
      if (server.exitCode !== null) throw new Error(`server exited: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await fn();
  } finally {
    server.kill('SIGINT');
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  return out;
}

it('examples/echo: the client gets its message back', async () => {
  await withServer('dist/examples/echo/server.js', 7201, async () => {
    const { stdout } = await run(process.execPath, ['dist/examples/echo/client.js', '7201', 'ping pong'], { timeout: 10_000 });
    assert.equal(stdout.trim(), 'echo: ping pong');
  });
});

it('examples/game: snapshots at 20 Hz as datagrams, chat as reliable messages', async () => {
  const serverOut = await withServer('dist/examples/game/server.js', 7202, async () => {
    const { stdout } = await run(process.execPath, ['dist/examples/game/client.js', '7202', '1'], { timeout: 10_000 });
    assert.match(stdout, /chat: player 1: hello from a stevens client/);
    const m = /(\d+) snapshots in 1 s/.exec(stdout);
    assert.ok(m, stdout);
    assert.ok(Number(m[1]) >= 12 && Number(m[1]) <= 22, `about 20 snapshots a second: ${m[1]}`);
  });
  assert.match(serverOut, /player 1 joined from 127\.0\.0\.1:\d+/);
});

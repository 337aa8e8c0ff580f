// How long a client takes to notice that its server vanished: the server (`stevens serve`, another process) is
// SIGKILLed while the client is connected over loopback, and the time from the kill to the client's 'error' or
// 'close' is measured, per profile and per what the client does afterwards:
//   request  one 64-byte write right after the kill, then nothing (a request waiting for its answer)
//   writing  a 64-byte write every 100 ms (a game's inputs, a chat)
//   idle     nothing written (only the client's keepalives can notice)
// Not part of `npm run bench` (a run takes seconds to minutes); run it on its own:
//   npx tsc -p . && node dist/bench/vanished-server.js [--profile tcp|game] [--mode request|writing|idle] [--trials N] [--limit-s S]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect } from '../src/node/index.js';
import { printTable } from './table.js';

type Mode = 'request' | 'writing' | 'idle';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** One trial: milliseconds from SIGKILL to the client's verdict, and the verdict's code (or 'limit'). */
async function trial(profile: 'tcp' | 'game', mode: Mode, limitMs: number): Promise<{ ms: number; code: string }> {
  const server = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    while (!/on 127\.0\.0\.1:(\d+)/.test(out)) {
      if (server.exitCode !== null) throw new Error(`serve exited: ${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    const socket = connect({ host: '127.0.0.1', port, profile });
    await once(socket, 'connect');
    socket.write(Buffer.alloc(64));
    await once(socket, 'data');
    const verdict = new Promise<string>((resolve) => {
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      socket.once('close', () => resolve('close'));
    });
    server.kill('SIGKILL');
    await once(server, 'exit');
    const t0 = performance.now();
    let writer: NodeJS.Timeout | undefined;
    if (mode !== 'idle') socket.write(Buffer.alloc(64));
    if (mode === 'writing') writer = setInterval(() => !socket.destroyed && socket.write(Buffer.alloc(64)), 100);
    let limit: NodeJS.Timeout | undefined;
    const code = await Promise.race([verdict, new Promise<string>((r) => (limit = setTimeout(() => r('limit'), limitMs)))]);
    const ms = performance.now() - t0;
    clearInterval(writer);
    clearTimeout(limit);
    socket.destroy();
    return { ms, code };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const profiles = arg('--profile', 'tcp,game').split(',') as ('tcp' | 'game')[];
  const modes = arg('--mode', 'request,writing,idle').split(',') as Mode[];
  const trials = Number(arg('--trials', '3'));
  const limitMs = Number(arg('--limit-s', '900')) * 1000;
  const rows: string[][] = [];
  for (const profile of profiles) {
    for (const mode of modes) {
      const results: { ms: number; code: string }[] = [];
      for (let i = 0; i < trials; i++) results.push(await trial(profile, mode, limitMs));
      const ms = results.map((r) => r.ms).sort((a, b) => a - b);
      rows.push([profile, mode, String(trials), (ms[Math.floor(ms.length / 2)]! / 1000).toFixed(3), (ms[0]! / 1000).toFixed(3), (ms[ms.length - 1]! / 1000).toFixed(3), [...new Set(results.map((r) => r.code))].join(' ')]);
      console.error(`${profile} ${mode}: ${results.map((r) => `${(r.ms / 1000).toFixed(3)} s ${r.code}`).join(', ')}`);
    }
  }
  printTable(`A SIGKILLed server noticed by its client over loopback (load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`, ['profile', 'after the kill', 'trials', 'median s', 'min s', 'max s', 'verdict'], rows);
}

await main();

// `stevens serve` in a process of its own on a free loopback port, for tests that need a server they can kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const CLI = 'dist/src/cli/main.js';

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** Everything it printed to stdout so far. */
  output(): string;
  /** SIGINT, then SIGKILL if it has not exited within 3 s. */
  stop(): Promise<void>;
}

/** Starts `stevens serve --host HOST --port 0 ...args` and waits for its first line (bounded: 10 s). */
export async function startServe(args: string[] = [], host = '127.0.0.1'): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', host, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const shown = host.includes(':') ? `\\[${host.replace(/[.:]/g, (c) => `\\${c}`)}\\]` : host.replace(/\./g, '\\.');
  const ready = new RegExp(`stevens echo server on ${shown}:(\\d+)`);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  for (let i = 0; !ready.test(out); i++) {
    if (child.exitCode !== null || i > 500) {
      await stop();
      throw new Error(`stevens serve did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, port: Number(ready.exec(out)![1]), output: () => out, stop };
}

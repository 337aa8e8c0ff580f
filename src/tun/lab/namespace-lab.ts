// The namespace lab of the conformance suite (test/interop/) and of bench/tun.ts: a network namespace per run
// (always deleted, with every process in it killed), peers spawned inside it that talk JSON lines (kernel-peer.ts:
// node:net, so the kernel's TCP; stevens-peer.ts: stevens behind a TUN device), and a tcpdump capture of a device.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { which } from '../../node/which.js';

const TOOLS = ['ip', 'socat', 'tcpdump', 'tshark', 'ss'];

/** Why the interop tests cannot run here, or undefined when they can. */
export function interopSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces and TUN devices)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (network namespaces, TUN devices, tcpdump)';
  for (const tool of TOOLS) {
    if (which(tool) === undefined) return `needs ${tool} (apt-get install ${tool === 'ip' || tool === 'ss' ? 'iproute2' : tool})`;
  }
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  const probe = `stv-${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create a network namespace: ${(r.stderr || '').trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

let nsCounter = 0;

type JsonEvent = Record<string, unknown> & { event: string };

/** A process in the namespace speaking JSON lines on stdout; stderr is kept for failure messages. */
export class Peer {
  readonly child: ChildProcess;
  readonly events: JsonEvent[] = [];
  stderr = '';
  private waiters: { name: string; resolve: (e: JsonEvent) => void }[] = [];
  private exitWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr += d));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let ev: JsonEvent;
      try {
        ev = JSON.parse(line) as JsonEvent;
      } catch {
        this.stderr += `${line}\n`;
        return;
      }
      this.events.push(ev);
      for (const w of this.waiters.filter((w) => w.name === ev.event)) w.resolve(ev);
      this.waiters = this.waiters.filter((w) => w.name !== ev.event);
    });
    child.once('exit', () => {
      for (const w of this.exitWaiters) w();
    });
  }

  /** The first `name` event (already seen or coming), or an error after timeoutMs or if the process exits first. */
  next(name: string, timeoutMs = 60_000): Promise<JsonEvent> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${this.name}: ${why} while waiting for '${name}'; events ${JSON.stringify(this.events.map((e) => e.event))}; stderr: ${this.stderr.trim().slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`no event after ${timeoutMs} ms`), timeoutMs);
      this.waiters.push({
        name,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
      const fatal = this.events.find((e) => e.event === 'fatal');
      if (fatal) fail(`fatal: ${String(fatal.message)}`);
      const onExit = () => setTimeout(() => fail(`exited (code ${this.child.exitCode})`), 50);
      if (this.child.exitCode !== null) onExit();
      else this.exitWaiters.push(onExit);
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  exited(timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}

export interface Capture {
  path: string;
  stop(): Promise<string>;
}

/** One network namespace with its peers, captures and temporary files. */
export class Lab {
  readonly ns: string;
  readonly dir: string;
  private readonly children: ChildProcess[] = [];

  private constructor(ns: string) {
    this.ns = ns;
    this.dir = mkdtempSync(join(tmpdir(), `${ns}-`));
  }

  static create(): Lab {
    const ns = `stv-${process.pid}-${nsCounter++}`;
    const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
    const lab = new Lab(ns);
    lab.exec(['ip', 'link', 'set', 'lo', 'up']);
    return lab;
  }

  /** Run a command inside the namespace; throws with its stderr when it fails. */
  exec(cmd: string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', this.ns, ...cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${(r.stderr || r.stdout || '').trim()}`);
    return r.stdout;
  }

  spawn(args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** A compiled helper (kernel-peer or stevens-peer, next to this file) in the namespace with its JSON config. */
  peer(script: 'kernel-peer' | 'stevens-peer', config: object): Peer {
    return new Peer(script, this.spawn([process.execPath, fileURLToPath(new URL(`./${script}.js`, import.meta.url)), JSON.stringify(config)]));
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /** tcpdump on `device` into a file; resolves once it is listening. stop() ends it and returns its summary. */
  async capture(device: string, name = 'tun.pcap'): Promise<Capture> {
    const path = this.file(name);
    const child = this.spawn(['tcpdump', '-i', device, '-n', '-s', '0', '-B', '65536', '-U', '-Z', 'root', '-w', path]);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
      child.stderr!.on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited: ${stderr}`));
      });
    });
    return {
      path,
      stop: async () => {
        if (child.exitCode === null) {
          // Not in immediate mode (which drops packets under a 20 MB burst), libpcap hands packets over when a
          // buffer block fills or after its 1 s timeout: wait that long, so the last packets (a RST, the final ACKs)
          // are in the file.
          await new Promise((r) => setTimeout(r, 1100));
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGINT');
          await exited;
        }
        return stderr;
      },
    };
  }

  /** Kill every process in the namespace (ours: it was made for this test), delete it, remove the files. */
  destroy(keepFiles = process.env.STEVENS_INTEROP_KEEP === '1'): void {
    const pids = spawnSync('ip', ['netns', 'pids', this.ns], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.ns]);
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

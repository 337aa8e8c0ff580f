// stevens against the Linux kernel through a TUN device (stevens tun): bulk goodput kernel -> stevens (stevens
// serves discard) and stevens -> kernel (stevens serves chargen), beside kernel -> kernel over a veth pair between
// two namespaces, all in one run. Everything runs in network namespaces made for the run and deleted after it.
// Needs root, iproute2 and socat; prints one line and returns otherwise.
// Run alone: node dist/bench/tun.js [--quick]; or `await runTunBench(quick)` from bench/main.ts.
import { isEntryPoint } from '../src/cli/entry-point.js';
import { interopSkipReason, Lab, type Peer } from '../src/tun/lab/namespace-lab.js';
import { printTable } from './table.js';

const MB = 1 << 20;
const CLI = 'dist/src/cli/main.js';
const PORT = 5001;

interface Measure {
  bytes: number;
  seconds: number;
}

/** The kernel peer's 'done' event: bytes and the time from connect to close. */
async function doneOf(peer: Peer, timeoutMs: number): Promise<Measure> {
  const done = await peer.next('done', timeoutMs);
  if (done.error) throw new Error(`kernel peer: ${String(done.error)}`);
  const bytes = Number(done.received) > 0 ? Number(done.received) : Number(done.sent);
  return { bytes, seconds: Number(done.elapsedMs) / 1000 };
}

async function waitForLine(child: ReturnType<Lab['spawn']>, re: RegExp, timeoutMs: number): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${re.source}' from stevens tun: ${out}`)), timeoutMs);
    const on = (d: Buffer) => {
      out += d.toString();
      if (re.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`stevens tun exited: ${out}`));
    });
  });
}

/** stevens serves `service` behind a TUN device; a node:net client in the same namespace sends or reads `bytes`. */
async function throughTun(service: 'discard' | 'chargen', bytes: number): Promise<Measure> {
  const lab = Lab.create();
  try {
    const stevens = lab.spawn([process.execPath, CLI, 'tun', '--address', '198.18.0.2', '--peer', '198.18.0.1', '--serve', service, '--port', String(PORT)]);
    await waitForLine(stevens, /server on/, 15_000);
    const client = lab.peer('kernel-peer', service === 'discard' ? { role: 'client', host: '198.18.0.2', port: PORT, sendBytes: bytes } : { role: 'client', host: '198.18.0.2', port: PORT, readBytes: bytes });
    const m = await doneOf(client, 300_000);
    stevens.kill('SIGTERM');
    return m;
  } finally {
    lab.destroy();
  }
}

/** The same bulk transfer between two kernels, over a veth pair between two namespaces. */
async function overVeth(bytes: number): Promise<Measure> {
  const a = Lab.create();
  const b = Lab.create();
  try {
    const veth = `stvv${process.pid.toString(36)}`;
    a.exec(['ip', 'link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', b.ns]);
    a.exec(['ip', 'addr', 'add', '198.18.1.1/24', 'dev', `${veth}a`]);
    a.exec(['ip', 'link', 'set', `${veth}a`, 'up']);
    b.exec(['ip', 'addr', 'add', '198.18.1.2/24', 'dev', `${veth}b`]);
    b.exec(['ip', 'link', 'set', `${veth}b`, 'up']);
    const server = b.peer('kernel-peer', { role: 'server', host: '198.18.1.2', port: PORT });
    await server.next('listening', 10_000);
    const client = a.peer('kernel-peer', { role: 'client', host: '198.18.1.2', port: PORT, sendBytes: bytes });
    return await doneOf(client, 300_000);
  } finally {
    a.destroy();
    b.destroy();
  }
}

function median(ms: Measure[]): Measure {
  return [...ms].sort((x, y) => x.bytes / x.seconds - y.bytes / y.seconds)[Math.floor(ms.length / 2)]!;
}

async function repeat(n: number, f: () => Promise<Measure>): Promise<Measure> {
  const out: Measure[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return median(out);
}

export async function runTunBench(quick: boolean): Promise<void> {
  const skip = interopSkipReason();
  if (skip) {
    console.log(`\nstevens tun benchmark skipped: ${skip}`);
    return;
  }
  const bytes = (quick ? 16 : 64) * MB;
  const runs = quick ? 1 : 3;
  const veth = await repeat(runs, () => overVeth(bytes));
  const k2s = await repeat(runs, () => throughTun('discard', bytes));
  const s2k = await repeat(runs, () => throughTun('chargen', bytes));
  const vethMBps = veth.bytes / MB / veth.seconds;
  const row = (name: string, m: Measure): Array<string | number> => {
    const mbps = m.bytes / MB / m.seconds;
    return [name, m.bytes / MB, m.seconds, mbps, (mbps * 8 * MB) / 1e6, mbps / vethMBps];
  };
  printTable(`stevens tun: bulk goodput against the Linux kernel (${runs === 1 ? '1 run' : `median of ${runs}`}, ${bytes / MB} MiB each, one namespace per run)`, ['path', 'MiB', 'seconds', 'MiB/s', 'Mbit/s', 'x veth'], [
    row('kernel -> stevens (TUN + socat, stevens discard)', k2s),
    row('stevens -> kernel (TUN + socat, stevens chargen)', s2k),
    row('kernel -> kernel (veth pair, two namespaces)', veth),
  ]);
}

if (isEntryPoint(import.meta.url)) await runTunBench(process.argv.includes('--quick'));

// stevens' side of the conformance tests: a TunHost (TUN device + socat + driver) in the test's network namespace,
// run with `ip netns exec NS node dist/src/tun/lab/stevens-peer.js '<json config>'`. It reports JSON lines on
// stdout: ready (the device exists), connected, done (the connection's final stats, the largest windows seen, the
// transfer's result), closed. A client waits for "go" on stdin before connecting; after done, everything waits for
// "exit" on stdin (so the test can stop its capture while the device still exists), then tears down.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Connection, ConnectionStats } from '../../core/index.js';
import { ConnectionRouter, sendAndCheckEcho, serveService, TunHost, type Pipe } from '../index.js';

export interface StevensPeerConfig {
  address: string;
  peer: string;
  address6?: string;
  peer6?: string;
  device?: string;
  pcap?: string;
  seed?: number;
  lossInbound?: number;
  lossOutbound?: number;
  role: 'server' | 'client';
  /** Server: the TCP port and the service. */
  port?: number;
  service?: 'echo' | 'discard';
  /** Client: where to connect, and how many seeded bytes to send before half-closing. */
  connect?: { address: string; port: number };
  sendBytes?: number;
  /** Abort (RST) once this many bytes have arrived. */
  abortAfterBytes?: number;
  /** Write the core's trace events (except per-segment send/receive) here as JSON lines, for debugging. */
  traceFile?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as StevensPeerConfig;

function report(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const lines = createInterface({ input: process.stdin });
const waiting = new Map<string, () => void>();
const received = new Set<string>();
lines.on('line', (l) => {
  received.add(l.trim());
  waiting.get(l.trim())?.();
});
/** Resolves once `name` has arrived on stdin (before or after this call). */
function command(name: string): Promise<void> {
  if (received.has(name)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(name, resolve));
}

/** The largest and smallest windows seen while the connection was synchronized, sampled every 5 ms. */
class WindowSampler {
  maxSendWindowBytes = 0;
  minSendWindowBytes = Infinity;
  maxReceiveWindowBytes = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly conn: Connection) {
    this.timer = setInterval(() => this.sample(), 5);
  }
  sample(): void {
    const st = this.conn.state;
    if (st !== 'ESTABLISHED' && st !== 'FIN-WAIT-1' && st !== 'FIN-WAIT-2' && st !== 'CLOSE-WAIT') return;
    const s = this.conn.stats();
    if (config.traceFile !== undefined) {
      const { sendWindowBytes, cwndBytes, ssthreshBytes, inFlightBytes, outstandingBytes, recoveryState, sendBufferedBytes, timeouts, rtoMs, timers } = s;
      appendFileSync(config.traceFile, `${JSON.stringify({ type: 'sample', atMs: performance.now(), sendWindowBytes, cwndBytes, ssthreshBytes, inFlightBytes, outstandingBytes, recoveryState, sendBufferedBytes, timeouts, rtoMs, timers })}\n`);
    }
    this.maxSendWindowBytes = Math.max(this.maxSendWindowBytes, s.sendWindowBytes);
    this.minSendWindowBytes = Math.min(this.minSendWindowBytes, s.sendWindowBytes);
    this.maxReceiveWindowBytes = Math.max(this.maxReceiveWindowBytes, s.receiveWindowBytes);
  }
  stop(): Record<string, number> {
    clearInterval(this.timer);
    return { maxSendWindowBytes: this.maxSendWindowBytes, minSendWindowBytes: this.minSendWindowBytes, maxReceiveWindowBytes: this.maxReceiveWindowBytes };
  }
}

function abortAfter(pipe: Pipe, bytes: number): void {
  let received = 0;
  const inner = pipe.handlers.data;
  pipe.handlers.data = (chunk) => {
    received += chunk.length;
    inner?.(chunk);
    if (received >= bytes && !pipe.closed) {
      report({ event: 'abort', received });
      pipe.abort();
    }
  };
}

function settled(conn: Connection): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (conn.state === 'CLOSED' || conn.state === 'TIME-WAIT' ? resolve() : setTimeout(check, 10));
    check();
  });
}

async function main(): Promise<void> {
  const host = await TunHost.open({
    address: config.address,
    peer: config.peer,
    address6: config.address6,
    peer6: config.peer6,
    device: config.device,
    pcapPath: config.pcap,
    seed: config.seed ?? 1,
    lossSeed: config.seed ?? 1,
    lossInbound: config.lossInbound,
    lossOutbound: config.lossOutbound,
    maxDatagramBytes: 1452,
    trace: config.traceFile === undefined ? undefined : (ev) => {
      if (ev.type !== 'send' && ev.type !== 'receive') appendFileSync(config.traceFile!, `${JSON.stringify(ev)}\n`);
    },
  });
  host.once('exit', (why) => {
    report({ event: 'fatal', message: why });
    process.exit(1);
  });
  const router = new ConnectionRouter(host.driver);
  let finalStats: ConnectionStats | undefined;
  let windows: Record<string, number> = {};
  let result: Record<string, unknown> = {};
  if (config.role === 'server') {
    const closed = new Promise<void>((resolve) => {
      serveService(router, config.service ?? 'echo', (pipe) => {
        report({ event: 'connected', remote: pipe.conn.remote.address, remotePort: pipe.conn.remotePort });
        const sampler = new WindowSampler(pipe.conn);
        let received = 0;
        const inner = pipe.handlers;
        const data = inner.data;
        inner.data = (chunk) => {
          received += chunk.length;
          data?.(chunk);
        };
        if (config.abortAfterBytes !== undefined) abortAfter(pipe, config.abortAfterBytes);
        inner.close = (error) => {
          windows = sampler.stop();
          finalStats = pipe.conn.stats();
          result = { received, error: error?.code };
          resolve();
        };
      });
    });
    host.driver.act(() => host.driver.endpoint.listen({ port: config.port ?? 7 }));
    report({ event: 'ready', device: host.device });
    await closed;
  } else {
    report({ event: 'ready', device: host.device });
    await command('go');
    const target = config.connect!;
    const pipe = router.connect(target.address, target.port);
    const sampler = new WindowSampler(pipe.conn);
    const transfer = sendAndCheckEcho(pipe, config.sendBytes ?? 0, config.seed ?? 1);
    if (config.abortAfterBytes !== undefined) abortAfter(pipe, config.abortAfterBytes);
    const prevConnect = pipe.handlers.connect;
    pipe.handlers.connect = () => {
      report({ event: 'connected', localPort: pipe.conn.localPort });
      prevConnect?.();
    };
    try {
      result = { ...(await transfer) };
      await Promise.race([settled(pipe.conn), new Promise((r) => setTimeout(r, 3000))]);
    } catch (err) {
      result = { error: (err as { code?: string }).code ?? (err as Error).message };
    }
    windows = sampler.stop();
    finalStats = pipe.conn.stats();
  }
  report({ event: 'done', result, stats: finalStats, windows, counters: host.driver.counters, endpoint: host.driver.endpoint.stats() });
  await command('exit');
  await host.close();
  report({ event: 'closed' });
  process.exit(0);
}

main().catch((err: Error) => {
  report({ event: 'fatal', message: err.message });
  process.exit(1);
});

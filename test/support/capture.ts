// Shared by the capture and plot tests: a simulated bulk transfer with captures and traces, temp dirs that go
// away, and running tshark / finding chromium (tests skip with a reason when they are missing).
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Endpoint, type Connection, type ConnectionStats, type TraceEvent } from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';
import { Simulator, PROFILES, type SimHost } from '../../src/sim/index.js';
import { CaptureRecorder, MemorySink, SimCapture, type CaptureView, type SimPacketEvent } from '../../src/capture/index.js';
import type { TraceRecord } from '../../src/capture/trace.js';
import { patternBytes } from '../../src/sim/bulk.js';
import { which } from '../../src/node/which.js';

export interface SimCaptureRun {
  done: boolean;
  /** Captures by name: 'client-tcp', 'client-udp', 'server-tcp', 'server-udp', 'wire-tcp'. */
  captures: Record<string, Uint8Array>;
  /** Every datagram the client sent or was delivered, in order (for comparing with decoders). */
  clientPackets: { atMs: number; from: { address: string; port: number }; to: { address: string; port: number }; bytes: Uint8Array; dropped: boolean }[];
  trace: TraceRecord[];
  stats: [ConnectionStats, ConnectionStats];
  hosts: [SimHost, SimHost];
  nowMs: number;
}

/**
 * The client sends `bytes` to the server over the lossy-5 profile (5% independent loss each way, 20 ms one way),
 * then both close. Captures are taken on both hosts in both views and on the wire.
 */
export function simLossyTransfer(opts: { seed: number; bytes: number; ipv6?: boolean; limitMs?: number }): SimCaptureRun {
  const sim = new Simulator({ seed: opts.seed });
  const trace: TraceRecord[] = [];
  const eps: [Endpoint, Endpoint] = [
    new Endpoint({ seed: opts.seed * 2 + 1, trace: (ev: TraceEvent) => trace.push({ ...ev, endpoint: 'client' }) }),
    new Endpoint({ seed: opts.seed * 2 + 2, trace: (ev: TraceEvent) => trace.push({ ...ev, endpoint: 'server' }) }),
  ];
  const data = patternBytes(opts.seed, opts.bytes);
  let written = 0;
  const conns: [Connection | undefined, Connection | undefined] = [undefined, undefined];
  const closed = [false, false];
  let failed = false;
  const pump = () => {
    const c = conns[0]!;
    while (written < data.length) {
      const n = c.write(data.subarray(written, Math.min(written + 65536, data.length)));
      written += n;
      if (n === 0) return;
    }
    c.shutdown();
  };
  const activity = (side: 0 | 1) => () => {
    const ep = eps[side];
    for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
      switch (ev.type) {
        case 'accepted':
        case 'connected':
          conns[side] = ev.connection;
          if (side === 0) pump();
          break;
        case 'writable':
          if (side === 0) pump();
          break;
        case 'readable':
          while (ev.connection.read().length > 0);
          break;
        case 'end':
          if (side === 1) ev.connection.shutdown();
          break;
        case 'closed':
          closed[side] = true;
          if (ev.error) failed = true;
          break;
      }
    }
  };
  const addr = (n: number) => (opts.ipv6 ? { ipv6: `2001:db8::${n}` } : { ipv4: `192.0.2.${n}` });
  const client = sim.addHost({ name: 'client', ...addr(1), port: 4000 }, eps[0], activity(0));
  const server = sim.addHost({ name: 'server', ...addr(2), port: 5000 }, eps[1], activity(1));
  sim.connectProfile(client, server, PROFILES['lossy-5']!);
  eps[1].listen({ port: 5000 });

  const sinks: Record<string, MemorySink> = {};
  const caps: { cap: SimCapture; rec: CaptureRecorder }[] = [];
  const add = (name: string, view: CaptureView, at: SimHost | 'wire') => {
    const sink = (sinks[name] = new MemorySink());
    const rec = new CaptureRecorder(sink, { view, comment: `simulated lossy-5, seed ${opts.seed}, ${name}` });
    caps.push({ cap: new SimCapture(rec, { at: at === 'wire' ? 'wire' : { host: at.addresses } }), rec });
  };
  add('client-tcp', 'tcp', client);
  add('client-udp', 'udp', client);
  add('server-tcp', 'tcp', server);
  add('server-udp', 'udp', server);
  add('wire-tcp', 'tcp', 'wire');
  const clientPackets: SimCaptureRun['clientPackets'] = [];
  const clientKey = `${client.addresses[0]!.address}|4000`;
  sim.onPacket = (ev) => {
    const e = ev as SimPacketEvent;
    for (const c of caps) c.cap.onPacket(e);
    if (e.kind === 'drop') {
      const last = clientPackets[clientPackets.length - 1];
      if (last !== undefined && `${e.from.address}|${e.from.port}` === clientKey && last.bytes.length === e.bytes.length) last.dropped = true;
    } else if ((e.kind === 'send' && `${e.from.address}|${e.from.port}` === clientKey) || (e.kind === 'deliver' && `${e.to.address}|${e.to.port}` === clientKey)) {
      clientPackets.push({ atMs: e.atMs, from: { ...e.from }, to: { ...e.to }, bytes: e.bytes.slice(), dropped: false });
    }
  };
  sim.at(0, (now) => void eps[0].connect(now, server.addresses[0]!, { port: 5000 }), client);
  sim.run(opts.limitMs ?? 600_000, () => (closed[0] && closed[1]) || failed);
  // Let TIME-WAIT and any last retransmissions play out, so every sent datagram is in the captures.
  sim.run(sim.nowMs + 5_000);
  for (const c of caps) {
    c.cap.flush();
    c.rec.close();
  }
  const captures: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(sinks)) captures[k] = v.bytes();
  return {
    done: closed[0] && closed[1] && !failed && written === data.length,
    captures,
    clientPackets,
    trace,
    stats: [conns[0]!.stats(), conns[1]!.stats()],
    hosts: [client, server],
    nowMs: sim.nowMs,
  };
}

/** A temp directory removed by the returned cleanup (safe to call twice). */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `stevens-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const TSHARK = which('tshark');
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Runs tshark; throws with its stderr when it fails. Output as text. */
export function tshark(args: string[], timeoutMs = 20_000): string {
  const r = spawnSync(TSHARK!, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20, env: { ...process.env, HOME: process.env.HOME ?? tmpdir() } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** tshark -T fields output as rows of columns. */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][] {
  const out = tshark(['-r', file, '-n', ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/**
 * A UDP relay on 127.0.0.1 between one client and a server port that drops a seeded fraction of the datagrams
 * each way (never the first `spare` of each direction, so the handshake is not slowed down by a lost SYN).
 */
export async function lossyRelay(targetPort: number, opts: { seed: number; lossRate: number; spare?: number }) {
  const socket = createSocket('udp4');
  const prng = new Prng(opts.seed);
  let client: { address: string; port: number } | undefined;
  const stats = { forwarded: 0, dropped: 0 };
  const seen = { up: 0, down: 0 };
  socket.on('message', (msg, rinfo) => {
    const up = rinfo.port !== targetPort;
    if (up) client = { address: rinfo.address, port: rinfo.port };
    const n = up ? seen.up++ : seen.down++;
    if (n >= (opts.spare ?? 0) && prng.nextFloat() < opts.lossRate) {
      stats.dropped++;
      return;
    }
    if (!up && client === undefined) return;
    stats.forwarded++;
    socket.send(msg, up ? targetPort : client!.port, up ? '127.0.0.1' : client!.address);
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let closed = false;
  return {
    port: socket.address().port,
    get forwarded() {
      return stats.forwarded;
    },
    get dropped() {
      return stats.dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}

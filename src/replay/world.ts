// A simulated world for record/replay tests and benchmarks: one server endpoint and client endpoints (each may be
// a RecordingEndpoint) over a network profile, with a deterministic workload: game-like ticks (small messages
// each way, unreliable datagrams alongside) or a mixed one (bulk writes, slow reads, half-closes, aborts,
// reconnects). Every byte read is checked against what was written, so a corrupted stream is noticed, with the
// recorder's step at that moment.
import { Endpoint, type Connection, type EndpointEvent, type EndpointOptions } from '../core/index.js';
import { Simulator, type NetworkProfile, type PacketEvent, type SimHost } from '../sim/index.js';
import { join } from 'node:path';
import { RecordingEndpoint, type RecorderOptions } from './recorder.js';
import { RingSink } from './ring.js';
import { BufferSink, FileSink, type LogSink } from './writer.js';

export interface WorldOptions {
  seed: number;
  profile: NetworkProfile;
  clients: number;
  /** Connections each client keeps open at once (each reconnects after it ends, in 'mixed'). */
  connectionsPerClient?: number;
  durationMs: number;
  workload: 'game' | 'mixed';
  /** Record every endpoint: a full log in memory, a ring in memory, a full log per endpoint in `logDir`, or not at all. */
  record?: 'full' | 'ring' | 'file' | 'none';
  /** record 'file': where the logs go (`<host>.stvlog`). */
  logDir?: string;
  ringBytes?: number;
  recorder?: RecorderOptions;
  /** Extra endpoint options (faults, fixed ISNs...). */
  endpoint?: Partial<EndpointOptions>;
  /** Game: messages per second each way, and their size. */
  ratePerS?: number;
  messageBytes?: number;
  /** Game: unreliable datagrams per second each way. */
  datagramsPerS?: number;
  /** Time after the workload for everything to finish. */
  drainMs?: number;
  /** The simulator's packet hook (every datagram entering a link, delivered, dropped). */
  onPacket?: (ev: PacketEvent) => void;
}

export interface Corruption {
  host: string;
  connectionId: number;
  atMs: number;
  /** The recorder's step of the read() that returned the wrong byte. */
  step: number;
  offset: number;
  got: number;
  want: number;
}

export interface WorldResult {
  sim: Simulator;
  endpoints: Map<string, Endpoint>;
  /** host name -> full log (record 'full') or ring chunks (record 'ring'). */
  logs: Map<string, Buffer[]>;
  bytesRead: number;
  messagesRead: number;
  datagramsRead: number;
  connectionsOpened: number;
  corruptions: Corruption[];
  wallMs: number;
}

/** Mulberry32: a tiny seeded PRNG for workloads (the core's own PRNG is not shared with the application). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The byte at offset i of the stream a connection's side writes (a function of its key, so readers can check). */
export function streamByte(key: number, i: number): number {
  // A murmur3-style finalizer: the stream looks random (deflate cannot shrink it), so log sizes are worst cases.
  let h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(key, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 24;
}

interface Side {
  key: number;
  written: number;
  read: number;
  toWrite: number;
  finished: boolean;
  slowUntilMs: number;
}

const SERVER_PORT = 443;
const TCP_PORT = 7000;

export function runWorld(o: WorldOptions): WorldResult {
  const t0 = performance.now();
  const sim = new Simulator({ seed: o.seed });
  sim.onPacket = o.onPacket;
  const rand = rng(o.seed * 7919 + 1);
  const endpoints = new Map<string, Endpoint>();
  const sinks = new Map<string, BufferSink | RingSink>();
  const result: WorldResult = { sim, endpoints, logs: new Map(), bytesRead: 0, messagesRead: 0, datagramsRead: 0, connectionsOpened: 0, corruptions: [], wallMs: 0 };
  const perClient = o.connectionsPerClient ?? 1;
  const game = o.workload === 'game';
  const profileName = game ? 'game' : 'tcp';

  const make = (name: string, seed: number): Endpoint => {
    const opts: EndpointOptions = { seed, profile: profileName, ...o.endpoint };
    let ep: Endpoint;
    if (o.record === 'full' || o.record === 'ring') {
      const sink: LogSink & (BufferSink | RingSink) = o.record === 'full' ? new BufferSink() : new RingSink({ ringBytes: o.ringBytes ?? 256 << 10 });
      sinks.set(name, sink);
      ep = new RecordingEndpoint(opts, sink, { label: name, ...o.recorder });
    } else if (o.record === 'file') {
      ep = new RecordingEndpoint(opts, new FileSink(join(o.logDir!, `${name}.stvlog`)), { label: name, ...o.recorder });
    } else ep = new Endpoint(opts);
    endpoints.set(name, ep);
    return ep;
  };
  const stepOf = (ep: Endpoint) => (ep instanceof RecordingEndpoint ? ep.log.step - 1 : -1);

  const sides = new Map<Connection, Side>();
  /** A side's stream is keyed by its ports; the reader derives the writer's key from its own, swapped. */
  const keyOf = (conn: Connection) => (conn.localPort * 65536 + conn.remotePort) >>> 0;
  const peerKeyOf = (conn: Connection) => (conn.remotePort * 65536 + conn.localPort) >>> 0;
  const msg = (n: number) => Math.max(1, Math.round(n));

  /** Reads everything readable on a connection, checking each byte. */
  const drainRead = (host: string, ep: Endpoint, conn: Connection, side: Side, now: number) => {
    for (;;) {
      if (side.slowUntilMs > now) return;
      const chunk = conn.read(game ? undefined : 1 + Math.floor(rand() * 20000));
      if (chunk.length === 0) return;
      const key = peerKeyOf(conn);
      for (let i = 0; i < chunk.length; i++) {
        const want = streamByte(key, side.read + i);
        if (chunk[i] !== want && result.corruptions.length < 10) {
          result.corruptions.push({ host, connectionId: conn.id, atMs: now, step: stepOf(ep), offset: side.read + i, got: chunk[i]!, want });
          break;
        }
      }
      side.read += chunk.length;
      result.bytesRead += chunk.length;
      if (game) result.messagesRead += chunk.length / (o.messageBytes ?? 80);
      if (!game && rand() < 0.05) side.slowUntilMs = now + rand() * 300;
    }
  };

  const writeSome = (conn: Connection, side: Side, bytes: number) => {
    const want = Math.min(bytes, side.toWrite - side.written);
    if (want <= 0) return;
    const buf = new Uint8Array(want);
    for (let i = 0; i < want; i++) buf[i] = streamByte(side.key, side.written + i);
    try {
      side.written += conn.write(buf);
    } catch {
      side.toWrite = side.written;
    }
  };

  const onEvents = (host: string, ep: Endpoint, now: number) => {
    for (let ev: EndpointEvent | undefined = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
      const conn = ev.connection;
      let side = sides.get(conn);
      if (ev.type === 'accepted' || (ev.type === 'connected' && side === undefined)) {
        side = { key: keyOf(conn), written: 0, read: 0, toWrite: 0, finished: false, slowUntilMs: 0 };
        sides.set(conn, side);
      }
      if (side === undefined) continue;
      switch (ev.type) {
        case 'accepted':
        case 'connected':
          if (!game) {
            side.toWrite = Math.floor(rand() * rand() * 400_000);
            writeSome(conn, side, side.toWrite);
          } else side.toWrite = Number.MAX_SAFE_INTEGER;
          break;
        case 'readable':
          drainRead(host, ep, conn, side, now);
          break;
        case 'writable':
          if (!game) writeSome(conn, side, side.toWrite);
          break;
        case 'end':
          drainRead(host, ep, conn, side, now);
          if (!side.finished && side.written >= side.toWrite) {
            side.finished = true;
            conn.close();
          }
          break;
        case 'datagram':
          result.datagramsRead++;
          break;
        case 'closed':
          side.finished = true;
          break;
      }
      // Mixed: once everything is written, half-close (sometimes abort instead).
      if (!game && !side.finished && side.toWrite > 0 && side.written >= side.toWrite && conn.state === 'ESTABLISHED') {
        if (rand() < 0.05) {
          side.finished = true;
          conn.abort();
        } else conn.shutdown();
      }
    }
  };

  // The server.
  const server = make('server', o.seed * 31 + 5);
  server.listen({ port: TCP_PORT, backlog: 1024 });
  const serverHost = sim.addHost({ name: 'server', ipv4: '10.0.0.1', ipv6: 'fd00::1', port: SERVER_PORT }, server, (_h, now) => {
    onEvents('server', server, now);
  });

  for (let k = 0; k < o.clients; k++) {
    const name = `client${k}`;
    const ep = make(name, o.seed * 131 + k + 17);
    const v6 = k % 2 === 1;
    const host: SimHost = sim.addHost({ name, ...(v6 ? { ipv6: `fd00::${k + 2}` } : { ipv4: `10.0.${(k + 2) >> 8}.${(k + 2) & 0xff}` }), port: 40000 }, ep, (_h, now) => {
      onEvents(name, ep, now);
    });
    sim.connectProfile(host, serverHost, o.profile);
    const dest = v6 ? serverHost.addresses[1]! : serverHost.addresses[0]!;
    const open = (now: number) => {
      if (now > o.durationMs) return;
      const conn = ep.connect(now, dest, { port: TCP_PORT });
      result.connectionsOpened++;
      const side: Side = { key: keyOf(conn), written: 0, read: 0, toWrite: 0, finished: false, slowUntilMs: 0 };
      sides.set(conn, side);
      const watch = (t: number) => {
        if (side.finished || conn.state === 'CLOSED') {
          sim.at(t + 50 + rand() * 2000, open, host);
          return;
        }
        sim.at(t + 500, watch, host);
      };
      if (!game) sim.at(now + 500, watch, host);
    };
    for (let c = 0; c < perClient; c++) sim.at(k * 37 + c * 101 + rand() * 50, open, host);
  }

  if (game) {
    const rate = o.ratePerS ?? 20;
    const size = o.messageBytes ?? 80;
    const dgRate = o.datagramsPerS ?? 10;
    const interval = 1000 / rate;
    const tick = (name: string, ep: Endpoint, host: SimHost) => (now: number) => {
      for (const conn of ep.connections()) {
        const side = sides.get(conn);
        if (side === undefined || conn.state !== 'ESTABLISHED' && conn.state !== 'CLOSE-WAIT') continue;
        writeSome(conn, side, msg(size * (0.5 + rand())));
        if (dgRate > 0 && rand() < dgRate / rate) {
          const d = new Uint8Array(Math.min(conn.maxDatagramPayloadBytes, 20 + Math.floor(rand() * 100)));
          for (let i = 0; i < d.length; i++) d[i] = (rand() * 256) | 0;
          conn.sendDatagram(d);
        }
      }
      if (now + interval < o.durationMs) sim.at(now + interval, tick(name, ep, host), host);
    };
    sim.at(1000, tick('server', server, serverHost), serverHost);
    for (const h of sim.hosts) if (h.name !== 'server') sim.at(1000 + rand() * interval, tick(h.name, endpoints.get(h.name)!, h), h);
    // At the end every client closes.
    for (const h of sim.hosts) {
      if (h.name === 'server') continue;
      const ep = endpoints.get(h.name)!;
      sim.at(o.durationMs, () => {
        for (const c of ep.connections()) c.close();
      }, h);
    }
  }

  sim.run(o.durationMs + (o.drainMs ?? 120_000));
  for (const ep of endpoints.values()) if (ep instanceof RecordingEndpoint) ep.closeLog();
  // The run's time: recording included, gathering the logs into buffers afterwards not.
  result.wallMs = performance.now() - t0;
  for (const [name, sink] of sinks) result.logs.set(name, sink instanceof BufferSink ? [sink.toBuffer()] : sink.logs());
  return result;
}

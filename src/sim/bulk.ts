// The lab's bulk transfer, for tests and benchmarks: an application on both sides that writes its data (seeded
// pseudo-random bytes) while the send buffer takes it, half-closes, and reads everything that arrives, with the
// SHA-256 of what was written and what was read on each side (a pure function of the bytes: no randomness, no
// clock). bulkTransfer runs it between the two endpoints of a MemoryPair; simTransfer between two Endpoints on
// simulated hosts, driven the way an application would be: each host's activity hook polls its endpoint's events.
import { createHash, type Hash } from 'node:crypto';
import { Endpoint, type Connection, type EndpointEvent, type EndpointOptions } from '../core/index.js';
import { Prng } from '../util/prng.js';
import type { SimHost } from './host.js';
import type { LinkConfig, NetworkProfile } from './link-config.js';
import type { SimLink } from './link.js';
import { MemoryPair } from './memory-pair.js';
import { Simulator } from './simulator.js';

export interface BulkResult {
  done: boolean;
  nowMs: number;
  sentDigest: [string, string];
  receivedDigest: [string, string];
  receivedBytes: [number, number];
  closed: [boolean, boolean];
  errors: string[];
  connections: [Connection | undefined, Connection | undefined];
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(seed: number, n: number): Uint8Array {
  const prng = new Prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = prng.nextUint32();
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

const patternCache = new Map<string, Uint8Array>();

/** patternBytes, kept: transfers of the same size reuse the same data. */
export function cachedPattern(seed: number, n: number): Uint8Array {
  const key = `${seed}/${n}`;
  let p = patternCache.get(key);
  if (p === undefined) {
    p = patternBytes(seed, n);
    patternCache.set(key, p);
  }
  return p;
}

/**
 * The application on both sides of a bulk transfer, fed the endpoints' events: writes its data while the send
 * buffer takes it, then shuts down; reads everything that arrives. `hash: false` skips the SHA-256 digests
 * (benchmarks measure the protocol, not SHA-256); byte counts are kept either way.
 */
export class BulkApp {
  readonly conns: [Connection | undefined, Connection | undefined] = [undefined, undefined];
  readonly closed: [boolean, boolean] = [false, false];
  readonly errors: string[] = [];
  /** Bytes each side read. */
  readonly received: [number, number] = [0, 0];
  private readonly data: [Uint8Array, Uint8Array];
  private readonly written = [0, 0];
  private readonly sentHash: Hash[] = [createHash('sha256'), createHash('sha256')];
  private readonly recvHash: Hash[] = [createHash('sha256'), createHash('sha256')];

  constructor(
    bytesEachWay: [number, number],
    private readonly hash = true,
  ) {
    this.data = [cachedPattern(11, bytesEachWay[0]), cachedPattern(22, bytesEachWay[1])];
  }

  /** Both sides closed, or one failed. */
  get finished(): boolean {
    return (this.closed[0] && this.closed[1]) || this.errors.length > 0;
  }

  onEvent(side: 0 | 1, ev: EndpointEvent): void {
    switch (ev.type) {
      case 'accepted':
      case 'connected':
        this.conns[side] = ev.connection;
        this.pump(side);
        break;
      case 'writable':
        this.pump(side);
        break;
      case 'readable':
        for (let chunk = ev.connection.read(); chunk.length > 0; chunk = ev.connection.read()) {
          if (this.hash) this.recvHash[side]!.update(chunk);
          this.received[side] += chunk.length;
        }
        break;
      case 'closed':
        this.closed[side] = true;
        if (ev.error) this.errors.push(`side ${side}: ${ev.error.code} ${ev.error.message}`);
        break;
    }
  }

  /** Digests of what each side wrote, what the other read of it (side 0 receives what side 1 sent), and its length. */
  digests(): { sentDigest: [string, string]; receivedDigest: [string, string]; receivedBytes: [number, number] } {
    return {
      sentDigest: [this.sentHash[0]!.digest('hex'), this.sentHash[1]!.digest('hex')],
      receivedDigest: [this.recvHash[1]!.digest('hex'), this.recvHash[0]!.digest('hex')],
      receivedBytes: [this.received[1], this.received[0]],
    };
  }

  private pump(side: 0 | 1): void {
    const c = this.conns[side]!;
    const data = this.data[side];
    while (this.written[side]! < data.length) {
      const chunk = data.subarray(this.written[side]!, Math.min(this.written[side]! + 65536, data.length));
      const n = c.write(chunk);
      if (this.hash) this.sentHash[side]!.update(chunk.subarray(0, n));
      this.written[side]! += n;
      if (n < chunk.length) return;
    }
    c.shutdown();
  }
}

/** `hash: false` skips the digests (benchmarks measure the protocol, not SHA-256); byte counts still checked. */
export function bulkTransfer(pair: MemoryPair, bytesEachWay: [number, number], limitMs: number, port = 5000, hash = true): BulkResult {
  const [a, b] = pair.endpoints;
  b.listen({ port });
  const app = new BulkApp(bytesEachWay, hash);
  app.conns[0] = a.connect(pair.nowMs, pair.addresses[1], { port });
  const done = pair.run(
    (side, ev) => app.onEvent(side, ev),
    () => app.finished,
    limitMs,
  );
  return {
    done: done && app.errors.length === 0,
    nowMs: pair.nowMs,
    ...app.digests(),
    closed: app.closed,
    errors: app.errors,
    connections: app.conns,
  };
}

/** What bulkTransfer reports (but which sides closed), and the simulated world it ran in. */
export interface SimTransferResult extends Omit<BulkResult, 'closed'> {
  sim: Simulator;
  endpoints: [Endpoint, Endpoint];
  hosts: [SimHost, SimHost];
  links: [SimLink, SimLink];
}

export interface SimTransferOptions {
  seed?: number;
  /** A profile, or the two directions' configs (client -> server, server -> client). */
  path: NetworkProfile | [LinkConfig, LinkConfig];
  bytes: [number, number];
  limitMs: number;
  endpointOptions?: [Partial<EndpointOptions>, Partial<EndpointOptions>];
  /** Set up before the run (e.g. a packet hook). */
  prepare?: (sim: Simulator) => void;
  ipv6?: boolean;
  /** When the client connects (default 0). */
  startMs?: number;
  /** false: no SHA-256 (benchmarks measure the protocol and the simulator); byte counts still kept. */
  hash?: boolean;
}

export function simTransfer(o: SimTransferOptions): SimTransferResult {
  const sim = new Simulator({ seed: o.seed ?? 1 });
  const eps: [Endpoint, Endpoint] = [
    new Endpoint({ seed: 101, ...o.endpointOptions?.[0] }),
    new Endpoint({ seed: 202, ...o.endpointOptions?.[1] }),
  ];
  const app = new BulkApp(o.bytes, o.hash ?? true);
  const activity = (side: 0 | 1) => () => {
    const ep = eps[side];
    for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) app.onEvent(side, ev);
  };
  const addr = (n: number) => (o.ipv6 ? { ipv6: `2001:db8::${n}` } : { ipv4: `192.0.2.${n}` });
  const client = sim.addHost({ name: 'client', ...addr(1) }, eps[0], activity(0));
  const server = sim.addHost({ name: 'server', ...addr(2), port: 5000 }, eps[1], activity(1));
  const links = Array.isArray(o.path) ? sim.connect(client, server, o.path[0], o.path[1]) : sim.connectProfile(client, server, o.path);
  eps[1].listen({ port: 5000 });
  sim.at(o.startMs ?? 0, (now) => void eps[0].connect(now, server.addresses[0]!, { port: 5000 }), client);
  o.prepare?.(sim);
  sim.run(o.limitMs, () => app.finished);
  return {
    done: app.closed[0] && app.closed[1] && app.errors.length === 0,
    nowMs: sim.nowMs,
    ...app.digests(),
    errors: app.errors,
    sim,
    endpoints: eps,
    hosts: [client, server],
    links,
    connections: app.conns,
  };
}

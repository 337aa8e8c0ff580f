// A bulk transfer both ways between two stevens Endpoints on simulated hosts, driven the way an application
// would be: each host's activity hook polls its endpoint's events, writes while it may, reads what arrives.
// SHA-256 of what each side wrote and what the other read.
import { createHash, type Hash } from 'node:crypto';
import { Endpoint, type Connection, type EndpointOptions } from '../../src/core/index.js';
import { Simulator, type LinkConfig, type NetworkProfile, type SimHost, type SimLink } from '../../src/sim/index.js';
import { patternBytes } from './bulk.js';

export interface SimTransferResult {
  done: boolean;
  nowMs: number;
  sentDigest: [string, string];
  receivedDigest: [string, string];
  receivedBytes: [number, number];
  errors: string[];
  sim: Simulator;
  endpoints: [Endpoint, Endpoint];
  hosts: [SimHost, SimHost];
  links: [SimLink, SimLink];
  connections: [Connection | undefined, Connection | undefined];
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

const patterns = new Map<string, Uint8Array>();
function pattern(seed: number, n: number): Uint8Array {
  const key = `${seed}/${n}`;
  let p = patterns.get(key);
  if (p === undefined) patterns.set(key, (p = patternBytes(seed, n)));
  return p;
}

export function simTransfer(o: SimTransferOptions): SimTransferResult {
  const sim = new Simulator({ seed: o.seed ?? 1 });
  const eps: [Endpoint, Endpoint] = [
    new Endpoint({ seed: 101, ...o.endpointOptions?.[0] }),
    new Endpoint({ seed: 202, ...o.endpointOptions?.[1] }),
  ];
  const data = [pattern(11, o.bytes[0]), pattern(22, o.bytes[1])];
  const written = [0, 0];
  const sentHash: Hash[] = [createHash('sha256'), createHash('sha256')];
  const recvHash: Hash[] = [createHash('sha256'), createHash('sha256')];
  const received: [number, number] = [0, 0];
  const closed = [false, false];
  const errors: string[] = [];
  const conns: [Connection | undefined, Connection | undefined] = [undefined, undefined];
  const hash = o.hash ?? true;

  const pump = (side: 0 | 1) => {
    const c = conns[side]!;
    while (written[side]! < data[side]!.length) {
      const chunk = data[side]!.subarray(written[side]!, Math.min(written[side]! + 65536, data[side]!.length));
      const n = c.write(chunk);
      if (hash) sentHash[side]!.update(chunk.subarray(0, n));
      written[side]! += n;
      if (n < chunk.length) return;
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
          pump(side);
          break;
        case 'writable':
          pump(side);
          break;
        case 'readable':
          for (let chunk = ev.connection.read(); chunk.length > 0; chunk = ev.connection.read()) {
            if (hash) recvHash[side]!.update(chunk);
            received[side] += chunk.length;
          }
          break;
        case 'closed':
          closed[side] = true;
          if (ev.error) errors.push(`side ${side}: ${ev.error.code} ${ev.error.message}`);
          break;
      }
    }
  };
  const addr = (n: number) => (o.ipv6 ? { ipv6: `2001:db8::${n}` } : { ipv4: `192.0.2.${n}` });
  const client = sim.addHost({ name: 'client', ...addr(1) }, eps[0], activity(0));
  const server = sim.addHost({ name: 'server', ...addr(2), port: 5000 }, eps[1], activity(1));
  const links = Array.isArray(o.path) ? sim.connect(client, server, o.path[0], o.path[1]) : sim.connectProfile(client, server, o.path);
  eps[1].listen({ port: 5000 });
  sim.at(o.startMs ?? 0, (now) => void eps[0].connect(now, server.addresses[0]!, { port: 5000 }), client);
  o.prepare?.(sim);
  sim.run(o.limitMs, () => (closed[0] && closed[1]) || errors.length > 0);
  return {
    done: closed[0] && closed[1] && errors.length === 0,
    nowMs: sim.nowMs,
    sentDigest: [sentHash[0]!.digest('hex'), sentHash[1]!.digest('hex')],
    receivedDigest: [recvHash[1]!.digest('hex'), recvHash[0]!.digest('hex')],
    receivedBytes: [received[1], received[0]],
    errors,
    sim,
    endpoints: eps,
    hosts: [client, server],
    links,
    connections: conns,
  };
}

// A bulk transfer both ways between two stevens Endpoints on simulated hosts, driven the way an application
// would be: each host's activity hook polls its endpoint's events, writes while it may, reads what arrives.
// SHA-256 of what each side wrote and what the other read.
import { Endpoint, type Connection, type EndpointOptions } from '../../src/core/index.js';
import { Simulator, type LinkConfig, type NetworkProfile, type SimHost, type SimLink } from '../../src/sim/index.js';
import { BulkApp } from './bulk.js';

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

// The lab's speed as the soak brief measures it: simulated seconds per wall-clock second for (a) one bulk connection over a 10 Mbit/s, 50 ms
// RTT path with 1% loss and (b) 100 connections of game-like traffic (20 messages/s each way plus datagrams),
// both driven by the discrete-event simulator with the stevens core on every host; and the soak runner itself
// (every invariant checked) on a game workload.
import { Endpoint, type Connection } from '../src/core/index.js';
import { PROFILES, Simulator, type LinkConfig, type SimHost } from '../src/sim/index.js';
import { runSoak } from '../src/soak/index.js';
import { printTable } from './table.js';

interface Speed {
  simS: number;
  wallS: number;
  /** Application bytes delivered per simulated second, in Mbit/s. */
  goodputMbps: number;
  events: number;
}

function pump(conn: Connection, chunk: Uint8Array): void {
  while (conn.write(chunk) === chunk.length);
}

/** (a) One connection sending as fast as it may for `simMs`. */
export function bulkSpeed(simMs: number, seed = 1): Speed {
  const sim = new Simulator({ seed });
  const client = new Endpoint({ seed: seed * 2 + 1 });
  const server = new Endpoint({ seed: seed * 2 + 2 });
  server.listen({ port: 80 });
  const chunk = new Uint8Array(64 * 1024).fill(0x5a);
  let conn: Connection | undefined;
  let delivered = 0;
  const serverHost = sim.addHost({ name: 'server', ipv4: '10.0.0.1', port: 80 }, server, () => {
    for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
      if (ev.type === 'readable') for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) delivered += b.length;
    }
  });
  const clientHost = sim.addHost({ name: 'client', ipv4: '10.0.0.2', port: 4000 }, client, () => {
    for (let ev = client.pollEvent(); ev !== undefined; ev = client.pollEvent()) {
      if (ev.type === 'connected' || ev.type === 'writable') pump(ev.connection, chunk);
    }
  });
  // 10 Mbit/s, 25 ms each way, 1% random loss each way, a queue of 100 ms at the bottleneck.
  const link: LinkConfig = { delayMs: 25, lossRate: 0.01, rateBitsPerS: 10e6, queueBytes: 125_000 };
  sim.connect(clientHost, serverHost, link);
  sim.at(0, (now) => {
    conn = client.connect(now, { address: '10.0.0.1', port: 80 });
  }, clientHost);
  const t0 = performance.now();
  sim.run(simMs);
  const wallS = (performance.now() - t0) / 1000;
  if (conn === undefined) throw new Error('no connection');
  return { simS: simMs / 1000, wallS, goodputMbps: (delivered * 8) / 1e6 / (simMs / 1000), events: sim.eventsProcessed };
}

/**
 * (b) 100 game-profile connections from 10 client hosts over the wifi profile: every 50 ms each side of each connection
 * writes a 100-byte message and sends a 200-byte datagram (a 20 Hz game tick: inputs up, snapshots down).
 */
export function gameSpeed(simMs: number, connections = 100, seed = 1): Speed {
  const sim = new Simulator({ seed });
  // The profile is set per endpoint: per connection it is not applied by the core yet (src/soak's 'config' check).
  const server = new Endpoint({ seed: 7, profile: 'game' });
  server.listen({ port: 7000 });
  const message = new Uint8Array(100).fill(1);
  const datagram = new Uint8Array(200).fill(2);
  let delivered = 0;
  const serverConns: Connection[] = [];
  const drainEvents = (ep: Endpoint, conns?: Connection[]) => {
    for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
      if (ev.type === 'readable') for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) delivered += b.length;
      else if (ev.type === 'datagram') delivered += ev.bytes.length;
      else if (ev.type === 'accepted') conns?.push(ev.connection);
    }
  };
  const serverHost = sim.addHost({ name: 'server', ipv4: '10.0.0.1', port: 7000 }, server, () => drainEvents(server, serverConns));
  const tick = (host: SimHost, conns: Connection[]) => {
    const step = (now: number) => {
      for (const c of conns) {
        if (c.state !== 'ESTABLISHED') continue;
        c.write(message);
        c.sendDatagram(datagram);
      }
      sim.at(now + 50, step, host);
    };
    sim.at(1000, step, host);
  };
  tick(serverHost, serverConns);
  const hosts = 10;
  for (let h = 0; h < hosts; h++) {
    const ep = new Endpoint({ seed: 100 + h, profile: 'game' });
    const conns: Connection[] = [];
    const host = sim.addHost({ name: `client${h}`, ipv4: `10.0.1.${h + 1}`, port: 4000 }, ep, () => drainEvents(ep));
    sim.connectProfile(host, serverHost, PROFILES.wifi!);
    sim.at(h, (now) => {
      for (let i = h; i < connections; i += hosts) conns.push(ep.connect(now, { address: '10.0.0.1', port: 7000 }));
    }, host);
    tick(host, conns);
  }
  const t0 = performance.now();
  sim.run(simMs);
  const wallS = (performance.now() - t0) / 1000;
  if (serverConns.length !== connections) throw new Error(`only ${serverConns.length} of ${connections} connections accepted`);
  return { simS: simMs / 1000, wallS, goodputMbps: (delivered * 8) / 1e6 / (simMs / 1000), events: sim.eventsProcessed };
}

export function runLabBench(quick: boolean): void {
  const bulkMs = (quick ? 60 : 300) * 1000;
  const gameMs = (quick ? 30 : 120) * 1000;
  bulkSpeed(5000); // warm-up
  gameSpeed(3000);
  const a = bulkSpeed(bulkMs);
  const b = gameSpeed(gameMs);
  const t0 = performance.now();
  const soak = runSoak({ seed: 1, profile: 'wifi', connections: 100, durationMs: gameMs, workload: 'game' });
  const soakWall = (performance.now() - t0) / 1000;
  const row = (what: string, s: Speed, target: string): Array<string | number> => [what, s.simS, s.wallS, s.simS / s.wallS, target, s.goodputMbps, s.events / s.wallS / 1000];
  printTable('Lab: simulated seconds per wall second (one thread)', ['workload', 'simulated s', 'wall s', 'x real time', 'target', 'goodput Mbit/s (sim)', 'k events/s (wall)'], [
    row('(a) 1 bulk connection: 10 Mbit/s, 50 ms RTT, 1% loss each way', a, '>= 200x'),
    row('(b) 100 game connections over wifi: 20 msg/s + 20 datagrams/s each way', b, '>= 20x'),
    [
      `soak runner, game workload, 100 connections, wifi, every invariant checked${soak.violationCount ? ` (${soak.violationCount} violations)` : ''}`,
      soak.simulatedMs / 1000,
      soakWall,
      soak.simulatedMs / 1000 / soakWall,
      '-',
      ((soak.bytes.up.read + soak.bytes.down.read) * 8) / 1e6 / (soak.simulatedMs / 1000),
      soak.events / soakWall / 1000,
    ],
  ]);
}

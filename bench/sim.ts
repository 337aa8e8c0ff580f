// The simulator's benchmark: how much faster than real time it runs a 10 Mbit/s bulk connection and 100 small
// game-like connections, and its per-datagram cost against the bare in-memory link (MemoryPair) for the same
// transfer. Targets: bulk >= 200x real time, 100 game connections >= 20x.
import { Endpoint, type Connection } from '../src/core/index.js';
import { MemoryPair } from '../src/sim/memory-pair.js';
import { Simulator, type LinkConfig } from '../src/sim/index.js';
import { bulkTransfer, simTransfer } from '../src/sim/bulk.js';
import { printTable } from './table.js';

const MB = 1 << 20;

/** 10 Mbit/s each way, 20 ms RTT, a queue of 100 datagrams (about a BDP and a half), no loss. */
const TEN_MBIT: LinkConfig = { delayMs: 10, rateBitsPerS: 10e6, queuePackets: 100 };

function bulkSpeed(bytes: number): { speedup: number; wallMBps: number; ok: boolean; simS: number } {
  simTransfer({ path: [TEN_MBIT, TEN_MBIT], bytes: [MB, 0], limitMs: 600_000 }); // warm-up
  simTransfer({ path: [TEN_MBIT, TEN_MBIT], bytes: [bytes, 0], limitMs: 1 }); // the data, generated before the clock starts
  const t0 = performance.now();
  const r = simTransfer({ path: [TEN_MBIT, TEN_MBIT], bytes: [bytes, 0], limitMs: 3_600_000, hash: false });
  const wallS = (performance.now() - t0) / 1000;
  return { speedup: r.nowMs / 1000 / wallS, wallMBps: bytes / MB / wallS, ok: r.done && r.receivedBytes[0] === bytes, simS: r.nowMs / 1000 };
}

function memoryPairMBps(bytes: number): number {
  bulkTransfer(new MemoryPair(1, [{}, {}], { delayMs: 10 }), [MB, 0], 600_000);
  bulkTransfer(new MemoryPair(1, [{}, {}], { delayMs: 10 }), [bytes, 0], 1, 5000, false);
  const t0 = performance.now();
  bulkTransfer(new MemoryPair(1, [{}, {}], { delayMs: 10 }), [bytes, 0], 3_600_000, 5000, false);
  return bytes / MB / ((performance.now() - t0) / 1000);
}

/**
 * n client hosts, each with one 'game' profile connection to one server host, over wifi-like links; 100-byte
 * messages at 20/s each way. Returns simulated seconds per wall second.
 */
export function gameSpeed(n: number, durationMs: number): { speedup: number; messages: number; events: number } {
  const sim = new Simulator({ seed: 3 });
  const link: LinkConfig = { delayMs: 15, jitter: { kind: 'normal', stdDevMs: 3 }, preserveOrder: true, lossRate: 0.01, rateBitsPerS: 20e6, queuePackets: 256 };
  const server = new Endpoint({ seed: 1, profile: 'game' });
  server.listen({ port: 7000 });
  const serverConns: Connection[] = [];
  let messages = 0;
  const msg = new Uint8Array(100);
  const serverHost = sim.addHost({ name: 'server', port: 7000 }, server, () => {
    for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
      if (ev.type === 'accepted') serverConns.push(ev.connection);
      else if (ev.type === 'readable') for (let c = ev.connection.read(); c.length > 0; c = ev.connection.read()) messages += c.length / 100;
    }
  });
  const clients: Array<{ ep: Endpoint; conn?: Connection }> = [];
  for (let i = 0; i < n; i++) {
    const ep = new Endpoint({ seed: 10 + i, profile: 'game' });
    const c: { ep: Endpoint; conn?: Connection } = { ep };
    clients.push(c);
    const host = sim.addHost({ name: `client${i}` }, ep, () => {
      for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
        if (ev.type === 'readable') for (let ch = ev.connection.read(); ch.length > 0; ch = ev.connection.read()) messages += ch.length / 100;
      }
    });
    sim.connect(host, serverHost, link);
    sim.at(i, (now) => (c.conn = ep.connect(now, serverHost.addresses[0]!, { port: 7000 })), host);
    // Each client ticks every 50 ms, staggered, writing one message; each tick schedules the next.
    const tick = (now: number) => {
      c.conn?.write(msg);
      if (now + 50 < durationMs) sim.at(now + 50, tick, host);
    };
    sim.at(1000 + (i % 50), tick, host);
  }
  // The server answers on its own tick, one message to every client.
  const serverTick = (now: number) => {
    for (const sc of serverConns) sc.write(msg);
    if (now + 50 < durationMs) sim.at(now + 50, serverTick, serverHost);
  };
  sim.at(1025, serverTick, serverHost);
  const t0 = performance.now();
  sim.run(durationMs);
  const wallS = (performance.now() - t0) / 1000;
  return { speedup: durationMs / 1000 / wallS, messages, events: sim.eventsProcessed };
}

export function runSimBench(quick: boolean): void {
  const bytes = (quick ? 16 : 64) * MB;
  const b = bulkSpeed(bytes);
  const mp = memoryPairMBps(bytes);
  printTable(`Simulator: ${bytes / MB} MB one way over 10 Mbit/s, 20 ms RTT (target >= 200x real time)`, ['what', 'x real time', 'MB/s (wall)', 'sim s'], [
    [`simulator${b.ok ? '' : ' (DATA MISMATCH)'}`, b.speedup, b.wallMBps, b.simS],
    ['bare in-memory link (MemoryPair), same bytes, no rate limit', '-', mp, '-'],
  ]);
  const durationMs = quick ? 20_000 : 60_000;
  const g = gameSpeed(100, durationMs);
  printTable(`Simulator: 100 game-profile connections, 100-byte messages at 20/s each way, ${durationMs / 1000} s (target >= 20x)`, ['what', 'x real time', 'messages', 'events'], [
    ['simulator', g.speedup, g.messages, g.events],
  ]);
}

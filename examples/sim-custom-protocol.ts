// Your own sans-IO protocol through stevens' network simulator.
//
// Anything with the four methods of SansIoNode can live on a simulated host: the simulator hands it datagrams
// (handleDatagram), collects what it wants to send (pollTransmit, called until it returns undefined), asks when
// it next wants to be woken (pollTimeoutMs) and wakes it then (handleTimeout). Time is always passed in, so the
// protocol never reads a clock and a run is a pure function of the seed.
//
// Here: a ping-pong. The client sends "ping n" every intervalMs; the server answers "pong n"; the client counts
// a ping as lost when no pong comes within timeoutMs, and records the round trip of the others.
//
//   npx tsc -p . && node dist/examples/sim-custom-protocol.js
import { pathToFileURL } from 'node:url';
import type { Remote, Transmit } from '../src/core/index.js';
import { PROFILES, Simulator, type NetworkProfile, type SansIoNode } from '../src/sim/index.js';

const PING = 1;
const PONG = 2;

/** A message: one type byte, then the ping's number (u32, big-endian). */
function encode(type: number, n: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, n);
  return bytes;
}

function decode(bytes: Uint8Array): { type: number; n: number } | undefined {
  if (bytes.length !== 5 || (bytes[0] !== PING && bytes[0] !== PONG)) return undefined; // damaged or foreign
  return { type: bytes[0]!, n: new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1) };
}

/** Answers every ping with a pong to whoever sent it. */
export class PongServer implements SansIoNode {
  private readonly outbox: Transmit[] = [];
  pings = 0;

  handleDatagram(_nowMs: number, remote: Remote, bytes: Uint8Array): void {
    const m = decode(bytes);
    if (m?.type !== PING) return;
    this.pings++;
    this.outbox.push({ remote, bytes: encode(PONG, m.n) });
  }

  pollTransmit(_nowMs: number): Transmit | undefined {
    return this.outbox.shift();
  }

  pollTimeoutMs(): number | undefined {
    return undefined; // the server never needs waking
  }

  handleTimeout(_nowMs: number): void {}
}

export interface PingOptions {
  count: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Sends `count` pings, one every intervalMs from time 0, and measures the answers. */
export class PingClient implements SansIoNode {
  readonly rttsMs: number[] = [];
  lost = 0;
  duplicates = 0;
  private sent = 0;
  private readonly sentAtMs = new Map<number, number>();
  private readonly outbox: Transmit[] = [];

  constructor(
    private readonly server: Remote,
    private readonly opts: PingOptions,
  ) {}

  /** True when every ping has been answered or given up on. */
  get done(): boolean {
    return this.sent === this.opts.count && this.sentAtMs.size === 0;
  }

  handleDatagram(nowMs: number, _remote: Remote, bytes: Uint8Array): void {
    const m = decode(bytes);
    if (m?.type !== PONG) return;
    const at = this.sentAtMs.get(m.n);
    if (at === undefined) {
      this.duplicates++; // a duplicate, or the answer to a ping already given up on
      return;
    }
    this.sentAtMs.delete(m.n);
    this.rttsMs.push(nowMs - at);
  }

  pollTransmit(_nowMs: number): Transmit | undefined {
    return this.outbox.shift();
  }

  /** The earlier of: the next ping due, the oldest outstanding ping's give-up time. */
  pollTimeoutMs(): number | undefined {
    let next = this.sent < this.opts.count ? this.sent * this.opts.intervalMs : Infinity;
    for (const at of this.sentAtMs.values()) {
      next = Math.min(next, at + this.opts.timeoutMs);
      break; // a Map iterates in insertion order: the first is the oldest
    }
    return next === Infinity ? undefined : next;
  }

  handleTimeout(nowMs: number): void {
    for (const [n, at] of this.sentAtMs) {
      if (at + this.opts.timeoutMs > nowMs) break;
      this.sentAtMs.delete(n);
      this.lost++;
    }
    while (this.sent < this.opts.count && this.sent * this.opts.intervalMs <= nowMs) {
      this.sentAtMs.set(this.sent, nowMs);
      this.outbox.push({ remote: this.server, bytes: encode(PING, this.sent) });
      this.sent++;
    }
  }
}

export interface PingPongResult {
  profile: string;
  answered: number;
  lost: number;
  duplicates: number;
  rttP50Ms: number;
  rttMaxMs: number;
  simulatedMs: number;
}

/** One client and one server over a profile's links; runs until every ping is settled. */
export function runPingPong(profile: NetworkProfile, seed = 1, opts: PingOptions = { count: 1000, intervalMs: 20, timeoutMs: 3000 }): PingPongResult {
  const sim = new Simulator({ seed });
  const server = new PongServer();
  const serverHost = sim.addHost({ name: 'server', ipv4: '192.0.2.10', port: 7 }, server);
  const client = new PingClient(serverHost.addresses[0]!, opts);
  const clientHost = sim.addHost({ name: 'client', ipv4: '192.0.2.20' }, client);
  sim.connectProfile(clientHost, serverHost, profile);
  sim.run(opts.count * opts.intervalMs + opts.timeoutMs + 60_000, () => client.done);
  const sorted = [...client.rttsMs].sort((a, b) => a - b);
  return {
    profile: profile.name,
    answered: sorted.length,
    lost: client.lost,
    duplicates: client.duplicates,
    rttP50Ms: sorted[sorted.length >> 1] ?? NaN,
    rttMaxMs: sorted[sorted.length - 1] ?? NaN,
    simulatedMs: sim.nowMs,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const name of ['lan', 'wifi', 'lossy-5', 'satellite', 'hell']) {
    const r = runPingPong(PROFILES[name]!);
    console.log(`${name.padEnd(10)} answered ${r.answered}, lost ${r.lost}, duplicates ${r.duplicates}, RTT p50 ${r.rttP50Ms.toFixed(1)} ms, max ${r.rttMaxMs.toFixed(1)} ms`);
  }
}

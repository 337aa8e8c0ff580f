// Measuring nodes for the simulator's tests: a Probe sends numbered datagrams on a fixed clock (its own timer,
// through the seam like any protocol) and records every datagram it receives, so a test can see exactly what a
// link did: which were lost, when each arrived, in which order, damaged or not.
import { wire, type Remote, type Transmit } from '../../src/core/index.js';
import type { SansIoNode } from '../../src/sim/seam.js';
import { Simulator, type LinkConfig, type SimLink } from '../../src/sim/index.js';

const { crc32 } = wire;

/** Header of a probe datagram: seq (u32), send time (f64), then filler, then a CRC-32 of all before it. */
const HEADER = 12;
export const MIN_PROBE_BYTES = HEADER + 4;

export interface Arrival {
  seq: number;
  sentAtMs: number;
  atMs: number;
  length: number;
  /** Length and CRC as sent. */
  intact: boolean;
  from: Remote;
}

export interface ProbeOptions {
  to?: Remote;
  count?: number;
  intervalMs?: number;
  size?: number;
  startMs?: number;
  /** Keep every array sent (to check later that nobody wrote into them). */
  keepSent?: boolean;
}

export class Probe implements SansIoNode {
  readonly arrivals: Arrival[] = [];
  readonly sent: Uint8Array[] = [];
  sentCount = 0;
  timeouts = 0;
  private readonly outbox: Transmit[] = [];
  private nextAtMs: number;
  private readonly opts: Required<Omit<ProbeOptions, 'to'>> & { to?: Remote };

  constructor(opts: ProbeOptions = {}) {
    this.opts = { count: 0, intervalMs: 1, size: 100, startMs: 0, keepSent: false, ...opts };
    if (this.opts.size < MIN_PROBE_BYTES) throw new Error('probe datagrams need 16 bytes');
    this.nextAtMs = this.opts.startMs;
  }

  /** Where to send (before the run starts, or the next run() picks it up). */
  target(to: Remote): void {
    this.opts.to = to;
  }

  handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ok = bytes.length >= MIN_PROBE_BYTES && crc32(bytes, 0, bytes.length - 4) === dv.getUint32(bytes.length - 4);
    this.arrivals.push({
      seq: bytes.length >= 4 ? dv.getUint32(0) : -1,
      sentAtMs: bytes.length >= HEADER ? dv.getFloat64(4) : NaN,
      atMs: nowMs,
      length: bytes.length,
      intact: ok,
      from: remote,
    });
  }

  pollTransmit(_nowMs: number): Transmit | undefined {
    return this.outbox.shift();
  }

  pollTimeoutMs(): number | undefined {
    return this.opts.to !== undefined && this.sentCount < this.opts.count ? this.nextAtMs : undefined;
  }

  handleTimeout(nowMs: number): void {
    this.timeouts++;
    const o = this.opts;
    while (o.to !== undefined && this.sentCount < o.count && this.nextAtMs <= nowMs) {
      const bytes = probeBytes(this.sentCount, nowMs, o.size);
      if (o.keepSent) this.sent.push(bytes);
      this.outbox.push({ remote: o.to, bytes });
      this.sentCount++;
      this.nextAtMs = o.startMs + this.sentCount * o.intervalMs;
    }
  }
}

export function probeBytes(seq: number, atMs: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, seq);
  dv.setFloat64(4, atMs);
  for (let i = HEADER; i < size - 4; i++) bytes[i] = (seq * 31 + i * 7) & 0xff;
  dv.setUint32(size - 4, crc32(bytes, 0, size - 4));
  return bytes;
}

export interface BlastResult {
  sim: Simulator;
  link: SimLink;
  back: SimLink;
  sender: Probe;
  receiver: Probe;
}

/** One Probe sending over a link with `config` to another; runs until untilMs (default: a second after the last). */
export function blast(config: LinkConfig, opts: ProbeOptions & { seed?: number; untilMs?: number }): BlastResult {
  const sim = new Simulator({ seed: opts.seed ?? 1 });
  const receiver = new Probe();
  const rHost = sim.addHost({ name: 'receiver', ipv4: '10.0.0.2', port: 9 }, receiver);
  const sender = new Probe({ ...opts, to: rHost.addresses[0] });
  const sHost = sim.addHost({ name: 'sender', ipv4: '10.0.0.1', port: 7 }, sender);
  const [link, back] = sim.connect(sHost, rHost, config, { delayMs: 0 });
  const count = opts.count ?? 0;
  const interval = opts.intervalMs ?? 1;
  sim.run(opts.untilMs ?? (opts.startMs ?? 0) + count * interval + 60_000);
  return { sim, link, back, sender, receiver };
}

/** Sequence numbers that never arrived, in order. */
export function missing(sent: number, arrivals: readonly Arrival[]): number[] {
  const seen = new Uint8Array(sent);
  for (const a of arrivals) if (a.seq >= 0 && a.seq < sent) seen[a.seq] = 1;
  const out: number[] = [];
  for (let i = 0; i < sent; i++) if (!seen[i]) out.push(i);
  return out;
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function stdDev(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

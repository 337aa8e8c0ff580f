// The core's benchmark: protocol processing speed over a perfect in-memory link, goodput under random loss,
// and small-message latency of the tcp and game profiles under 5% loss. Baselines run in the same process.
import { crc32 } from 'node:zlib';
import type { EndpointEvent, EndpointOptions } from '../src/core/index.js';
import { MemoryPair, type LinkImpairment } from '../src/sim/memory-pair.js';
import { bulkTransfer } from '../src/sim/bulk.js';
import { printTable } from './table.js';

const MB = 1 << 20;

/** The least any datagram transport does per payload: copy it in and out of a datagram and CRC it twice. */
function baselineCopyCrc(totalBytes: number): number {
  const payload = 1194;
  const src = new Uint8Array(64 * 1024).fill(7);
  const dst = new Uint8Array(64 * 1024);
  const t0 = performance.now();
  let sink = 0;
  for (let done = 0; done < totalBytes; done += payload) {
    const dgram = Buffer.allocUnsafe(1232);
    const off = done % (src.length - payload);
    dgram.set(src.subarray(off, off + payload), 34);
    sink ^= crc32(dgram.subarray(0, 1228));
    sink ^= crc32(dgram.subarray(0, 1228));
    dst.set(dgram.subarray(34, 34 + payload), off);
  }
  const s = (performance.now() - t0) / 1000;
  if (sink === 0.5) console.log(sink);
  return totalBytes / MB / s;
}

function bulk(link: LinkImpairment, bytes: number, seed = 1): { wallMBps: number; simGoodputMBps: number; retransmitted: number; ok: boolean } {
  const pair = new MemoryPair(seed, [{}, {}], link);
  patternWarm(bytes);
  // Warm-up of at least 64 MB, so the JIT has settled before the clock starts (the first 16 MB run at a third
  // of the steady speed, the next at half).
  for (let warmed = 0; warmed < 64 * MB; warmed += bytes) bulkTransfer(new MemoryPair(seed, [{}, {}], link), [bytes, 0], 36_000_000, 5000, false);
  const t0 = performance.now();
  const r = bulkTransfer(pair, [bytes, 0], 36_000_000, 5000, false);
  const wallS = (performance.now() - t0) / 1000;
  const s = r.connections[0]!.stats();
  return {
    wallMBps: bytes / MB / wallS,
    simGoodputMBps: bytes / MB / (r.nowMs / 1000),
    retransmitted: s.segmentsRetransmitted,
    ok: r.done && r.receivedBytes[0] === bytes,
  };
}

/** Generate the transfer's data before the clock starts. */
function patternWarm(bytes: number): void {
  bulkTransfer(new MemoryPair(99, [{}, {}], { delayMs: 1 }), [bytes, 0], 1, 5000, false);
}

function median<T>(runs: T[], key: (t: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)]!;
}

interface LatencyResult {
  p50: number;
  p99: number;
  max: number;
  count: number;
  lost: number;
}

/** 20 messages per second of 100 bytes each way for `durationMs`, delivery delay per message. */
export function messageLatency(profile: 'tcp' | 'game', lossRate: number, durationMs: number, seed: number, extra: Partial<EndpointOptions> = {}): LatencyResult {
  const pair = new MemoryPair(seed, [{ profile, ...extra }, { profile, ...extra }], { delayMs: 25, lossRate });
  const [a, b] = pair.endpoints;
  b.listen({ port: 9 });
  const client = a.connect(0, pair.addresses[1], { port: 9 });
  const sentAt: number[] = [];
  const delays: number[] = [];
  let buffered = new Uint8Array(0);
  let started = false;
  let next = 0;
  const MSG = 100;
  const onEvent = (_side: 0 | 1, ev: EndpointEvent) => {
    if (ev.type === 'connected') started = true;
    if (ev.type === 'readable') {
      const chunk = ev.connection.read();
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      let off = 0;
      for (; off + MSG <= joined.length; off += MSG) {
        const id = joined[off]! | (joined[off + 1]! << 8) | (joined[off + 2]! << 16);
        delays.push(pair.nowMs - sentAt[id]!);
      }
      buffered = joined.subarray(off);
    }
  };
  // Drive in 50 ms steps, writing one message per step.
  for (let t = 0; t <= durationMs; t += 50) {
    pair.run(onEvent, () => false, t);
    pair.nowMs = Math.max(pair.nowMs, t);
    if (started && t >= 1000) {
      const msg = new Uint8Array(MSG);
      const id = next++;
      msg[0] = id & 0xff;
      msg[1] = (id >> 8) & 0xff;
      msg[2] = (id >> 16) & 0xff;
      sentAt[id] = pair.nowMs;
      if (client.write(msg) !== MSG) throw new Error('send buffer full in latency bench');
    }
  }
  pair.run(onEvent, () => delays.length === next, durationMs + 60_000);
  delays.sort((x, y) => x - y);
  const q = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: delays[delays.length - 1]!, count: delays.length, lost: next - delays.length };
}

export function runCoreBench(quick: boolean): void {
  const bytes = (quick ? 16 : 64) * MB;
  const runs = quick ? 1 : 5;
  const base = median(Array.from({ length: runs }, () => baselineCopyCrc(bytes)), (x) => x);
  const perfect = median(Array.from({ length: runs }, () => bulk({ delayMs: 1 }, bytes)), (x) => x.wallMBps);
  printTable('Core: one bulk connection, two endpoints in one process, perfect in-memory link', ['what', 'MB/s (wall)', 'ratio to baseline'], [
    ['baseline: copy in/out + 2x crc32 per 1232 B datagram, no protocol', base, 1],
    [`stevens core, ${bytes / MB} MB one way${perfect.ok ? '' : ' (DATA MISMATCH)'}`, perfect.wallMBps, perfect.wallMBps / base],
  ]);

  const lossBytes = (quick ? 4 : 16) * MB;
  const rows: Array<Array<string | number>> = [];
  const ref = bulk({ delayMs: 10 }, lossBytes, 1);
  for (const loss of [0, 0.01, 0.05]) {
    const r = loss === 0 ? ref : bulk({ delayMs: 10, lossRate: loss }, lossBytes, 1);
    rows.push([`${loss * 100}% loss${r.ok ? '' : ' (DATA MISMATCH)'}`, r.simGoodputMBps, r.simGoodputMBps / ref.simGoodputMBps, r.wallMBps, r.retransmitted]);
  }
  printTable(`Core: ${lossBytes / MB} MB over a 20 ms RTT link with random loss (both directions)`, ['link', 'goodput MB/s (sim)', 'vs perfect', 'MB/s (wall)', 'segments retransmitted'], rows);

  const durationMs = quick ? 60_000 : 300_000;
  const lat: Array<Array<string | number>> = [];
  for (const profile of ['tcp', 'game'] as const) {
    const r = messageLatency(profile, 0.05, durationMs, 5);
    lat.push([profile, r.p50, r.p99, r.max, r.count, r.lost]);
  }
  printTable(`Core: 100-byte messages at 20/s for ${durationMs / 1000} s, 50 ms RTT, 5% loss each way: delivery delay (ms)`, ['profile', 'p50', 'p99', 'max', 'messages', 'undelivered'], lat);
}

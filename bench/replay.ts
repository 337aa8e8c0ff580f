// Record and replay: what recording costs a simulated run (wall time with and without it), how big the log of a
// game connection grows per simulated hour, and how fast a long recording replays (target: a ten-hour
// game-like connection in under a minute, i.e. at least 600x real time). Run it on its own with
//   npx tsc -p . && node dist/bench/replay.js [--quick]
// or from bench/main.ts: import { runReplayBench } from './replay.js'; runReplayBench(quick);
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROFILES } from '../src/sim/index.js';
import { LogReader, Replayer } from '../src/replay/index.js';
import { runWorld, type WorldOptions } from '../src/replay/world.js';
import { printTable } from './table.js';

const MB = 1e6;
const HOUR_MS = 3_600_000;

/** A game connection: 20 messages a second each way (40-120 bytes), 10 unreliable datagrams a second each way. */
/** Ring recordings keep this much per endpoint (a production-like budget: snapshots are rare next to records). */
const RING_BYTES = 4e6;

function gameWorld(durationMs: number, clients: number, record: WorldOptions['record'], logDir?: string) {
  return runWorld({ seed: 7, profile: PROFILES.wifi!, clients, durationMs, workload: 'game', ratePerS: 20, messageBytes: 80, datagramsPerS: 10, record, logDir, ringBytes: RING_BYTES, drainMs: 10_000 });
}

function mixedWorld(durationMs: number, record: WorldOptions['record'], logDir?: string) {
  return runWorld({ seed: 7, profile: PROFILES.hell!, clients: 4, connectionsPerClient: 5, durationMs, workload: 'mixed', record, logDir, ringBytes: RING_BYTES, drainMs: 60_000 });
}

/** Bytes of the files in a directory. */
function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** The best of n runs' wall time (ms): the same seed each time, so the same work. */
function best<T extends { wallMs: number }>(n: number, f: () => T): T {
  let out = f();
  for (let i = 1; i < n; i++) {
    const r = f();
    if (r.wallMs < out.wallMs) out = r;
  }
  return out;
}

export function runReplayBench(quick = false): void {
  // 1. The cost of recording: the same simulated runs with recording off, to a full log, to a ring.
  const gameMs = quick ? 120_000 : 600_000;
  const mixedMs = quick ? 20_000 : 60_000;
  const rows: Array<Array<string | number>> = [];
  const runs = quick ? 2 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'stevens-bench-replay-'));
  try {
    for (const [name, make, connHours] of [
      [`20 game connections, ${gameMs / 60_000} min, wifi`, (rec: WorldOptions['record']) => gameWorld(gameMs, 20, rec, dir), (20 * (gameMs + 10_000)) / HOUR_MS],
      [`20 mixed connections, ${mixedMs / 1000} s, hell`, (rec: WorldOptions['record']) => mixedWorld(mixedMs, rec, dir), (20 * (mixedMs + 60_000)) / HOUR_MS],
    ] as const) {
      make('none'); // warm-up
      const off = best(runs, () => make('none'));
      const file = best(runs, () => make('file'));
      const bytes = dirBytes(dir);
      const ring = best(runs, () => make('ring'));
      rows.push([name, off.wallMs, file.wallMs, file.wallMs / off.wallMs, ring.wallMs / off.wallMs, (file.wallMs - off.wallMs) / 1000 / connHours, bytes / MB]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(
    'Recording cost: wall time of a simulated run with every endpoint recorded (to files; ring: 4 MB in memory each); CPU s per connection-hour, both ends recorded',
    ['run', 'off ms', 'file ms', 'file / off', 'ring / off', 'CPU s / conn-h', 'log MB'],
    rows,
  );

  // 2. Log size per simulated hour of one game connection, and 3. replay speed of a long one.
  const longMs = quick ? HOUR_MS : 10 * HOUR_MS;
  const t0 = performance.now();
  const w = gameWorld(longMs, 1, 'full');
  const recordWallS = (performance.now() - t0) / 1000;
  const sizes: Array<Array<string | number>> = [];
  const speed: Array<Array<string | number>> = [];
  for (const [name, [log]] of w.logs) {
    const reader = new LogReader(log!, name);
    const r = new Replayer(reader).run();
    let raw = 0;
    for (const b of reader.blocks) raw += b.rawBytes;
    sizes.push([name, (log!.length / MB) * (HOUR_MS / longMs), (raw / MB) * (HOUR_MS / longMs), raw / log!.length, r.step / (longMs / 1000)]);
    speed.push([`${name} (${longMs / HOUR_MS} h)`, r.status, r.step, r.wallMs / 1000, r.spanMs / r.wallMs, (log!.length / MB) / (r.wallMs / 1000)]);
  }
  printTable(
    `Log size of one game connection (20 messages/s each way, 40-120 bytes of random payload, 10 datagrams/s each way, wifi), per simulated hour`,
    ['endpoint', 'MB/h', 'raw MB/h', 'compression', 'steps/s'],
    sizes,
  );
  printTable(`Replay speed (recorded in ${recordWallS.toFixed(1)} s of simulation; target >= 600x real time)`, ['log', 'status', 'steps', 'wall s', 'x real time', 'MB/s'], speed);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runReplayBench(process.argv.includes('--quick'));

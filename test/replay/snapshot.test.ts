// Snapshot at step k, restore, continue: the outputs are those of an uninterrupted replay, byte for byte, for many
// k spread over runs with loss, aborts, half-closes, zero windows and unreliable datagrams. The snapshot goes
// through JSON, as it does on disk (--snapshot-out, ring chunks). This tests the core's Endpoint.snapshot() and
// Endpoint.restore() as much as the replayer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILES } from '../../src/sim/index.js';
import { LogReader, RecordKind as K, Replayer, formatDivergence, type LogRecord, type ReplaySnapshot } from '../../src/replay/index.js';
import { runWorld, type WorldOptions } from '../../src/replay/world.js';

const POINTS = 60;

/** Steps chosen by their record, besides the evenly spread ones (at most `max`). */
interface Targeted {
  pick: (r: LogRecord) => boolean;
  max: number;
}

function checkSnapshots(opts: Omit<WorldOptions, 'record'>, points = POINTS, targeted?: Targeted): void {
  const w = runWorld({ ...opts, record: 'full' });
  const failures: string[] = [];
  for (const [name, [log]] of w.logs) {
    // The uninterrupted replay: every datagram with its step; snapshots taken on the way at POINTS steps.
    const sent: Array<{ step: number; bytes: Buffer }> = [];
    const total = new Replayer(new LogReader(log!, name)).run().step;
    const at = new Set<number>();
    for (let i = 1; i <= points; i++) at.add(Math.floor((total * i) / (points + 1)));
    if (targeted !== undefined) {
      let n = 0;
      for (const r of new LogReader(log!, name).records()) if (n < targeted.max && targeted.pick(r) && !at.has(r.step) && ++n) at.add(r.step);
    }
    const snaps: ReplaySnapshot[] = [];
    const full = new Replayer(new LogReader(log!, name), {
      onTransmit: (step, t) => sent.push({ step, bytes: Buffer.from(t.bytes) }),
      beforeStep: (rp, r) => {
        if (at.has(r.step)) snaps.push(JSON.parse(JSON.stringify(rp.snapshotHere())) as ReplaySnapshot);
      },
    }).run();
    assert.equal(full.status, 'complete', name);
    for (const snap of snaps) {
      const got: Array<{ step: number; bytes: Buffer }> = [];
      let r;
      try {
        r = new Replayer(new LogReader(log!, name), { from: snap, onTransmit: (step, t) => got.push({ step, bytes: Buffer.from(t.bytes) }) }).run();
      } catch (e) {
        failures.push(`${name} step ${snap.step}: restore threw ${(e as Error).stack?.split('\n').slice(0, 2).join(' ')}`);
        continue;
      }
      if (r.status !== 'complete') {
        failures.push(`${name} step ${snap.step}: ${r.divergence ? formatDivergence(r.divergence).join(' / ') : r.status}`);
        continue;
      }
      const want = sent.filter((s) => s.step >= snap.step);
      if (got.length !== want.length || got.some((g, i) => g.step !== want[i]!.step || !g.bytes.equals(want[i]!.bytes))) {
        failures.push(`${name} step ${snap.step}: the datagrams after the restore differ from the uninterrupted replay's`);
      }
    }
  }
  assert.equal(failures.length, 0, `${failures.length} snapshot points failed:\n${failures.slice(0, 10).join('\n')}`);
}

test('snapshot, restore, continue: identical outputs at many steps of a lossy mixed run (bulk, slow readers, aborts)', () => {
  checkSnapshots({ seed: 21, profile: PROFILES['lossy-5']!, clients: 2, connectionsPerClient: 3, durationMs: 15_000, workload: 'mixed' });
});

test('snapshot, restore, continue: identical outputs at many steps of game connections with datagrams under hell', () => {
  checkSnapshots({ seed: 22, profile: PROFILES.hell!, clients: 3, connectionsPerClient: 1, durationMs: 15_000, workload: 'game', datagramsPerS: 10 });
});

test('snapshot, restore, continue: right before a queued close is polled (connections the endpoint already forgot)', () => {
  // Aborts and resets under hell: a connection reset by its peer is closed and forgotten by the endpoint while its
  // 'closed' event (and maybe a transmit request) still waits in the endpoint's queues.
  checkSnapshots({ seed: 3, profile: PROFILES.hell!, clients: 2, connectionsPerClient: 3, durationMs: 20_000, workload: 'mixed' }, 10, {
    pick: (r) => r.kind === K.Event && r.event.type === 'closed',
    max: 25,
  });
});

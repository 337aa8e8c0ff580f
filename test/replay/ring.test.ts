// Always-on recording in bounded space: a ring of chunks, each starting with a snapshot. The ring stays within its
// budget, every chunk left replays on its own, the chunks together replay as one (each chunk's snapshot checked
// against the replayed endpoint), and a ring whose newest chunk was cut off by a crash replays up to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulator, PROFILES } from '../../src/sim/index.js';
import { Endpoint } from '../../src/core/index.js';
import { LogReader, RecordingEndpoint, Replayer, RingSink, formatDivergence, ringFiles } from '../../src/replay/index.js';
import { runWorld } from '../../src/replay/world.js';

test('an in-memory ring stays within its budget; each chunk replays alone and all of them together', () => {
  // A few MB: this workload's snapshots (1 MiB buffers full of data in flight) are half a megabyte each.
  const ringBytes = 4_000_000;
  const w = runWorld({ seed: 31, profile: PROFILES.hell!, clients: 2, connectionsPerClient: 3, durationMs: 30_000, workload: 'mixed', record: 'ring', ringBytes, recorder: { blockBytes: 8192 } });
  for (const [name, chunks] of w.logs) {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    assert.ok(chunks.length >= 2, `${name}: ${chunks.length} chunks`);
    // The newest chunk may overshoot by up to a block; a big snapshot makes its chunk grow (records >= snapshot).
    assert.ok(total <= ringBytes * 1.5, `${name}: ${total} bytes kept for a ${ringBytes}-byte ring`);
    const readers = chunks.map((c, i) => new LogReader(c, `${name}#${i}`));
    readers.forEach((r, i) => {
      assert.equal(r.header.mode, 'ring');
      if (i > 0) assert.ok(r.header.chunk! > readers[i - 1]!.header.chunk!);
    });
    assert.ok(readers[0]!.header.firstStep > 0, `${name}: the oldest chunks were dropped`);
    for (let i = 0; i < chunks.length; i++) {
      const r = new Replayer(new LogReader(chunks[i]!, `${name}#${i}`)).run();
      assert.equal(r.status, 'complete', `${name} chunk ${i} alone: ${r.divergence ? formatDivergence(r.divergence).join('\n') : r.status}`);
    }
    const all = new Replayer(chunks.map((c, i) => new LogReader(c, `${name}#${i}`))).run();
    assert.equal(all.status, 'complete', `${name} all chunks: ${all.divergence ? formatDivergence(all.divergence).join('\n') : all.status}`);
    assert.equal(all.snapshotsVerified, chunks.length - 1);
    assert.deepEqual(all.notes, []);
  }
});

test('a ring in a directory: old chunk files are deleted, the rest replay in order, a crash-cut tail replays up to its last block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-ring-'));
  try {
    const sim = new Simulator({ seed: 5 });
    const sink = new RingSink({ ringBytes: 120_000, dir, prefix: 'client' });
    const client = new RecordingEndpoint({ seed: 1, profile: 'game' }, sink, { blockBytes: 4096, label: 'client' });
    const server = new Endpoint({ seed: 2, profile: 'game' });
    server.listen({ port: 7000 });
    const s = sim.addHost({ name: 'server', port: 7000 }, server, () => {
      for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) if (ev.type === 'readable') ev.connection.write(ev.connection.read());
    });
    const c = sim.addHost({ name: 'client' }, client, () => {
      for (let ev = client.pollEvent(); ev; ev = client.pollEvent()) if (ev.type === 'readable') ev.connection.read();
    });
    sim.connectProfile(c, s, PROFILES['lossy-5']!);
    const conn = client.connect(0, s.addresses[0]!, { port: 7000 });
    const tick = (now: number) => {
      if (conn.state === 'ESTABLISHED') conn.write(new Uint8Array(200).fill(now & 0xff));
      if (now < 120_000) sim.at(now + 50, tick, c);
    };
    sim.at(100, tick, c);
    sim.run(125_000);
    client.flushLog();
    // No End record: as if the process had died here.
    const files = ringFiles(dir);
    assert.deepEqual(files, sink.paths());
    assert.ok(sink.evicted > 0 && files.length >= 2, `${files.length} files, ${sink.evicted} dropped`);
    assert.equal(readdirSync(dir).length, files.length, 'dropped chunks are deleted');
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    assert.ok(bytes <= 120_000 * 1.5, `${bytes} bytes on disk`);
    const whole = new Replayer(files.map((f) => LogReader.open(f))).run();
    assert.equal(whole.status, 'cut-off', whole.divergence ? formatDivergence(whole.divergence).join('\n') : whole.status);
    assert.equal(whole.step, client.log.step);
    assert.equal(whole.snapshotsVerified, files.length - 1);
    // Cut the newest chunk inside its last block: the replay stops at the block before, having checked everything up to there.
    const last = files[files.length - 1]!;
    const size = statSync(last).size;
    truncateSync(last, size - 100);
    const cut = new Replayer(files.map((f) => LogReader.open(f))).run();
    assert.equal(cut.status, 'cut-off');
    assert.ok(cut.step < whole.step && cut.step > new LogReader(readFileSync(last), 'x').header.firstStep, `${cut.step}`);
    assert.match(cut.truncation!.message, /cut off at offset \d+ inside the block at offset \d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

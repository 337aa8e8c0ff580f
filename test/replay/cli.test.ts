// `stevens replay`: replays and verifies, prints every connection's state at the stop point (text or JSON), stops
// at a step or a time, saves and resumes from a snapshot, prints the trace; damaged logs and divergences end with
// a clear message and exit status 1. `stevens soak --record DIR` leaves logs that replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { PROFILES } from '../../src/sim/index.js';
import { BufferSink, LogReader, LogWriter, RecordKind as K } from '../../src/replay/index.js';
import { runWorld } from '../../src/replay/world.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => {} });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'stevens-replay-cli-'));
const world = runWorld({ seed: 8, profile: PROFILES.wifi!, clients: 1, connectionsPerClient: 2, durationMs: 10_000, workload: 'game', record: 'full' });
const LOG = join(dir, 'client0.stvlog');
writeFileSync(LOG, world.logs.get('client0')![0]!);
const steps = new LogReader(readFileSync(LOG), 'x').header && [...new LogReader(readFileSync(LOG), 'x').records()].length;

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('replays a log, says every output matched, and prints the state of every connection', async () => {
  const end = await run(['replay', LOG]);
  assert.equal(end.code, 0, end.err.join('\n'));
  assert.match(end.out.join('\n'), /complete: every output matched the recording \(end of log at step \d+\)/);
  // Mid-run, both connections are open.
  const r = await run(['replay', LOG, '--until', '8s']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const text = r.out.join('\n');
  assert.match(text, /stopped before step \d+ at 79\d\d\.\d+ ms: every output so far matched/);
  assert.equal(text.match(/^#\d+ ESTABLISHED /gm)?.length, 2, text);
  assert.match(text, /replayed \d+ steps, [\d.]+ ms of recorded time in [\d.]+ s, \d+x real time; \d+ outputs checked/);
  for (const word of ['send     iss', 'receive  irs', 'cwnd', 'ssthresh', 'srtt', 'rttvar', 'rto', 'timers', 'window']) assert.ok(text.includes(word), `${word} in:\n${text}`);
});

test('--step and --until stop there; --snapshot-out and --from-snapshot resume to the same end', async () => {
  const half = Math.floor(steps / 2);
  const snap = join(dir, 'half.json');
  const a = await run(['replay', LOG, '--step', String(half), '--snapshot-out', snap]);
  assert.equal(a.code, 0, a.err.join('\n'));
  assert.match(a.out.join('\n'), new RegExp(`stopped before step ${half} at [\\d.]+ ms`));
  assert.ok(existsSync(snap));
  const b = await run(['replay', LOG, '--from-snapshot', snap, '--json']);
  assert.equal(b.code, 0, b.err.join('\n'));
  const j = JSON.parse(b.out[0]!);
  assert.equal(j.result.status, 'complete');
  assert.equal(j.result.steps, steps - half);
  const whole = JSON.parse((await run(['replay', LOG, '--json'])).out[0]!);
  assert.deepEqual(j.connections, whole.connections, 'the same final state with or without the snapshot');
  const u = JSON.parse((await run(['replay', LOG, '--until', '5s', '--json'])).out[0]!);
  assert.equal(u.result.status, 'stopped');
  assert.ok(u.result.timeMs <= 5000 && u.result.timeMs > 4900, `${u.result.timeMs}`);
  assert.ok(Array.isArray(u.connections) && u.connections.every((c: { state: string }) => typeof c.state === 'string'));
});

test('--trace prints one line per trace event between --from and --to', async () => {
  const r = await run(['replay', LOG, '--trace', '--from', '2s', '--to', '2.5s']);
  assert.equal(r.code, 0, r.err.join('\n'));
  const lines = r.out.slice(0, -1);
  assert.ok(lines.length > 20, `${lines.length} lines`);
  for (const l of lines) {
    const m = /^\s*([\d.]+) (#\d+ *| {5}) (state|send|receive|rto|retransmit|rtt|window|cwnd|drop) /.exec(l);
    assert.ok(m, l);
    assert.ok(Number(m[1]) >= 2000 && Number(m[1]) <= 2500, l);
  }
  assert.match(r.out[r.out.length - 1]!, /steps replayed, stopped: every output matched/);
});

test('--break-at names the step it stops at (a debugger statement; without an inspector it goes on)', async () => {
  const r = await run(['replay', LOG, '--break-at', '1234', '--json']);
  assert.equal(r.code, 0);
  assert.match(r.err.join('\n'), /--break-at 1234 needs a debugger: run node --inspect-brk/);
  assert.match(r.err.join('\n'), /break at step 1234 @ [\d.]+ ms: .* \(in scope: endpoint, connections, record\)/);
  assert.equal(JSON.parse(r.out[0]!).result.status, 'complete');
});

test('a damaged log, a missing one, and a divergence: one clear message, exit status 1', async () => {
  const bad = Buffer.from(readFileSync(LOG));
  bad[Math.floor(bad.length / 2)] ^= 0x40;
  writeFileSync(join(dir, 'bad.stvlog'), bad);
  const a = await run(['replay', join(dir, 'bad.stvlog')]);
  assert.equal(a.code, 1);
  assert.equal(a.err.length, 1, a.err.join('\n'));
  assert.match(a.err[0]!, /^stevens: .*bad\.stvlog: .*offset \d+.*corrupt/);
  const m = await run(['replay', join(dir, 'nope.stvlog')]);
  assert.equal(m.code, 1);
  assert.deepEqual(m.err, [`stevens: no such log: ${join(dir, 'nope.stvlog')}`]);
  // A log whose one recorded read result was changed (checksums valid): the replay diverges there.
  const reader = new LogReader(readFileSync(LOG), 'x');
  const sink = new BufferSink();
  const w = new LogWriter(sink, { options: reader.header.options, mode: 'full', label: 'edited' });
  let edited = -1;
  for (const r of reader.records()) {
    if (edited < 0 && r.kind === K.Read && r.length > 0 && r.step > 1000) {
      edited = r.step;
      w.append({ ...r, digest: (r.digest ^ 1) >>> 0 });
    } else w.append(r);
  }
  w.close();
  writeFileSync(join(dir, 'edited.stvlog'), sink.toBuffer());
  const d = await run(['replay', join(dir, 'edited.stvlog')]);
  assert.equal(d.code, 1);
  const text = d.out.join('\n');
  assert.match(text, new RegExp(`DIVERGED at step ${edited} @ [\\d.]+ ms`));
  assert.match(text, /recorded: #\d+\.read\(.*\) -> \d+ bytes digest 0x[0-9a-f]{8}/);
  assert.match(text, /replayed: #\d+\.read\(.*\) -> \d+ bytes digest 0x[0-9a-f]{8}/);
  assert.match(text, /steps before:/);
});

test('stevens soak --record DIR saves every endpoint log of a passing run; each replays', async () => {
  const rec = join(dir, 'soak');
  const s = await run(['soak', '--profile', 'wifi', '--connections', '3', '--duration', '5s', '--seed', '2', '--workers', '1', '--record', rec]);
  assert.equal(s.code, 0, s.out.join('\n'));
  const files = readdirSync(join(rec, 'seed-2')).sort();
  assert.deepEqual(files, ['client0.stvlog', 'server.stvlog']);
  for (const f of files) {
    const r = await run(['replay', join(rec, 'seed-2', f), '--json']);
    assert.equal(r.code, 0, r.out.join('\n'));
    assert.equal(JSON.parse(r.out[0]!).result.status, 'complete');
  }
});

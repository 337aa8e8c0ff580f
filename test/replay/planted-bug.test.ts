// The lab end to end: a planted core bug (faults.corruptRetransmission flips a payload bit of an endpoint's Nth
// retransmission) is caught by the soak, whose logs then reproduce it under replay: the corrupt byte is read at
// the same step and time as in the soak, and a replay of the sender without the planted fault diverges at the
// exact step where the fault acted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSoak, type SoakOptions } from '../../src/soak/index.js';
import { LogReader, RecordKind as K, Replayer, formatDivergence } from '../../src/replay/index.js';

const PLANTED: Omit<SoakOptions, 'seed'> = { profile: 'lossy-5', connections: 10, durationMs: 20_000, faults: { corruptRetransmission: 3 } };
const SEED = 5;

test('a planted bug caught by the soak reproduces under replay at the same step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-planted-'));
  try {
    const r = runSoak({ ...PLANTED, seed: SEED, record: { dir } });
    const v = r.violations.find((x) => x.kind === 'corrupt-stream');
    assert.ok(v, `the soak caught the corruption: ${JSON.stringify(r.violations)}`);
    const m = /(server|client)->(server|client) stream: byte (\d+) .* is 0x([0-9a-f]{2}), written 0x([0-9a-f]{2})/.exec(v.message);
    assert.ok(m, v.message);
    const [, sender, reader, offsetText, gotText] = m;
    const offset = Number(offsetText);
    const got = parseInt(gotText!, 16);
    const logs = r.logs!;
    assert.ok(logs.length >= 2 && logs[0]!.endsWith('server.stvlog'), logs.join(' '));

    // Every endpoint's log replays with every output as recorded: the fault is part of the recorded options.
    for (const path of logs) {
      const res = new Replayer(LogReader.open(path)).run();
      assert.equal(res.status, 'complete', `${path}: ${res.divergence ? formatDivergence(res.divergence).join('\n') : res.status}`);
    }

    // The reading side reads the corrupt byte in the replay at the violation's time: find the read() that
    // returned it (the byte at that stream offset of a connection, with the soak's wrong value).
    const readerLogs = logs.filter((p) => (reader === 'server' ? p.endsWith('server.stvlog') : !p.endsWith('server.stvlog')));
    const hits: Array<{ path: string; step: number; timeMs: number }> = [];
    for (const path of readerLogs) {
      const offsets = new Map<number, number>();
      const steps = new Map<number, number>();
      const rp = new Replayer(LogReader.open(path), {
        onRead: (step, id, bytes) => {
          const at = offsets.get(id) ?? 0;
          if (at <= offset && offset < at + bytes.length && bytes[offset - at] === got) steps.set(step, id);
          offsets.set(id, at + bytes.length);
        },
      });
      rp.run();
      for (const step of steps.keys()) {
        const rec = [...LogReader.open(path).records()].find((x) => x.step === step)!;
        // The soak reports times to the microsecond.
        if (Math.abs(rec.timeMs - v.atMs) < 0.001) hits.push({ path, step, timeMs: rec.timeMs });
      }
    }
    assert.equal(hits.length, 1, `one read returned the corrupt byte at ${v.atMs} ms: ${JSON.stringify(hits)}`);
    const hit = hits[0]!;
    // The recording holds that very read at that step (the replay checked its digest).
    const recorded = [...LogReader.open(hit.path).records()].find((x) => x.step === hit.step)!;
    assert.equal(recorded.kind, K.Read);

    // The sender replayed without the planted fault diverges where the fault acted: a retransmission whose bytes
    // differ from the recorded one, before the reader saw it.
    const senderLogs = logs.filter((p) => (sender === 'server' ? p.endsWith('server.stvlog') : !p.endsWith('server.stvlog')));
    const divergences = senderLogs.map((path) => ({ path, res: new Replayer(LogReader.open(path), { endpointOptions: { faults: {} } }).run() })).filter((x) => x.res.status === 'diverged');
    assert.ok(divergences.length >= 1, 'removing the fault changes what the sender sent');
    const d = divergences.find((x) => x.res.divergence!.timeMs <= hit.timeMs)!;
    assert.ok(d, divergences.map((x) => formatDivergence(x.res.divergence!).join('\n')).join('\n'));
    const div = d.res.divergence!;
    assert.match(div.recorded, /^pollTransmit\(.*\) -> \d+ bytes to /);
    assert.match(div.replayed, /^pollTransmit\(.*\) -> \d+ bytes to .*: segment /);
    // Same length, same destination, other bytes: one flipped bit.
    const len = (s: string) => /-> (\d+) bytes to (\S+),/.exec(s)!.slice(1).join(' ');
    assert.equal(len(div.recorded), len(div.replayed));
    // The step is the same every time: run the soak again and the fault acts at the same step.
    const again = new Replayer(LogReader.open(d.path), { endpointOptions: { faults: {} } }).run();
    assert.equal(again.divergence!.step, div.step);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

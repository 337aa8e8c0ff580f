// The log format: every record kind survives a write and a read; a log edited by one byte anywhere is refused with
// an error naming an offset at or before the edit, or (when the edit keeps the checksums right) the replay
// diverges at the edited step; a log cut at any length replays up to its last whole block, never crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint, type Connection, type Remote } from '../../src/core/index.js';
import { PROFILES } from '../../src/sim/index.js';
import { BufferSink, LogFormatError, LogReader, LogWriter, RecordKind as K, RecordingEndpoint, Replayer, type LogRecord } from '../../src/replay/index.js';
import { runWorld } from '../../src/replay/world.js';

const A: Remote = { address: '10.0.0.1', port: 1000 };
const B: Remote = { address: 'fd00::2', port: 2000 };

/** Two endpoints talking directly (no simulator): the client records, with small blocks. */
function smallLog(blockBytes = 512): { log: Buffer; steps: number } {
  const sink = new BufferSink();
  const a = new RecordingEndpoint({ seed: 1, profile: 'game' }, sink, { blockBytes, label: 'a' });
  const b = new Endpoint({ seed: 2, profile: 'game' });
  b.listen({ port: 2000 });
  let now = 0;
  let lossy = false;
  const pump = (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      now += 7.25;
      for (let t = a.pollTransmit(now); t; t = a.pollTransmit(now)) if (!lossy) b.handleDatagram(now, A, t.bytes);
      for (let t = b.pollTransmit(now); t; t = b.pollTransmit(now)) a.handleDatagram(now, B, t.bytes);
      a.pollTimeoutMs();
      if ((a.pollTimeoutMs() ?? Infinity) <= now) a.handleTimeout(now);
      for (let ev = a.pollEvent(); ev; ev = a.pollEvent()) if (ev.type === 'readable') ev.connection.read(100);
      for (let ev = b.pollEvent(); ev; ev = b.pollEvent()) {
        if (ev.type === 'accepted') peer = ev.connection;
        if (ev.type === 'readable') {
          const got = ev.connection.read();
          if (got.length > 0) ev.connection.write(got);
        }
        if (ev.type === 'datagram') ev.connection.sendDatagram(ev.bytes);
      }
    }
  };
  let peer: Connection | undefined;
  const c = a.connect(now, B, { noDelay: true });
  pump(5);
  for (let i = 0; i < 20; i++) {
    c.write(new Uint8Array(300).fill(i));
    c.sendDatagram(new Uint8Array(40).fill(i));
    // A stretch of loss: the retransmission timer fires.
    lossy = i === 10;
    pump(i === 10 ? 40 : 3);
  }
  lossy = false;
  c.setNoDelay(false);
  assert.throws(() => c.sendDatagram(new Uint8Array(5000)), RangeError);
  c.shutdown();
  pump(10);
  c.close();
  pump(10);
  assert.ok(peer !== undefined);
  a.mark('done');
  a.closeLog();
  return { log: sink.toBuffer(), steps: a.log.step };
}

test('every record kind round-trips, with its time, across many small blocks', () => {
  const { log, steps } = smallLog();
  const reader = new LogReader(log, 'small');
  const recs: LogRecord[] = [...reader.records()];
  assert.equal(recs.length, steps);
  assert.ok(reader.ended && reader.truncated === undefined);
  assert.ok(reader.blocks.length > 10, `${reader.blocks.length} blocks`);
  const kinds = new Set(recs.map((r) => r.kind));
  for (const k of [K.Datagram, K.Timeout, K.TransmitNone, K.Transmit, K.DeadlineSame, K.Deadline, K.EventNone, K.Event, K.Connect, K.Write, K.Read, K.SendDatagram, K.SetNoDelay, K.Shutdown, K.Close, K.Threw, K.Mark, K.End]) {
    assert.ok(kinds.has(k), `kind ${k} recorded`);
  }
  recs.forEach((r, i) => assert.equal(r.step, i));
  // Times never go back and sit on the 7.25 ms grid the test drove.
  let t = -Infinity;
  for (const r of recs) {
    if (Number.isNaN(r.timeMs)) continue;
    assert.ok(r.timeMs >= t);
    t = r.timeMs;
    assert.equal((r.timeMs * 4) % 29, 0);
  }
  const replay = new Replayer(new LogReader(log, 'small')).run();
  assert.equal(replay.status, 'complete');
  assert.equal(replay.step, steps);
});

test('a hand-written log: records longer than 127 bytes, non-integer and integer times, unknown lengths', () => {
  const sink = new BufferSink();
  const w = new LogWriter(sink, { options: { seed: 9 }, mode: 'full' }, { blockBytes: 300 });
  const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
  w.datagram(0.5, A, big);
  w.datagram(10, B, new Uint8Array(3));
  w.datagram(25, B, new Uint8Array(0));
  w.timeout(25);
  w.timeout(2 ** 40);
  w.deadline(undefined);
  w.deadline(1.5);
  w.deadline(1.5);
  w.write(3, big, 200);
  w.write(3, big, -1);
  w.read(3, undefined, big.subarray(0, 10));
  w.read(3, Number.MAX_SAFE_INTEGER, new Uint8Array(0));
  w.read(3, Infinity, new Uint8Array(0));
  w.unlisten(undefined);
  w.unlisten(80);
  w.close();
  const recs = [...new LogReader(sink.toBuffer(), 'hand').records()];
  const kinds = recs.map((r) => r.kind);
  assert.deepEqual(kinds, [K.Datagram, K.Datagram, K.Datagram, K.Timeout, K.Timeout, K.DeadlineNone, K.Deadline, K.DeadlineSame, K.Write, K.Write, K.Read, K.Read, K.Read, K.Unlisten, K.Unlisten, K.End]);
  const r0 = recs[0]!;
  assert.ok(r0.kind === K.Datagram && Buffer.from(r0.bytes).equals(Buffer.from(big)) && r0.remote.address === A.address && r0.timeMs === 0.5);
  assert.deepEqual(recs.map((r) => r.timeMs).slice(0, 5), [0.5, 10, 25, 25, 2 ** 40]);
  const w0 = recs[8]!;
  assert.ok(w0.kind === K.Write && w0.accepted === 200 && w0.length === 70_000 && w0.bytes.length === 200);
  const w1 = recs[9]!;
  assert.ok(w1.kind === K.Write && w1.accepted === -1 && w1.bytes.length === 0);
  const reads = recs.slice(10, 13).map((r) => (r.kind === K.Read ? r.maxBytes : null));
  assert.deepEqual(reads, [undefined, Number.MAX_SAFE_INTEGER, Infinity]);
  assert.deepEqual(
    recs.slice(13, 15).map((r) => (r.kind === K.Unlisten ? r.port : null)),
    [undefined, 80],
  );
});

test('a log edited by one byte anywhere is refused with an error naming the offset, never a crash', () => {
  const { log } = smallLog(2048);
  let refused = 0;
  for (let at = 0; at < log.length; at += 7) {
    const bad = Buffer.from(log);
    bad[at] ^= 0x10;
    try {
      const r = new Replayer(new LogReader(bad, 'edited')).run();
      assert.fail(`an edit at offset ${at} went unnoticed: ${r.status}`);
    } catch (e) {
      assert.ok(e instanceof LogFormatError, `offset ${at}: ${(e as Error).stack}`);
      assert.match(e.message, /offset \d+/);
      // The named offset is the start of the damaged region: at or before the edit, within its block.
      assert.ok(e.offset <= at, `edit at ${at}, error names ${e.offset}: ${e.message}`);
      refused++;
    }
  }
  assert.ok(refused > 100);
});

test('a log cut at any length replays up to its last whole block', () => {
  const { log, steps } = smallLog(1024);
  const full = new LogReader(log, 'full');
  for (const _ of full.records());
  const blockEnds = full.blocks.map((b) => ({ end: b.offset + 32 + b.compressedBytes, firstStep: b.firstStep }));
  const headerEnd = full.blocks[0]!.offset;
  for (let len = headerEnd; len <= log.length; len += 13) {
    const cut = log.subarray(0, len);
    const r = new Replayer(new LogReader(cut, 'cut')).run();
    const whole = blockEnds.filter((b) => b.end <= len);
    const expectSteps = whole.length === blockEnds.length ? steps : whole.length === 0 ? 0 : blockEnds[whole.length]!.firstStep;
    assert.equal(r.step, expectSteps, `cut at ${len}`);
    if (len < log.length) {
      assert.equal(r.status, 'cut-off', `cut at ${len}`);
      assert.ok(r.truncation && /offset \d+/.test(r.truncation.message));
    }
  }
  // A header cut short is a clear error, not a crash.
  assert.throws(() => new LogReader(log.subarray(0, 15), 'tiny'), LogFormatError);
  assert.throws(() => new LogReader(Buffer.from('hello world, not a log'), 'text'), /not a stevens replay log/);
  // A tail of zeros (a file cut off by a crash, padded by the filesystem) is a cut, not damage.
  const padded = Buffer.concat([log.subarray(0, blockEnds[3]!.end), Buffer.alloc(500)]);
  const r = new Replayer(new LogReader(padded, 'padded')).run();
  assert.equal(r.status, 'cut-off');
  assert.equal(r.step, blockEnds[4]!.firstStep);
});

test('an edit that keeps the checksums right is caught by the replay at the edited step, with both sides', () => {
  const w = runWorld({ seed: 4, profile: PROFILES.wifi, clients: 1, durationMs: 8000, workload: 'game', record: 'full' });
  const log = w.logs.get('client0')![0]!;
  // Re-write the log with one byte of one received datagram's payload flipped (checksums recomputed).
  const reader = new LogReader(log, 'orig');
  const sink = new BufferSink();
  const out = new LogWriter(sink, { options: reader.header.options, mode: 'full', label: reader.header.label }, { blockBytes: 8192 });
  let edited = -1;
  let flips = 0;
  for (const r of reader.records()) {
    switch (r.kind) {
      case K.Datagram: {
        let bytes = r.bytes;
        if (edited < 0 && r.step > 2000 && bytes.length > 100) {
          bytes = Uint8Array.from(bytes);
          bytes[60] ^= 1;
          edited = r.step;
          flips++;
        }
        out.datagram(r.timeMs, r.remote, bytes);
        break;
      }
      default:
        out.append(r);
    }
  }
  out.close();
  assert.equal(flips, 1);
  const result = new Replayer(new LogReader(sink.toBuffer(), 'edited')).run();
  assert.equal(result.status, 'diverged');
  const d = result.divergence!;
  // The datagram fails its CRC in the replay and is dropped: the first output after it differs.
  assert.ok(d.step > edited && d.step < edited + 20, `diverged at ${d.step}, edited ${edited}`);
  assert.match(d.recorded, /^(pollTransmit|pollTimeoutMs|pollEvent)/);
  assert.ok(d.replayed.length > 0 && d.recorded !== d.replayed);
  assert.ok(d.context.some((c) => c.startsWith(`step ${edited} `)), d.context.join('\n'));
});

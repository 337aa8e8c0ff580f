// Record a simulated run of many connections under the hell profile (loss, bursts, reordering, duplication,
// corruption, truncation, an outage, a rate cut), then replay every endpoint's log on its own: every datagram it
// sends is the one it sent in the run, byte for byte, in the same order, and every event and call result matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transmit } from '../../src/core/index.js';
import { PROFILES } from '../../src/sim/index.js';
import { LogReader, Replayer, formatDivergence } from '../../src/replay/index.js';
import { runWorld, type WorldOptions } from '../../src/replay/world.js';

function recordAndReplay(opts: Omit<WorldOptions, 'record' | 'onPacket'>) {
  const sent = new Map<string, Uint8Array[]>();
  const w = runWorld({
    ...opts,
    record: 'full',
    onPacket: (ev) => {
      if (ev.kind !== 'send') return;
      const host = ev.link.name.split('->')[0]!;
      let list = sent.get(host);
      if (list === undefined) sent.set(host, (list = []));
      list.push(Uint8Array.from(ev.bytes));
    },
  });
  assert.deepEqual(w.corruptions, [], 'the core delivered every byte intact');
  for (const [name, [log]] of w.logs) {
    const replayed: Transmit[] = [];
    const r = new Replayer(new LogReader(log!, name), { onTransmit: (_s, t) => replayed.push({ remote: t.remote, bytes: Uint8Array.from(t.bytes) }) }).run();
    assert.equal(r.status, 'complete', `${name}: ${r.divergence ? formatDivergence(r.divergence).join('\n') : r.status}`);
    const recorded = sent.get(name) ?? [];
    assert.equal(replayed.length, recorded.length, `${name}: datagrams sent`);
    for (let i = 0; i < recorded.length; i++) {
      if (!Buffer.from(replayed[i]!.bytes).equals(Buffer.from(recorded[i]!))) assert.fail(`${name}: datagram ${i} differs`);
    }
    assert.ok(r.outputsChecked > 1000, `${name}: ${r.outputsChecked} outputs checked`);
  }
  return w;
}

test('many connections under the hell profile, mixed workload: every endpoint replays identically', () => {
  const w = recordAndReplay({ seed: 11, profile: PROFILES.hell!, clients: 4, connectionsPerClient: 5, durationMs: 25_000, workload: 'mixed' });
  assert.ok(w.connectionsOpened >= 40, `${w.connectionsOpened} connections`);
  assert.ok(w.bytesRead > 1_000_000, `${w.bytesRead} bytes read`);
  const drops = w.sim.dropsByReason();
  for (const reason of ['loss', 'burst-loss', 'outage']) assert.ok((drops[reason] ?? 0) > 0, `the network did ${reason}`);
});

test('game connections with unreliable datagrams under the hell profile replay identically', () => {
  const w = recordAndReplay({ seed: 12, profile: PROFILES.hell!, clients: 6, connectionsPerClient: 2, durationMs: 20_000, workload: 'game', datagramsPerS: 10 });
  assert.ok(w.datagramsRead > 500, `${w.datagramsRead} datagrams read`);
  assert.ok(w.messagesRead > 2000, `${w.messagesRead} messages read`);
});

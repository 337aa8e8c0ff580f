// Snapshots are explicit (each mechanism saves its own state, by name), so a field added to a mechanism and
// forgotten in its save() would be lost silently. This test catches that: at many moments of lossy, reordered
// transfers (RACK, tail loss probes, keepalives, datagrams, both profiles), every connection is snapshotted
// through JSON and restored, and the restored object graph must equal the original field by field, whatever
// the fields are called. Old snapshots are refused with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, Endpoint, type EndpointOptions } from '../../src/core/index.js';
import { ReceiveBuffer } from '../../src/core/receive-buffer.js';
import { SendBuffer } from '../../src/core/send-buffer.js';
import { Scoreboard } from '../../src/core/sack-scoreboard.js';
import { SnapshotError } from '../../src/core/snapshot.js';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { BulkApp } from '../../src/sim/bulk.js';

/** Where two object graphs differ (own enumerable fields, recursively), or undefined. */
function graphDiff(a: unknown, b: unknown, path: string, seen: Map<object, object>): string | undefined {
  if (typeof a === 'function' && typeof b === 'function') return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} != ${String(b)}`;
  }
  if (seen.get(a) === b) return undefined;
  seen.set(a, b);
  if (a.constructor !== b.constructor) return `${path}: ${a.constructor.name} != ${b.constructor.name}`;
  // Containers whose layout may differ after a restore (ring offsets, trimmed arrays): compare their content.
  if (a instanceof ReceiveBuffer) return graphDiff(a.snapshot(), (b as ReceiveBuffer).snapshot(), `${path}.<content>`, seen);
  if (a instanceof SendBuffer) return graphDiff(a.snapshotBytes(), (b as SendBuffer).snapshotBytes(), `${path}.<bytes>`, seen);
  if (a instanceof Scoreboard) return graphDiff(a.save(), (b as Scoreboard).save(), `${path}.<records>`, seen);
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    return Buffer.compare(x, y) === 0 ? undefined : `${path}: bytes differ`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    // The host is the endpoint's (a new one after a restore).
    if (k === 'host') continue;
    const d = graphDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, seen);
    if (d !== undefined) return d;
  }
  return undefined;
}

function checkRestores(ep: Endpoint, where: string): number {
  const restored = Endpoint.restore(JSON.parse(JSON.stringify(ep.snapshot())));
  const byId = new Map<number, Connection>([...restored.connections()].map((c) => [c.id, c]));
  let n = 0;
  for (const c of ep.connections()) {
    const r = byId.get(c.id);
    assert.ok(r, `${where}: connection ${c.id} restored`);
    const d = graphDiff(c, r, `connection#${c.id}`, new Map());
    assert.equal(d, undefined, `${where}: ${d}`);
    n++;
  }
  return n;
}

for (const [name, opts, link] of [
  ['tcp, dupack, 3% loss, jitter', { profile: 'tcp', keepaliveIdleMs: 500, keepaliveIntervalMs: 200 }, { delayMs: 10, jitterMs: 6, lossRate: 0.03 }],
  ['tcp, RACK, newreno, 5% loss, jitter', { profile: 'tcp', lossDetection: 'rack', congestionControl: 'newreno', tailLossProbe: true }, { delayMs: 20, jitterMs: 15, lossRate: 0.05 }],
  ['game, no SACK, 8% loss', { profile: 'game', sack: false, timestamps: false }, { delayMs: 15, lossRate: 0.08 }],
] as const) {
  test(`every mechanism's state survives a snapshot: ${name}`, () => {
    const pair = new MemoryPair(7, [opts as Partial<EndpointOptions>, opts as Partial<EndpointOptions>], link);
    const [a, b] = pair.endpoints;
    b.listen({ port: 5000, sendBufferBytes: 8192, receiveBufferBytes: 8192 });
    const app = new BulkApp([400_000, 150_000]);
    app.conns[0] = a.connect(0, pair.addresses[1], { port: 5000 });
    let events = 0;
    let checked = 0;
    pair.run(
      (side, ev) => {
        app.onEvent(side, ev);
        if (ev.type === 'readable' && side === 1 && events % 7 === 0) ev.connection.sendDatagram(Uint8Array.of(events & 0xff));
        if (++events % 5 === 0) {
          checked += checkRestores(a, `client at ${pair.nowMs} ms`);
          checked += checkRestores(b, `server at ${pair.nowMs} ms`);
        }
      },
      () => app.finished,
      600_000,
    );
    assert.ok(app.finished && app.errors.length === 0, app.errors.join('; '));
    assert.ok(checked > 50, `${checked} connection snapshots compared`);
  });
}

test('the checker sees a field a mechanism forgot to save', () => {
  const pair = new MemoryPair(3, [{}, {}], { delayMs: 5 });
  const [a, b] = pair.endpoints;
  b.listen({ port: 5000 });
  const conn = a.connect(0, pair.addresses[1], { port: 5000 });
  pair.run(() => {}, () => conn.state === 'ESTABLISHED', 10_000);
  // A field the snapshot does not know of, as a new mechanism's state would be.
  (conn.persist as unknown as { planted: number }).planted = 5;
  assert.throws(() => checkRestores(a, 'planted'), /persist\.planted: 5 != undefined/);
});

test('a snapshot of another version is refused with a clear message', () => {
  const ep = new Endpoint({ seed: 1 });
  const old = { ...ep.snapshot(), version: 1 };
  assert.throws(() => Endpoint.restore(old), (e: unknown) => e instanceof SnapshotError && /snapshot version 1 cannot be restored: this stevens reads version 3/.test((e as Error).message));
});

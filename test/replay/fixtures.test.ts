// Logs recorded by earlier code (test/fixtures/README.md) replay with today's: every datagram sent, every deadline,
// every event and every call result is the one recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogReader, Replayer, formatDivergence } from '../../src/replay/index.js';

const DIR = 'test/fixtures/replay';
const logs = readdirSync(DIR).filter((f) => f.endsWith('.stvlog')).sort();

test('the fixtures are all there', () => {
  assert.equal(logs.length, 7, logs.join(', '));
});

for (const name of logs) {
  test(`${name} replays with every output matching`, () => {
    const r = new Replayer(new LogReader(readFileSync(join(DIR, name)), name)).run();
    assert.equal(r.status, 'complete', r.divergence ? formatDivergence(r.divergence).join('\n') : r.status);
    assert.ok(r.outputsChecked > 500, `${r.outputsChecked} outputs checked`);
  });
}

// The lab catches a planted core bug: faults.corruptRetransmission flips a payload bit of an endpoint's Nth
// retransmission after the CRC is computed, so only the soak's byte-by-byte check can see it. The report names
// the seed and the command, and running that seed again reproduces the same failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak, type SoakOptions } from '../../src/soak/index.js';
import { formatSummary } from '../../src/soak/report.js';
import { reproduceCommand } from '../../src/soak/options.js';

const PLANTED: Omit<SoakOptions, 'seed'> = { profile: 'lossy-5', connections: 10, durationMs: 20_000, faults: { corruptRetransmission: 3 } };
const SEED = 5;

test('a corrupted retransmission is caught at the byte where it happens, and the report names the seed', () => {
  const r = runSoak({ ...PLANTED, seed: SEED });
  const corrupt = r.violations.filter((v) => v.kind === 'corrupt-stream');
  assert.ok(corrupt.length > 0, `no corruption caught: ${JSON.stringify(r.violations)}`);
  // One bit of one byte: "byte N (message M, offset K of L) is 0xXX, written 0xYY", the two differing in one bit.
  for (const v of corrupt) {
    const m = /is 0x([0-9a-f]{2}), written 0x([0-9a-f]{2})/.exec(v.message);
    assert.ok(m, v.message);
    const diff = parseInt(m[1]!, 16) ^ parseInt(m[2]!, 16);
    assert.equal(diff & (diff - 1), 0, `exactly one bit differs: ${v.message}`);
  }
  const text = formatSummary([r], { base: PLANTED, seeds: [SEED], workers: 1, wallMs: r.wallMs }).join('\n');
  assert.match(text, new RegExp(`FAIL seed ${SEED}: `));
  assert.ok(text.includes(`reproduce: npx stevens soak --profile lossy-5 --connections 10 --duration 20s --fault-corrupt-retransmission 3 --seed ${SEED}`), text);
  assert.equal(reproduceCommand({ ...PLANTED, seed: SEED }), `npx stevens soak --profile lossy-5 --connections 10 --duration 20s --fault-corrupt-retransmission 3 --seed ${SEED}`);

  // The same seed again: the same failure, at the same byte and time.
  const again = runSoak({ ...PLANTED, seed: SEED });
  assert.deepEqual(again.violations, r.violations);
});

test('without the planted bug the same seed delivers every byte intact', () => {
  const { faults: _f, ...clean } = PLANTED;
  const r = runSoak({ ...clean, seed: SEED });
  assert.deepEqual(r.violations.filter((v) => v.kind === 'corrupt-stream' || v.kind === 'incomplete-stream'), []);
  assert.ok(r.segments.retransmitted > 50, 'the loss made retransmissions happen');
});

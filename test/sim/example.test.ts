// The documented example of a user's own sans-IO protocol (examples/sim-custom-protocol.ts) runs through the
// simulator and sees what the profiles promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILES } from '../../src/sim/index.js';
import { runPingPong } from '../../examples/sim-custom-protocol.js';

test('ping-pong over lan: every ping answered in about the LAN round trip', () => {
  const r = runPingPong(PROFILES.lan!);
  assert.equal(r.answered, 1000);
  assert.equal(r.lost, 0);
  assert.ok(r.rttP50Ms > 0.3 && r.rttP50Ms < 0.5, `p50 ${r.rttP50Ms}`);
});

test('ping-pong over satellite: ~600 ms round trips', () => {
  const r = runPingPong(PROFILES.satellite!);
  assert.ok(r.rttP50Ms > 590 && r.rttP50Ms < 620, `p50 ${r.rttP50Ms}`);
  assert.equal(r.answered + r.lost, 1000);
});

test('ping-pong over lossy-5: about 1 - 0.95^2 = 9.75% of exchanges lost; deterministic per seed', () => {
  const r = runPingPong(PROFILES['lossy-5']!, 4);
  // 1000 exchanges: SE sqrt(0.0975 * 0.9025 / 1000) = 0.0094; 4 SE = 0.038.
  assert.ok(Math.abs(r.lost / 1000 - 0.0975) < 0.038, `lost ${r.lost}`);
  assert.deepEqual(runPingPong(PROFILES['lossy-5']!, 4), r);
  assert.notDeepEqual(runPingPong(PROFILES['lossy-5']!, 5), r);
});

test('ping-pong over hell: damaged and duplicated datagrams are survived, every ping settled', () => {
  const r = runPingPong(PROFILES.hell!);
  assert.equal(r.answered + r.lost, 1000);
  assert.ok(r.lost > 0 && r.duplicates > 0);
});

// stevens soak --pcap: one capture per simulated link, readable, with what the impairments dropped commented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSoak } from '../../src/soak/index.js';
import { readCapture } from '../../src/capture/index.js';

test('soak --pcap writes one pcapng per link; drops carry their reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stevens-soak-pcap-'));
  try {
    const r = runSoak({ seed: 3, profile: 'lossy-5', connections: 4, durationMs: 10_000, pcap: { dir } });
    assert.equal(r.violations.length, 0);
    const files = readdirSync(join(dir, 'seed-3')).sort();
    assert.deepEqual(files, ['client0_to_server.pcapng', 'server_to_client0.pcapng']);
    let packets = 0;
    let dropped = 0;
    for (const f of files) {
      const cap = readCapture(readFileSync(join(dir, 'seed-3', f)));
      packets += cap.packets.length;
      dropped += cap.packets.filter((p) => p.comments.some((c) => c.includes('sim: dropped (loss)'))).length;
    }
    assert.ok(packets > 500, `${packets} packets captured`);
    assert.ok(dropped > 10, `${dropped} packets marked as dropped by the loss impairment`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

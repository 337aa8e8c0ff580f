// Records the replay logs under test/fixtures/replay/ (run once, by hand: `node dist/test/support/record-fixtures.js`).
// They are kept as recorded by the code of the commit named in test/fixtures/replay/README.md, so a later change
// that claims to keep behaviour can prove it: test/replay/fixtures.test.ts replays them and checks every output.
import { mkdirSync, rmSync, renameSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Simulator, PROFILES } from '../../src/sim/index.js';
import { FileSink, RecordingEndpoint } from '../../src/replay/index.js';
import { runSoak } from '../../src/soak/index.js';
import { BulkApp } from '../../src/sim/bulk.js';
import { runWorld } from '../../src/replay/world.js';

const out = process.argv[2] ?? 'test/fixtures/replay';
mkdirSync(out, { recursive: true });

// 1. A lossy bulk transfer: 100 KB each way over the lossy-5 profile, both ends recorded.
{
  const sim = new Simulator({ seed: 5 });
  const client = new RecordingEndpoint({ seed: 101 }, new FileSink(join(out, 'bulk-lossy5-client.stvlog')), { label: 'client' });
  const server = new RecordingEndpoint({ seed: 202 }, new FileSink(join(out, 'bulk-lossy5-server.stvlog')), { label: 'server' });
  const eps = [client, server] as const;
  const app = new BulkApp([100_000, 100_000]);
  const activity = (side: 0 | 1) => () => {
    for (let ev = eps[side].pollEvent(); ev !== undefined; ev = eps[side].pollEvent()) app.onEvent(side, ev);
  };
  const a = sim.addHost({ name: 'client', ipv4: '192.0.2.1' }, client, activity(0));
  const b = sim.addHost({ name: 'server', ipv4: '192.0.2.2', port: 5000 }, server, activity(1));
  sim.connectProfile(a, b, PROFILES['lossy-5']!);
  server.listen({ port: 5000 });
  sim.at(0, (now) => void client.connect(now, b.addresses[0]!, { port: 5000 }), a);
  sim.run(120_000, () => app.finished);
  client.closeLog();
  server.closeLog();
  if (!app.finished || app.errors.length > 0) throw new Error(`bulk fixture did not finish: ${app.errors.join('; ')}`);
}

// 2. A game session: two clients at 20 messages and 10 datagrams a second over the wifi profile.
runWorld({ seed: 21, profile: PROFILES.wifi!, clients: 2, durationMs: 10_000, workload: 'game', record: 'file', logDir: out, drainMs: 20_000 });
for (const f of readdirSync(out)) if (/^(server|client\d)\.stvlog$/.test(f)) renameSync(join(out, f), join(out, `game-wifi-${f}`));

// 3. A soak seed whose connections abort from both sides (the abort-heavy workload over hell).
const soakDir = join(out, 'soak-tmp');
rmSync(soakDir, { recursive: true, force: true });
const r = runSoak({ seed: 3, profile: 'hell', connections: 2, durationMs: 4_000, workload: 'abort-heavy', record: { dir: soakDir } });
if (r.lifetimes.aborted === 0) throw new Error('the soak fixture has no aborts');
const seedDir = join(soakDir, 'seed-3');
for (const f of readdirSync(seedDir)) renameSync(join(seedDir, f), join(out, `soak-abort-${f}`));
rmSync(soakDir, { recursive: true, force: true });
console.log(`aborted ${r.lifetimes.aborted} of ${r.lifetimes.started}; logs in ${out}`);

// Drivers do not know about recording: the caller builds the endpoint (a RecordingEndpoint when recording) and
// hands the driver a close hook. The first test reads the drivers' sources (the shared loop in src/driver/, the
// Node driver, everything of the TUN driver) and fails on any import of src/replay/; the second drives a
// RecordingEndpoint through the Node driver and ends its log with the hook.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Driver } from '../../src/node/index.js';
import { BufferSink, LogReader, RecordingEndpoint, Replayer } from '../../src/replay/index.js';

const SRC = join(process.cwd(), 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : name.endsWith('.ts') ? [p] : [];
  });
}

const DRIVER_FILES = [
  ...sources(join(SRC, 'driver')),
  ...sources(join(SRC, 'tun')),
  ...readdirSync(join(SRC, 'node'))
    .filter((n) => /^driver.*\.ts$/.test(n))
    .map((n) => join(SRC, 'node', n)),
];

/** Module specifiers of every static or dynamic import and export-from in `text`. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

it('no driver imports src/replay/ (recording wraps the endpoint; drivers take what their caller built)', () => {
  assert.ok(DRIVER_FILES.some((f) => f.endsWith(join('node', 'driver.ts'))) && DRIVER_FILES.some((f) => f.endsWith(join('tun', 'driver.ts'))), 'found both drivers');
  assert.ok(DRIVER_FILES.some((f) => f.endsWith(join('driver', 'loop.ts'))), 'found the shared loop');
  const found: string[] = [];
  for (const file of DRIVER_FILES) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.') && relative(SRC, join(file, '..', spec)).split(/[\\/]/)[0] === 'replay') found.push(`${relative(process.cwd(), file)}: imports ${spec}`);
    }
  }
  assert.deepEqual(found, []);
});

it('the Node driver runs the endpoint its caller built and calls onClose once, after its last flush', async () => {
  const sink = new BufferSink();
  const endpoint = new RecordingEndpoint({ seed: 5 }, sink, { label: 'test' });
  let closes = 0;
  const driver = new Driver(endpoint, { onClose: () => (closes++, endpoint.closeLog()) });
  assert.equal(driver.endpoint, endpoint);
  await driver.bind({ type: 'udp4', address: '127.0.0.1' });
  driver.act((now) => endpoint.connect(now, { address: '127.0.0.1', port: 9 }));
  await Promise.all([driver.close(), driver.close()]);
  assert.equal(closes, 1);
  assert.equal(endpoint.recording, false, 'the hook ended the log');
  const r = new Replayer(new LogReader(sink.toBuffer())).run();
  assert.equal(r.status, 'complete');
});

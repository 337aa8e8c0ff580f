// The core has one way in: src/core/index.ts (`stevens/core`). This test reads the sources and fails when a file
// outside the core imports any other core file: every file under src/ but src/core/, under bench/ and examples/,
// and every test outside test/core/. The core's own unit tests here in test/core/ may test its internals (the
// receive buffer, the RTT estimator, the codec's pieces...) and are not checked. It also fails when bench/ imports
// from test/ (benchmarks use what src/ offers, as any user would) and when src/util/ imports anything of the
// project (it is the leaf the core and everything else stand on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { sourceFiles, stripComments } from '../support/source-guard.js';

/** The module specifiers a source imports or re-exports (static, side-effect only, dynamic), with their lines. */
export function importSpecifiers(text: string): { line: number; specifier: string }[] {
  const code = stripComments(text);
  const found: { at: number; specifier: string }[] = [];
  for (const re of [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of code.matchAll(re)) found.push({ at: m.index, specifier: m[1]! });
  }
  return found
    .sort((a, b) => a.at - b.at)
    .map(({ at, specifier }) => ({ line: code.slice(0, at).split('\n').length, specifier }));
}

const CORE_INDEX = 'src/core/index';

/** What is wrong with `file`'s imports (a path from the repository's root, with forward slashes). */
export function seamViolations(file: string, text: string): string[] {
  const out: string[] = [];
  for (const { line, specifier } of importSpecifiers(text)) {
    if (!specifier.startsWith('.')) continue; // node: modules and packages
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    const where = `${file}:${line}: imports '${specifier}'`;
    if (!file.startsWith('src/core/') && target.startsWith('src/core/') && target.replace(/\.(js|ts)$/, '') !== CORE_INDEX) {
      out.push(`${where}: only src/core/index.ts is the way into the core`);
    }
    if (file.startsWith('bench/') && target.startsWith('test/')) out.push(`${where}: bench/ must not import from test/`);
    if (file.startsWith('src/util/') && !target.startsWith('src/util/')) out.push(`${where}: src/util/ imports nothing from the project`);
  }
  return out;
}

/** The files the seam guard reads: everything outside the core and the core's own unit tests. */
export function guardedFiles(): string[] {
  const all = ['src', 'bench', 'examples', 'test'].flatMap((dir) => sourceFiles(dir));
  return all.map((f) => f.split('\\').join('/')).filter((f) => !f.startsWith('src/core/') && !f.startsWith('test/core/'));
}

test('nothing outside src/core imports a core file other than src/core/index.ts; bench/ imports nothing from test/; src/util/ nothing from the project', () => {
  const files = guardedFiles();
  for (const dir of ['src/', 'bench/', 'examples/', 'test/', 'src/util/']) assert.ok(files.some((f) => f.startsWith(dir)), `found sources under ${dir}`);
  const found = files.flatMap((f) => seamViolations(f, readFileSync(f, 'utf8')));
  assert.deepEqual(found, []);
});

test('the seam guard reports planted violations, and only those', () => {
  const planted: Array<[string, string, number]> = [
    ['src/sim/x.ts', "import { Prng } from '../core/prng.js';", 1],
    ['src/drill/x.ts', "import {\n  ACK,\n  SYN,\n} from '../core/wire/segment.js';", 1],
    ['src/plot/x.ts', "export { seqDiff } from '../core/seq.js';\nexport * from '../core/wire/index.js';", 2],
    ['src/capture/x.ts', "import '../core/connection.js';\nconst m = await import('../core/state.js');", 2],
    ['test/sim/x.test.ts', "import { crc32 } from '../../src/core/wire/crc.js';", 1],
    ['test/support/x.ts', "import type { TcpState } from '../../src/core/state.js';", 1],
    ['examples/x.ts', "import { Endpoint } from '../src/core/endpoint.js';", 1],
    ['bench/x.ts', "import { bulkTransfer } from '../test/support/bulk.js';", 1],
    ['src/util/x.ts', "import { wire } from '../core/index.js';\nimport type { Remote } from '../node/index.js';", 2],
    // The index, siblings, packages and node: modules are fine; so is naming a core file in a comment or a string.
    ['src/sim/y.ts', "import { Endpoint, wire } from '../core/index.js';\nimport { Fifo } from '../util/fifo.js';\nimport { createHash } from 'node:crypto';", 0],
    ['test/sim/y.test.ts', "import { Endpoint } from '../../src/core/index.js';\n// not: import { Prng } from '../../src/core/prng.js';", 0],
    ['src/capture/y.ts', "/* events: see '../core/events.js' */\nconst doc = 'src/core/events.ts';", 0],
    ['bench/y.ts', "import { Endpoint } from '../src/core/index.js';\nimport { runWorld } from '../src/replay/world.js';", 0],
    ['src/util/y.ts', "import { uniformInt } from 'pure-rand/distribution/uniformInt';\nimport { Fifo } from './fifo.js';", 0],
  ];
  for (const [file, text, n] of planted) assert.equal(seamViolations(file, text).length, n, `${file}: ${text}\n${seamViolations(file, text).join('\n')}`);
  assert.match(seamViolations('src/sim/x.ts', "\n\nimport { Prng } from '../core/prng.js';")[0]!, /^src\/sim\/x\.ts:3: imports '\.\.\/core\/prng\.js'/);
  // The core's own unit tests may reach its internals, and the core its own files: neither is read.
  const files = guardedFiles();
  assert.ok(!files.some((f) => f.startsWith('test/core/') || f.startsWith('src/core/')));
  assert.ok(files.includes('test/support/source-guard.ts'));
});

// The core is sans-IO and deterministic: nothing under src/core, nor under src/util (the shared helpers the core
// imports), may read a clock, draw Math.random, set a timer or import a socket, file or thread module. This test
// reads the sources and fails on any of them (the table is shared with the simulator's guard:
// test/support/source-guard.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FILE_IO, NONDETERMINISM, folderViolations, violations as ruleViolations } from '../support/source-guard.js';

const CORE = join(process.cwd(), 'src', 'core');
const UTIL = join(process.cwd(), 'src', 'util');

/** The core's rules: everything nondeterministic, and file I/O. */
const FORBIDDEN = [...NONDETERMINISM, ...FILE_IO];

export function violations(file: string, text: string): string[] {
  return ruleViolations(file, text, FORBIDDEN);
}

test('src/core reads no clock, no Math.random, sets no timer and imports no I/O module', () => {
  const { files, found } = folderViolations(CORE, () => FORBIDDEN);
  assert.ok(files.length > 10, 'found the core sources');
  assert.deepEqual(found, []);
});

test('src/util (used by the core) reads no clock, no Math.random, sets no timer and imports no I/O module', () => {
  const { files, found } = folderViolations(UTIL, () => FORBIDDEN);
  assert.ok(files.length >= 2, 'found the shared helpers');
  assert.deepEqual(found, []);
});

test('the guard catches each forbidden construct', () => {
  const samples = [
    'const t = Date.now();',
    'const t = performance.now();',
    'const t = process.hrtime.bigint();',
    'const r = Math.random();',
    'setTimeout(() => {}, 1);',
    "import dgram from 'node:dgram';",
    "import { readFileSync } from 'fs';",
    "import { Worker } from 'node:worker_threads';",
    "import { createSocket } from 'dgram';",
  ];
  for (const s of samples) assert.ok(violations('sample.ts', s).length > 0, `guard misses: ${s}`);
  assert.deepEqual(violations('sample.ts', '// Date.now() is forbidden here'), []);
});

// The core is sans-IO and deterministic: nothing under src/core, nor under src/util (the shared helpers the core
// imports), may read a clock, draw Math.random, set a timer or import a socket, file or thread module. This test
// reads the sources and fails on any of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const CORE = join(process.cwd(), 'src', 'core');
const UTIL = join(process.cwd(), 'src', 'util');

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDate\s*\.\s*now\b|\bnew\s+Date\b|\bDate\s*\(/, 'reads the wall clock (Date)'],
  [/\bperformance\s*\.\s*(now|timeOrigin)\b|\bperformance\b/, 'reads a clock (performance)'],
  [/\bprocess\s*\.\s*hrtime\b|\bprocess\s*\.\s*uptime\b/, 'reads a clock (process.hrtime)'],
  [/\bMath\s*\.\s*random\b/, 'draws unseeded randomness (Math.random)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'sets a timer'],
  [/\bprocess\s*\.\s*nextTick\b/, 'schedules work (process.nextTick)'],
  [/\bcrypto\s*\.\s*(randomBytes|randomInt|randomUUID|getRandomValues)\b/, 'draws unseeded randomness (crypto)'],
  [/from\s+['"](node:)?(dgram|net|fs|fs\/promises|worker_threads|timers|timers\/promises|child_process|http|https|dns|tls|perf_hooks)['"]/, 'imports an I/O, timer or thread module'],
  [/require\s*\(\s*['"](node:)?(dgram|net|fs|worker_threads|timers|child_process)['"]\s*\)/, 'requires an I/O module'],
  [/import\s*\(\s*['"](node:)?(dgram|net|fs|worker_threads|timers|child_process)['"]\s*\)/, 'imports an I/O module dynamically'],
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Source text with comments removed, so a comment may name what the code must not do. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function violations(file: string, text: string): string[] {
  const found: string[] = [];
  const lines = stripComments(text).split('\n');
  lines.forEach((line, i) => {
    for (const [re, why] of FORBIDDEN) if (re.test(line)) found.push(`${file}:${i + 1}: ${why}: ${line.trim()}`);
  });
  return found;
}

test('src/core reads no clock, no Math.random, sets no timer and imports no I/O module', () => {
  const files = sources(CORE);
  assert.ok(files.length > 10, 'found the core sources');
  const found = files.flatMap((f) => violations(relative(process.cwd(), f), readFileSync(f, 'utf8')));
  assert.deepEqual(found, []);
});

test('src/util (used by the core) reads no clock, no Math.random, sets no timer and imports no I/O module', () => {
  const files = sources(UTIL);
  assert.ok(files.length >= 2, 'found the shared helpers');
  const found = files.flatMap((f) => violations(relative(process.cwd(), f), readFileSync(f, 'utf8')));
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

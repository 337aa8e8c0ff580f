// The simulator is deterministic: nothing under src/sim may read a clock, draw Math.random, set a timer or do
// I/O, except profile-file.ts reading the user's profile file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SIM = join(process.cwd(), 'src', 'sim');

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDate\s*\.\s*now\b|\bnew\s+Date\b|\bDate\s*\(/, 'reads the wall clock'],
  [/\bperformance\b|\bprocess\s*\.\s*hrtime\b|\bprocess\s*\.\s*uptime\b/, 'reads a clock'],
  [/\bMath\s*\.\s*random\b|\bcrypto\s*\.\s*(randomBytes|randomInt|randomUUID|getRandomValues)\b/, 'draws unseeded randomness'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(|\bprocess\s*\.\s*nextTick\b/, 'sets a timer'],
  [/from\s+['"](node:)?(dgram|net|worker_threads|timers|timers\/promises|child_process|http|https|dns|tls|perf_hooks)['"]/, 'imports an I/O, timer or thread module'],
  [/\bawait\b|\bPromise\b|\basync\b/, 'is asynchronous'],
];
const FILE_IO = /from\s+['"](node:)?(fs|fs\/promises)['"]/;

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

test('src/sim reads no clock, no Math.random, sets no timer, does no I/O but reading profile files', () => {
  const files = readdirSync(SIM).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `found the simulator's sources: ${files}`);
  const found: string[] = [];
  for (const f of files) {
    stripComments(readFileSync(join(SIM, f), 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const [re, why] of FORBIDDEN) if (re.test(line)) found.push(`src/sim/${f}:${i + 1}: ${why}: ${line.trim()}`);
        if (FILE_IO.test(line) && f !== 'profile-file.ts') found.push(`src/sim/${f}:${i + 1}: file I/O outside profile-file.ts`);
      });
  }
  assert.deepEqual(found, []);
});

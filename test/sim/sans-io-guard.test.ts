// The simulator is deterministic: nothing under src/sim may read a clock, draw Math.random, set a timer or do
// I/O, except profile-file.ts reading the user's profile file; and it is synchronous (no async, await or Promise).
// The table of nondeterministic constructs is shared with the core's guard (test/support/source-guard.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { FILE_IO, NONDETERMINISM, folderViolations, violations, type Rule } from '../support/source-guard.js';

const SIM = join(process.cwd(), 'src', 'sim');

const ASYNC: Rule = [/\bawait\b|\bPromise\b|\basync\b/, 'is asynchronous'];
/** The one file that may read files: users' profiles. */
const FILE_READER = 'profile-file.ts';

function rulesFor(file: string): Rule[] {
  return basename(file) === FILE_READER ? [...NONDETERMINISM, ASYNC] : [...NONDETERMINISM, ASYNC, ...FILE_IO];
}

test('src/sim reads no clock, no Math.random, sets no timer, does no I/O but reading profile files', () => {
  const { files, found } = folderViolations(SIM, rulesFor);
  assert.ok(files.length >= 10, `found the simulator's sources: ${files}`);
  assert.deepEqual(found, []);
});

test("the simulator's guard catches asynchronous code and file I/O outside profile-file.ts", () => {
  const samples = ['async function f() {}', 'await x;', 'return Promise.resolve(1);', "import { readFileSync } from 'node:fs';", 'const t = Date.now();'];
  for (const s of samples) assert.ok(violations('src/sim/link.ts', s, rulesFor('src/sim/link.ts')).length > 0, `guard misses: ${s}`);
  assert.deepEqual(violations('src/sim/profile-file.ts', "import { readFileSync } from 'node:fs';", rulesFor('src/sim/profile-file.ts')), []);
  assert.ok(violations('src/sim/profile-file.ts', 'const t = Date.now();', rulesFor('src/sim/profile-file.ts')).length > 0);
});

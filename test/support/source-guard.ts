// What the source guards share (test/core/sans-io-guard.test.ts, test/sim/sans-io-guard.test.ts and, for the
// walker and comment stripping, test/core/seam-guard.test.ts): a walker over a folder's TypeScript sources, comment
// stripping, and the table of what deterministic code must not do (read a clock, draw unseeded randomness, set a
// timer, import an I/O, timer or thread module). Each guard adds its own rules on top.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A forbidden construct and what it means, as a guard reports it. */
export type Rule = [RegExp, string];

/** Every .ts file under `dir`, at any depth, sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Source text with comments removed, so a comment may name what the code must not do. */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Node modules that do I/O, keep time or run threads (the file system apart: see FILE_IO). */
const IO_MODULES = 'dgram|net|worker_threads|timers|timers\\/promises|child_process|http|https|dns|tls|perf_hooks';
const FS_MODULES = 'fs|fs\\/promises';

/** Importing, requiring or dynamically importing one of `modules` (a regex alternation). */
function moduleRules(modules: string, what: string): Rule[] {
  return [
    [new RegExp(`from\\s+['"](node:)?(${modules})['"]`), `imports ${what}`],
    [new RegExp(`require\\s*\\(\\s*['"](node:)?(${modules})['"]\\s*\\)`), `requires ${what}`],
    [new RegExp(`import\\s*\\(\\s*['"](node:)?(${modules})['"]\\s*\\)`), `imports ${what} dynamically`],
  ];
}

/** What no deterministic code may do: read a clock, draw unseeded randomness, schedule work, import I/O. */
export const NONDETERMINISM: Rule[] = [
  [/\bDate\s*\.\s*now\b|\bnew\s+Date\b|\bDate\s*\(/, 'reads the wall clock (Date)'],
  [/\bperformance\s*\.\s*(now|timeOrigin)\b|\bperformance\b/, 'reads a clock (performance)'],
  [/\bprocess\s*\.\s*hrtime\b|\bprocess\s*\.\s*uptime\b/, 'reads a clock (process.hrtime)'],
  [/\bMath\s*\.\s*random\b/, 'draws unseeded randomness (Math.random)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'sets a timer'],
  [/\bprocess\s*\.\s*nextTick\b/, 'schedules work (process.nextTick)'],
  [/\bcrypto\s*\.\s*(randomBytes|randomInt|randomUUID|getRandomValues)\b/, 'draws unseeded randomness (crypto)'],
  ...moduleRules(IO_MODULES, 'an I/O, timer or thread module'),
];

/** Reading or writing files: forbidden in the core, allowed in one file of the simulator. */
export const FILE_IO: Rule[] = moduleRules(FS_MODULES, 'a file system module');

/** Each line of `text` (comments stripped) that matches a rule, as "file:line: why: code". */
export function violations(file: string, text: string, rules: readonly Rule[]): string[] {
  const found: string[] = [];
  stripComments(text)
    .split('\n')
    .forEach((line, i) => {
      for (const [re, why] of rules) if (re.test(line)) found.push(`${file}:${i + 1}: ${why}: ${line.trim()}`);
    });
  return found;
}

/** violations() over every source under `dir`, with paths relative to the working directory (the repository). */
export function folderViolations(dir: string, rulesFor: (file: string) => readonly Rule[]): { files: string[]; found: string[] } {
  const files = sourceFiles(dir).map((f) => relative(process.cwd(), f));
  return { files, found: files.flatMap((f) => violations(f, readFileSync(f, 'utf8'), rulesFor(f))) };
}

// `stevens drill FILE.pkt|DIR...`: runs packetdrill-syntax scripts against a stevens endpoint.

import { InvalidArgumentError, type Command } from 'commander';
import { collectScripts, DEFAULT_TOLERANCE_MS, runScriptFile } from '../drill/index.js';
import type { CliIo } from './io.js';

interface DrillOptions {
  verbose?: boolean;
  tolerance?: number;
}

function parseTolerance(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of milliseconds >= 0');
  return n;
}

/** Runs the scripts and prints one line each plus a summary; returns the exit code. */
export function runDrill(paths: string[], opts: DrillOptions, io: CliIo): number {
  const files = collectScripts(paths);
  if (files.length === 0) throw new Error(`no *.pkt scripts found in ${paths.join(' ')}`);
  let passed = 0;
  let failed = 0;
  let waiting = 0;
  for (const file of files) {
    const log = opts.verbose ? (line: string) => io.out(`  ${line}`) : undefined;
    if (opts.verbose) io.out(`${file}:`);
    const r = runScriptFile(file, { toleranceMs: opts.tolerance, log });
    if (r.passed) {
      passed++;
      io.out(`PASS ${file}`);
    } else if (r.unsupported?.declared) {
      // The script says it needs a feature stevens lacks (`@stevens requires=`): expected, not a failure.
      waiting++;
      io.out(`NOT-YET ${file}: ${r.message}`);
    } else {
      failed++;
      io.out(`FAIL ${file}: ${r.message}`);
    }
  }
  io.out(`${passed} passed, ${failed} failed${waiting > 0 ? `, ${waiting} waiting for features not supported yet` : ''}`);
  return failed === 0 ? 0 : 1;
}

export function registerDrill(program: Command, io: CliIo): void {
  program
    .command('drill')
    .description('run packetdrill-syntax scripts (*.pkt) against a stevens endpoint in virtual time')
    .argument('<paths...>', 'script files, or directories searched recursively for *.pkt')
    .option('-v, --verbose', 'print every packet in and out with its time')
    .option(
      '--tolerance <ms>',
      `how far (ms) an outbound packet may be from its scripted time (default ${DEFAULT_TOLERANCE_MS}; a script's @stevens tolerance= wins)`,
      parseTolerance,
    )
    .action((paths: string[], opts: DrillOptions) => {
      io.setExitCode(runDrill(paths, opts, io));
    });
}

#!/usr/bin/env node
// The `stevens` command line. Each subcommand lives in src/cli/<command>.ts and registers itself here.
// Errors end as one line on stderr and a non-zero exit code, never a stack trace.

import { isEntryPoint } from './entry-point.js';
import { Command, CommanderError } from 'commander';
import { registerDrill } from './drill.js';
import { registerPing } from './ping.js';
import { registerPlot } from './plot.js';
import { registerReplay } from './replay.js';
import { registerServe } from './serve.js';
import { processIo, type CliIo } from './io.js';
import { registerSoak } from './soak.js';
import { registerTun } from './tun.js';

/** Subcommand registrations; add new commands here. */
const COMMANDS: ((program: Command, io: CliIo) => void)[] = [registerDrill, registerServe, registerPing, registerSoak, registerTun, registerPlot, registerReplay];

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('stevens')
    .description("TCP's machinery carried in UDP datagrams: tools")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    })
    .showHelpAfterError(false);
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs the CLI with the given arguments (without node and script path); returns the exit code. */
export async function main(args: string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const wrapped: CliIo = { ...io, setExitCode: (c) => (code = c) };
  try {
    await buildProgram(wrapped).parseAsync(args, { from: 'user' });
    return code;
  } catch (err) {
    // Commander has already printed its own one-line message for usage errors and help.
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`stevens: ${message(err)}`);
    return 1;
  }
}

if (isEntryPoint(import.meta.url)) {
  const fatal = (err: unknown) => {
    const e = err as { code?: unknown } | null;
    if (e?.code === 'EPIPE') process.exit(process.exitCode ?? 0); // output closed early (e.g. piped into head)
    process.stderr.write(`stevens: ${message(err)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.stdout.on('error', fatal);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    fatal,
  );
}

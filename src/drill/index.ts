// The drill interpreter: packetdrill-syntax scripts run against one stevens Endpoint in virtual time.
import { readFileSync } from 'node:fs';
import { runScript, type RunOptions, type RunResult } from './runner.js';

export type { Script, ScriptLine, ScriptEvent, PacketEvent, SyscallEvent, CodeEvent, Directives } from './ast.js';
export { DrillError } from './errors.js';
export { parseScript } from './parser.js';
export { runScript, runParsed, DEFAULT_TOLERANCE_MS, PEER_REMOTE, SCRIPT_PORT, PEER_CLIENT_PORT, type RunOptions, type RunResult } from './runner.js';
export { collectScripts, SCRIPT_EXTENSION } from './files.js';

/** Reads and runs one script file. */
export function runScriptFile(path: string, opts: RunOptions = {}): RunResult {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    return { passed: false, line: 0, message: `cannot read ${path}: ${(err as Error).message}` };
  }
  return runScript(source, opts);
}

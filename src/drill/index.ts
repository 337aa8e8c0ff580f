// The drill interpreter: packetdrill-syntax scripts run against one stevens Endpoint in virtual time.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DrillError } from './errors.js';
import { lex, type DirectiveComment } from './lexer.js';
import { runScript, type RunOptions, type RunResult } from './runner.js';

export type { Script, ScriptLine, ScriptEvent, PacketEvent, SyscallEvent, CodeEvent, Directives } from './ast.js';
export { DrillError } from './errors.js';
export { parseScript } from './parser.js';
export { runScript, runParsed, DEFAULT_TOLERANCE_MS, PEER_REMOTE, SCRIPT_PORT, PEER_CLIENT_PORT, type RunOptions, type RunResult } from './runner.js';
export { collectScripts, SCRIPT_EXTENSION } from './files.js';
export { FEATURES, type FeatureId, type Feature } from './features.js';

/** `@stevens include=FILE`: FILE relative to the including script, holding only comments and directives. */
function includeReader(scriptPath: string): (path: string, line: number) => DirectiveComment[] {
  return (path, line) => {
    const full = resolve(dirname(scriptPath), path);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (err) {
      throw new DrillError(line, `cannot read the included file ${path}: ${(err as Error).message}`);
    }
    const lexed = lex(text);
    const stray = lexed.tokens[0];
    if (stray) throw new DrillError(line, `the included file ${path} may hold only comments and @stevens directives (line ${stray.line}: '${stray.text}')`);
    // Its directives count as written on the include line (messages point there).
    return lexed.directives.map((d) => ({ line, text: d.text }));
  };
}

/** Reads and runs one script file. */
export function runScriptFile(path: string, opts: RunOptions = {}): RunResult {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    return { passed: false, line: 0, message: `cannot read ${path}: ${(err as Error).message}` };
  }
  return runScript(source, { ...opts, include: includeReader(path) });
}

// Script text -> Script, following packetdrill's grammar:
//   script := { --option[=value] } [`init command`] { event } [`cleanup command`]
//   event  := time ( packet | [...END] syscall | %{ code }% | `command` )
// Tokens, not lines, delimit events: a time may stand alone on its line and a call may span several.
// `--define=NAME=VALUE` options replace the word NAME in the events, as packetdrill's lexer does.

import type { Script, ScriptEvent, ScriptLine, ScriptOption } from './ast.js';
import { parseDirectives, type IncludeReader } from './directives.js';
import { DrillError } from './errors.js';
import { lex, show, type Token } from './lexer.js';
import { parsePacket } from './packet-parser.js';
import { parseCode } from './python.js';
import { parseSyscall } from './syscall-parser.js';
import { parseTime, startsTime } from './time.js';
import { TokenStream } from './tokens.js';

export interface ParseOptions {
  /** Reads `@stevens include=` files (without it, include is an error). */
  include?: IncludeReader;
}

function parseAction(ts: TokenStream, timeLine: number): ScriptEvent {
  const t = ts.peek();
  if (!t || startsTime(t)) throw new DrillError(timeLine, 'a time with no event after it');
  if (t.t === 'char' && (t.text === '<' || t.text === '>')) return parsePacket(ts);
  if (t.t === 'ellipsis' || (t.t === 'word' && ts.isChar('(', 1))) return parseSyscall(ts);
  if (t.t === 'code') {
    ts.next();
    return { kind: 'code', statements: parseCode(t.value, t.valueLine) };
  }
  if (t.t === 'command') {
    ts.next();
    return { kind: 'command', command: t.value };
  }
  throw new DrillError(t.line, `unrecognized event '${show(t)}' (expected '< packet', '> packet', a syscall, %{ code }% or a \`command\`)`);
}

/** `--name`, `--name=value`, `--define=NAME=VALUE` (the value may be a word, number, string or address). */
function parseOption(ts: TokenStream): ScriptOption {
  const tok = ts.next()!;
  const opt: ScriptOption = { line: tok.line, name: tok.text.slice(2) };
  if (!ts.takeChar('=')) return opt;
  const v = ts.next();
  if (!v || v.t === 'char' || v.t === 'code') throw new DrillError(tok.line, `${tok.text}=: expected a value, got '${show(v)}'`);
  let value = v.t === 'string' ? v.value : v.text;
  // --define=NAME=VALUE: the second '=' directly follows the name.
  if (ts.isChar('=') && ts.peek()!.start === v.end) {
    ts.next();
    const w = ts.next();
    if (!w || w.t === 'char' || w.t === 'code') throw new DrillError(tok.line, `${tok.text}=${value}=: expected a value, got '${show(w)}'`);
    value = `${value}=${w.t === 'string' ? JSON.stringify(w.value) : w.text}`;
  }
  opt.value = value;
  return opt;
}

/** Applies --define=NAME=VALUE to the event tokens: a number value becomes a number, a "string" a string. */
function applyDefines(tokens: Token[], options: ScriptOption[]): void {
  const defines = new Map<string, string>();
  for (const o of options) {
    if (o.name !== 'define' || o.value === undefined) continue;
    const eq = o.value.indexOf('=');
    if (eq <= 0) throw new DrillError(o.line, `--define expects NAME=VALUE, got '${o.value}'`);
    defines.set(o.value.slice(0, eq), o.value.slice(eq + 1));
  }
  if (defines.size === 0) return;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.t !== 'word') continue;
    const v = defines.get(t.text);
    if (v === undefined) continue;
    const at = { line: t.line, start: t.start, end: t.end };
    if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v)) {
      const neg = v.startsWith('-');
      const body = neg ? v.slice(1) : v;
      const n = body.startsWith('0x') ? Number.parseInt(body.slice(2), 16) : Number(body);
      tokens[i] = { t: 'int', value: neg ? -n : n, text: v, ...at };
    } else if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) tokens[i] = { t: 'string', value: v.slice(1, -1), text: v, ...at };
    else tokens[i] = { t: 'word', text: v, ...at };
  }
}

export function parseScript(source: string, opts: ParseOptions = {}): Script {
  const { tokens, directives, blanked } = lex(source);
  const lastLine = tokens[tokens.length - 1]?.line ?? 1;
  const ts = new TokenStream(tokens, lastLine);
  const options: ScriptOption[] = [];
  while (ts.peek()?.t === 'option') options.push(parseOption(ts));
  applyDefines(tokens, options);
  const script: Script = { directives: parseDirectives(directives, opts.include), options, lines: [] };
  const first = ts.peek();
  if (first?.t === 'command') {
    ts.next();
    script.initCommand = { line: first.line, command: first.value };
  }
  const firstEventLine = ts.peek()?.line ?? Infinity;
  for (const d of directives) {
    if (d.line > firstEventLine) throw new DrillError(d.line, '@stevens directives must come before the first event');
  }
  while (!ts.atEnd()) {
    const t = ts.peek()!;
    if (t.t === 'command' && ts.pos === tokens.length - 1) {
      ts.next();
      script.cleanupCommand = { line: t.line, command: t.value };
      break;
    }
    if (t.t === 'option') throw new DrillError(t.line, `option '${t.text}' must come before the first event`);
    const startTok = t;
    const time = parseTime(ts);
    const event = parseAction(ts, startTok.line);
    const endTok = tokens[ts.pos - 1]!;
    const next = ts.peek();
    if (next?.t === 'option') throw new DrillError(next.line, `option '${next.text}' must come before the first event`);
    if (next && !startsTime(next) && !(next.t === 'command' && ts.pos === tokens.length - 1)) {
      const what = event.kind === 'packet' ? `unsupported packet field '${show(next)}' (packetdrill's are ack N, win N, urg N, <options>)` : `unexpected '${show(next)}' after the event (each event starts with a time)`;
      throw new DrillError(next.line, what);
    }
    const text = blanked.slice(startTok.start, endTok.end).replace(/\s+/g, ' ').trim();
    const line: ScriptLine = { line: startTok.line, text, time, event };
    script.lines.push(line);
  }
  return script;
}

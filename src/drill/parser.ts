// Script text -> Script: directives, then one ScriptLine per statement (time column + event).

import type { Script, ScriptEvent, ScriptLine } from './ast.js';
import { parseCodeBlock } from './assert-parser.js';
import { parseDirectives } from './directives.js';
import { DrillError } from './errors.js';
import { parsePacket } from './packet-parser.js';
import { splitSource } from './source.js';
import { parseSyscall } from './syscall-parser.js';
import { parseTime } from './time.js';

function parseEvent(line: number, rest: string): ScriptEvent {
  const src = rest.trim();
  if (src === '') throw new DrillError(line, 'a time with no event after it');
  if (/^[<>]\s/.test(src)) return parsePacket(line, src);
  if (src.startsWith('%{')) return { kind: 'code', assertions: parseCodeBlock(line, rest) };
  if (/^[A-Za-z_][A-Za-z0-9_]*\s*\(/.test(src)) return parseSyscall(line, src);
  throw new DrillError(line, `unrecognized event '${src.split('\n')[0]}' (expected '< packet', '> packet', a syscall, or %{ assert ... }%)`);
}

export function parseScript(source: string): Script {
  const { statements, directives } = splitSource(source);
  const lines: ScriptLine[] = statements.map((st) => {
    const { time, rest } = parseTime(st.line, st.text);
    return { line: st.line, text: st.text.replace(/\s+/g, ' ').trim(), time, event: parseEvent(st.line, rest) };
  });
  return { directives: parseDirectives(directives), lines };
}

// Syscall lines: `[...END] name(arg, ...) = RESULT [ERRNO] [(note)]`. Arguments are kept as a small tree, the
// shapes packetdrill's grammar allows: numbers, names, `...`, strings (`"ab" "cd"`, `"abc"...`), [lists],
// {structs} with `name=value`, `.name=value`, `msg_iov(1)=[...]` or bare fields, calls like htons(8080),
// A|B, and `name=value`. The runner reads what it needs.

import type { StructField, SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import { show } from './lexer.js';
import { parseSeconds } from './time.js';
import type { TokenStream } from './tokens.js';

function parseList(ts: TokenStream, close: string, context: string): SyscallArg[] {
  const items: SyscallArg[] = [];
  if (ts.takeChar(close)) return items;
  for (;;) {
    items.push(parseExpr(ts, context));
    if (ts.takeChar(',')) continue;
    if (ts.takeChar(close)) return items;
    if (ts.atEnd()) ts.fail(`${context}: unbalanced brackets: '${close}' never comes`);
    ts.fail(`${context}: expected ',' or '${close}', got '${show(ts.peek())}'`);
  }
}

function toField(a: SyscallArg): StructField {
  if (a.kind !== 'assign') return { value: a };
  return a.index === undefined ? { name: a.name, value: a.value } : { name: a.name, index: a.index, value: a.value };
}

function parseTerm(ts: TokenStream, context: string): SyscallArg {
  const t = ts.next();
  if (!t) ts.fail(`${context}: the arguments end unexpectedly`);
  switch (t.t) {
    case 'int':
      return { kind: 'number', value: t.value };
    case 'float':
      throw new DrillError(t.line, `${context}: a syscall argument cannot be a fraction ('${t.text}')`);
    case 'ellipsis':
      return { kind: 'ellipsis' };
    case 'string': {
      let value = t.value;
      while (ts.peek()?.t === 'string') value += (ts.next() as { value: string }).value;
      if (ts.peek()?.t === 'ellipsis') {
        ts.next();
        return { kind: 'string', value, truncated: true };
      }
      return { kind: 'string', value };
    }
    case 'ipv4':
    case 'ipv6':
      return { kind: 'name', name: t.text };
    case 'word': {
      if (ts.takeChar('(')) {
        const args = parseList(ts, ')', `${context}: ${t.text}(...)`);
        if (ts.isChar('=') && !ts.isChar('=', 1)) {
          // msg_iov(1)=[...] inside a struct: a field with an index.
          ts.next();
          return { kind: 'assign', name: t.text, index: args, value: parseExpr(ts, context) };
        }
        return { kind: 'call', name: t.text, args };
      }
      if (ts.takeChar('=')) return { kind: 'assign', name: t.text, value: parseExpr(ts, context) };
      return { kind: 'name', name: t.text };
    }
    case 'char':
      if (t.text === '[') return { kind: 'list', items: parseList(ts, ']', context) };
      if (t.text === '{') {
        // `.name = value` (C designated initializers) is accepted too.
        const fields: StructField[] = [];
        if (!ts.takeChar('}')) {
          for (;;) {
            if (ts.isChar('.') && ts.isWord(undefined, 1)) ts.next();
            fields.push(toField(parseExpr(ts, context)));
            if (ts.takeChar(',')) continue;
            if (ts.takeChar('}')) break;
            if (ts.atEnd()) ts.fail(`${context}: unbalanced brackets: '}' never comes`);
            ts.fail(`${context}: expected ',' or '}', got '${show(ts.peek())}'`);
          }
        }
        return { kind: 'struct', fields };
      }
      if (t.text === '&') return parseTerm(ts, context);
      if (t.text === '-' && ts.peek()?.t === 'int') return { kind: 'number', value: -(ts.next() as { value: number }).value };
      throw new DrillError(t.line, `${context}: unexpected '${t.text}' in the arguments`);
    default:
      throw new DrillError(t.line, `${context}: unexpected '${show(t)}' in the arguments`);
  }
}

function parseExpr(ts: TokenStream, context: string): SyscallArg {
  const terms = [parseTerm(ts, context)];
  while (ts.isChar('|')) {
    ts.next();
    terms.push(parseTerm(ts, context));
  }
  return terms.length === 1 ? terms[0]! : { kind: 'or', terms };
}

/** A parenthesized note after the result: any balanced tokens, kept as text. */
function parseNote(ts: TokenStream): string {
  const open = ts.next()!;
  const words: string[] = [];
  let depth = 1;
  for (;;) {
    const t = ts.next();
    if (!t) throw new DrillError(open.line, "a syscall's note '(...)' is not closed");
    if (t.t === 'char' && t.text === '(') depth++;
    if (t.t === 'char' && t.text === ')' && --depth === 0) return words.join(' ');
    words.push(t.text);
  }
}

/** Parses a syscall at the stream's position: an optional `...END` then `name(...) = ...`. */
export function parseSyscall(ts: TokenStream): SyscallEvent {
  let blockingUntilMs: number | undefined;
  if (ts.peek()?.t === 'ellipsis') {
    ts.next();
    blockingUntilMs = parseSeconds(ts, "a blocking call's end time ('...END')");
  }
  const nameTok = ts.peek();
  if (nameTok?.t !== 'word' || !ts.isChar('(', 1)) ts.fail(`expected a syscall like 'read(4, ..., 100) = 100', got '${show(nameTok)}'`);
  ts.pos += 2;
  const name = nameTok.text;
  const args = parseList(ts, ')', `${name}(...)`);
  if (!ts.isChar('=')) ts.fail(`${name}(...): expected '= RESULT [ERRNO (text)]' after the call, got '${show(ts.peek())}'`);
  ts.next();
  const r = ts.next();
  let result: number;
  if (r?.t === 'int') result = r.value;
  else if (r?.t === 'char' && r.text === '-' && ts.peek()?.t === 'int') result = -(ts.next() as { value: number }).value;
  else throw new DrillError(r?.line ?? nameTok.line, `${name}(...): expected an integer result after '=', got '${show(r)}'`);
  const event: SyscallEvent = { kind: 'syscall', name, args, result };
  // An errno is an upper-case word; a word that is not one would be a missing time before the next event.
  // `= -1` alone is valid packetdrill: any errno is accepted.
  if (ts.isWord() && /^E[A-Z0-9]+$/.test(ts.peek()!.text)) {
    const errno = ts.next()!.text;
    if (result !== -1) throw new DrillError(nameTok.line, `${name}(...): an errno (${errno}) goes with result -1`);
    event.errno = errno;
  }
  if (ts.isChar('(')) event.note = parseNote(ts);
  if (blockingUntilMs !== undefined) event.blockingUntilMs = blockingUntilMs;
  return event;
}

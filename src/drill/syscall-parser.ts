// Syscall lines: `name(arg, ...) = RESULT [ERRNO] [(free text)]`. Arguments are kept as a small tree
// (numbers, names, `...`, [lists], {structs}, calls like htons(8080), A|B); the runner reads what it needs.

import type { SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';

type Token =
  | { t: 'num'; v: number }
  | { t: 'name'; v: string }
  | { t: 'str'; v: string }
  | { t: 'ellipsis' }
  | { t: 'punct'; v: string };

function tokenize(line: number, src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('...', i)) {
      out.push({ t: 'ellipsis' });
      i += 3;
      continue;
    }
    const num = /^-?(0x[0-9a-fA-F]+|\d+)/.exec(src.slice(i));
    if (num) {
      const s = num[0];
      const neg = s.startsWith('-');
      const body = neg ? s.slice(1) : s;
      const v = body.startsWith('0x') || body.startsWith('0X') ? Number.parseInt(body.slice(2), 16) : Number(body);
      out.push({ t: 'num', v: neg ? -v : v });
      i += s.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j];
        j++;
      }
      if (j >= src.length) throw new DrillError(line, 'unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if ('()[]{},=|.&'.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    throw new DrillError(line, `unexpected character '${c}' in syscall`);
  }
  return out;
}

class ArgParser {
  private pos = 0;
  constructor(
    private readonly line: number,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'punct' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isPunct(v)) throw new DrillError(this.line, `expected '${v}' in syscall arguments`);
    this.pos++;
  }

  /** Comma-separated items up to (not including) the closing bracket. */
  list(close: string, allowFields: boolean): { name?: string; value: SyscallArg }[] {
    const items: { name?: string; value: SyscallArg }[] = [];
    if (this.isPunct(close)) return items;
    for (;;) {
      let name: string | undefined;
      // struct fields: `name = value` or `.name = value`
      if (allowFields) {
        const save = this.pos;
        if (this.isPunct('.')) this.pos++;
        const t = this.peek();
        const after = this.tokens[this.pos + 1];
        if (t?.t === 'name' && after?.t === 'punct' && after.v === '=') {
          name = t.v;
          this.pos += 2;
        } else this.pos = save;
      }
      items.push({ name, value: this.expr() });
      if (this.isPunct(',')) {
        this.pos++;
        continue;
      }
      return items;
    }
  }

  expr(): SyscallArg {
    const terms = [this.term()];
    while (this.isPunct('|')) {
      this.pos++;
      terms.push(this.term());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms };
  }

  private term(): SyscallArg {
    const t = this.peek();
    if (!t) throw new DrillError(this.line, 'syscall arguments end unexpectedly');
    this.pos++;
    switch (t.t) {
      case 'num':
        return { kind: 'number', value: t.v };
      case 'str':
        return { kind: 'string', value: t.v };
      case 'ellipsis':
        return { kind: 'ellipsis' };
      case 'name':
        if (this.isPunct('(')) {
          this.pos++;
          const args = this.list(')', false).map((i) => i.value);
          this.expect(')');
          return { kind: 'call', name: t.v, args };
        }
        return { kind: 'name', name: t.v };
      case 'punct':
        if (t.v === '[') {
          const items = this.list(']', false).map((i) => i.value);
          this.expect(']');
          return { kind: 'list', items };
        }
        if (t.v === '{') {
          const fields = this.list('}', true);
          this.expect('}');
          return { kind: 'struct', fields };
        }
        if (t.v === '&') return this.term();
        throw new DrillError(this.line, `unexpected '${t.v}' in syscall arguments`);
    }
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }
}

/** Finds the ')' closing the '(' at `open`, skipping strings. */
function matchParen(src: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return c === ')' ? i : -1;
    }
  }
  return -1;
}

const RESULT = /^=\s*(-?(?:0x[0-9a-fA-F]+|\d+))(?:\s+([A-Z][A-Z0-9_]*))?(?:\s*\((.*)\))?$/s;

export function parseSyscall(line: number, text: string): SyscallEvent {
  const src = text.trim();
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(src);
  if (!m) throw new DrillError(line, `bad syscall '${src}'`);
  const name = m[1]!;
  const open = m[0].length - 1;
  const close = matchParen(src, open);
  if (close < 0) throw new DrillError(line, `unbalanced parentheses in '${src}'`);
  const tokens = tokenize(line, src.slice(open + 1, close));
  const parser = new ArgParser(line, tokens);
  const args = tokens.length === 0 ? [] : parser.list('\u0000', false).map((i) => i.value);
  if (!parser.atEnd()) throw new DrillError(line, `cannot parse the arguments of ${name}(...)`);
  const tail = src.slice(close + 1).trim();
  const r = RESULT.exec(tail);
  if (!r) throw new DrillError(line, `${name}(...): expected '= RESULT [ERRNO (text)]' after the call, got '${tail}'`);
  const raw = r[1]!;
  const neg = raw.startsWith('-');
  const body = neg ? raw.slice(1) : raw;
  const magnitude = /^0x/i.test(body) ? Number.parseInt(body.slice(2), 16) : Number(body);
  const result = neg ? -magnitude : magnitude;
  const event: SyscallEvent = { kind: 'syscall', name, args, result };
  if (r[2] !== undefined) {
    if (result !== -1) throw new DrillError(line, `${name}(...): an errno (${r[2]}) goes with result -1`);
    event.errno = r[2];
  } else if (result === -1) {
    throw new DrillError(line, `${name}(...): result -1 needs an errno name, e.g. '= -1 EAGAIN (Resource temporarily unavailable)'`);
  }
  return event;
}

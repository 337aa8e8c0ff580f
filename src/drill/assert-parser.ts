// `%{ assert tcpi_X OP VALUE and ... }%` blocks: a small restricted expression language, parsed here
// (never evaluated as code). Grammar:
//   block  := { 'assert' or [',' anything] NEWLINE | ';' }
//   or     := and { 'or' and }
//   and    := not { 'and' not }
//   not    := 'not' not | cmp
//   cmp    := atom [ OP atom ]          OP in == != < <= > >=
//   atom   := NUMBER | NAME | '(' or ')'
// Lines starting with '#' and blank lines are ignored.

import type { Assertion, CmpOp, Expr } from './ast.js';
import { DrillError } from './errors.js';

type Tok = { t: 'num'; v: number } | { t: 'name'; v: string } | { t: 'op'; v: string };

function tokenize(line: number, src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const ws = /^\s+/.exec(rest);
    if (ws) {
      i += ws[0].length;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?)/.exec(rest);
    if (num) {
      const s = num[0];
      out.push({ t: 'num', v: /^0x/i.test(s) ? Number.parseInt(s.slice(2), 16) : Number(s) });
      i += s.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (name) {
      out.push({ t: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|<|>|\(|\)|-)/.exec(rest);
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    throw new DrillError(line, `unsupported character '${rest[0]}' in assertion (allowed: names, numbers, == != < <= > >=, and, or, not, parentheses)`);
  }
  return out;
}

const CMP_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

class ExprParser {
  private pos = 0;
  constructor(
    private readonly line: number,
    private readonly toks: Tok[],
  ) {}

  parse(): Expr {
    const e = this.or();
    if (this.pos < this.toks.length) throw new DrillError(this.line, `unexpected '${this.show(this.toks[this.pos]!)}' in assertion`);
    return e;
  }

  private show(t: Tok): string {
    return String(t.v);
  }

  private isName(v: string): boolean {
    const t = this.toks[this.pos];
    return t !== undefined && t.t === 'name' && t.v === v;
  }

  private or(): Expr {
    const terms = [this.and()];
    while (this.isName('or')) {
      this.pos++;
      terms.push(this.and());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms };
  }

  private and(): Expr {
    const terms = [this.not()];
    while (this.isName('and')) {
      this.pos++;
      terms.push(this.not());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'and', terms };
  }

  private not(): Expr {
    if (this.isName('not')) {
      this.pos++;
      return { kind: 'not', term: this.not() };
    }
    return this.cmp();
  }

  private cmp(): Expr {
    const left = this.atom();
    const t = this.toks[this.pos];
    if (t?.t === 'op' && CMP_OPS.has(t.v)) {
      this.pos++;
      const right = this.atom();
      const next = this.toks[this.pos];
      if (next?.t === 'op' && CMP_OPS.has(next.v)) throw new DrillError(this.line, 'chained comparisons are not supported; join them with "and"');
      return { kind: 'cmp', op: t.v as CmpOp, left, right };
    }
    return left;
  }

  private atom(): Expr {
    const t = this.toks[this.pos];
    if (!t) throw new DrillError(this.line, 'assertion ends unexpectedly');
    this.pos++;
    if (t.t === 'num') return { kind: 'num', value: t.v };
    if (t.t === 'name') {
      if (t.v === 'and' || t.v === 'or' || t.v === 'not') throw new DrillError(this.line, `unexpected '${t.v}' in assertion`);
      return { kind: 'ident', name: t.v };
    }
    if (t.v === '-') {
      const n = this.toks[this.pos];
      if (n?.t !== 'num') throw new DrillError(this.line, "'-' must be followed by a number");
      this.pos++;
      return { kind: 'num', value: -n.v };
    }
    if (t.v === '(') {
      const e = this.or();
      const close = this.toks[this.pos];
      if (close?.t !== 'op' || close.v !== ')') throw new DrillError(this.line, "missing ')' in assertion");
      this.pos++;
      return e;
    }
    throw new DrillError(this.line, `unexpected '${t.v}' in assertion`);
  }
}

/** Cuts off a top-level ", message" part (Python's assert message), which is ignored. */
function dropMessage(src: string): string {
  let inString: string | undefined;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === inString) inString = undefined;
      continue;
    }
    if (c === '"' || c === "'") inString = c;
    else if (c === ',') return src.slice(0, i);
  }
  return src;
}

export function parseExpression(line: number, src: string): Expr {
  return new ExprParser(line, tokenize(line, src)).parse();
}

/** Parses a `%{ ... }%` statement (text includes the markers); `line` is where it starts. */
export function parseCodeBlock(line: number, text: string): Assertion[] {
  const src = text.trim();
  if (!src.startsWith('%{') || !src.endsWith('}%')) throw new DrillError(line, 'a code block must be written %{ ... }%');
  const body = src.slice(2, -2);
  const lead = text.slice(0, text.indexOf('%{')).split('\n').length - 1;
  const assertions: Assertion[] = [];
  body.split('\n').forEach((rawLine, i) => {
    const n = line + lead + i;
    for (const piece of rawLine.split(';')) {
      const stmt = piece.replace(/#.*$/, '').trim();
      if (stmt === '') continue;
      const m = /^assert\b(.*)$/s.exec(stmt);
      if (!m) {
        throw new DrillError(n, `unsupported code '${stmt}': only 'assert <condition>' is allowed in %{ }% blocks (stevens does not run Python)`);
      }
      const cond = dropMessage(m[1]!).trim();
      if (cond === '') throw new DrillError(n, 'assert without a condition');
      assertions.push({ line: n, text: cond, expr: parseExpression(n, cond) });
    }
  });
  if (assertions.length === 0) throw new DrillError(line, 'empty %{ }% block');
  return assertions;
}

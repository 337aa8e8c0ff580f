// `%{ ... }%` blocks: packetdrill runs them as Python after the script with the tcpi_* values of the moment;
// stevens parses the part scripts use into an expression tree (never evaluated as code):
//   block      := { statement (NEWLINE | ';') }        # comments, blank lines, `\` continuations
//   statement  := 'assert' test [',' test] | NAME '=' test | 'print' '(' tests ')' | 'pass'
//   test       := or ['if' or 'else' test]
//   or / and / not, comparisons (chained: a <= b < c; in, not in, is, is not),
//   | ^ & << >> + - * / // % (unary - + ~) ** , atoms: numbers, strings, True/False/None, names,
//   (tuples), [lists], and the builtins abs min max int float round bool len.

import type { BinaryOp, CmpOp, CodeStatement, Expr } from './ast.js';
import { DrillError } from './errors.js';

/** `s`/`e`: the token's offsets in the block's text. */
type Tok =
  | { t: 'num'; v: number; line: number; s: number; e: number }
  | { t: 'str'; v: string; line: number; s: number; e: number }
  | { t: 'name'; v: string; line: number; s: number; e: number }
  | { t: 'op'; v: string; line: number; s: number; e: number }
  | { t: 'end'; line: number; s: number; e: number };

export const PY_BUILTINS = ['abs', 'min', 'max', 'int', 'float', 'round', 'bool', 'len'] as const;

const AUGMENTED = ['**=', '//=', '<<=', '>>=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^='];
const OPS = [...AUGMENTED, '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '~', '(', ')', '[', ']', ',', ':', '=', ';'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'True', 'False', 'None', 'assert', 'pass', 'lambda', 'import', 'for', 'while', 'def', 'print']);

function parseNumber(s: string): number {
  const clean = s.replace(/_/g, '');
  if (/^0[xX]/.test(clean)) return Number.parseInt(clean.slice(2), 16);
  if (/^0[oO]/.test(clean)) return Number.parseInt(clean.slice(2), 8);
  if (/^0[bB]/.test(clean)) return Number.parseInt(clean.slice(2), 2);
  return Number(clean);
}

/** Cuts Python text into tokens; a logical line ends at a newline outside brackets or at ';' ('end' tokens). */
function tokenize(src: string, firstLine: number): Tok[] {
  const out: Tok[] = [];
  let line = firstLine;
  let depth = 0;
  let i = 0;
  const end = () => {
    if (out.length > 0 && out[out.length - 1]!.t !== 'end') out.push({ t: 'end', line, s: i, e: i });
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      if (depth === 0) end();
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      line++;
      i += 2;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const rest = src.slice(i);
    const num = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?)/.exec(rest);
    if (num && /[\d.]/.test(c)) {
      if (!(c === '.' && !/\d/.test(src[i + 1] ?? ''))) {
        const v = parseNumber(num[0]);
        if (Number.isNaN(v)) throw new DrillError(line, `bad number '${num[0]}' in Python code`);
        out.push({ t: 'num', v, line, s: i, e: i + num[0].length });
        i += num[0].length;
        continue;
      }
    }
    const str = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(rest);
    if (str) {
      const quote = str[2]!;
      let j = i + str[0].length;
      let value = '';
      for (;;) {
        if (j >= src.length) throw new DrillError(line, 'unterminated string in Python code');
        if (src.startsWith(quote, j)) break;
        if (src[j] === '\n') {
          if (quote.length === 1) throw new DrillError(line, 'unterminated string in Python code');
          line++;
        }
        if (src[j] === '\\' && j + 1 < src.length) {
          value += src[j + 1];
          j += 2;
          continue;
        }
        value += src[j];
        j++;
      }
      out.push({ t: 'str', v: value, line, s: i, e: j + quote.length });
      i = j + quote.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (name) {
      out.push({ t: 'name', v: name[0], line, s: i, e: i + name[0].length });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (op) {
      if (op === ';') end();
      else {
        if (op === '(' || op === '[') depth++;
        if (op === ')' || op === ']') depth = Math.max(0, depth - 1);
        out.push({ t: 'op', v: op, line, s: i, e: i + op.length });
      }
      i += op.length;
      continue;
    }
    throw new DrillError(line, `unsupported character '${c}' in Python code`);
  }
  end();
  return out;
}

const CMP_WORDS: Record<string, CmpOp> = { '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const BINARY_LEVELS: BinaryOp[][] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%']];

class Parser {
  pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    const last = this.toks[this.toks.length - 1];
    return this.toks[this.pos] ?? { t: 'end', line: last?.line ?? 0, s: last?.e ?? 0, e: last?.e ?? 0 };
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private isName(v: string): boolean {
    const t = this.peek();
    return t.t === 'name' && t.v === v;
  }

  private fail(detail: string): never {
    throw new DrillError(this.peek().line, detail);
  }

  private show(t: Tok): string {
    return t.t === 'end' ? 'the end of the statement' : t.t === 'str' ? JSON.stringify(t.v) : String(t.v);
  }

  atStatementEnd(): boolean {
    return this.peek().t === 'end';
  }

  /** Consumes the 'end' token after a statement. */
  endStatement(): void {
    const t = this.peek();
    if (t.t !== 'end') this.fail(`unexpected '${this.show(t)}' in Python code`);
    this.pos++;
  }

  atEof(): boolean {
    return this.pos >= this.toks.length;
  }

  nextName(): string | undefined {
    const t = this.peek();
    if (t.t !== 'name') return undefined;
    this.pos++;
    return t.v;
  }

  /** `=` or an augmented `+=` after a name: the operator it applies ('' for plain '='), or undefined. */
  takeAssign(): BinaryOp | '' | undefined {
    const t = this.peek();
    if (t.t !== 'op') return undefined;
    if (t.v === '=') {
      this.pos++;
      return '';
    }
    if (!AUGMENTED.includes(t.v)) return undefined;
    this.pos++;
    return t.v.slice(0, -1) as BinaryOp;
  }

  /** print's parenthesized arguments. */
  printArgs(): Expr[] {
    if (!this.isOp('(')) this.fail("expected '(' after print");
    this.pos++;
    return this.sequence(')');
  }

  line(): number {
    return this.peek().line;
  }

  /** Python's `test`: an expression, conditional expressions included. */
  test(): Expr {
    const e = this.or();
    if (this.isName('if')) {
      this.pos++;
      const test = this.or();
      if (!this.isName('else')) this.fail("expected 'else' in a conditional expression");
      this.pos++;
      return { kind: 'cond', test, then: e, otherwise: this.test() };
    }
    return e;
  }

  takeComma(): boolean {
    if (!this.isOp(',')) return false;
    this.pos++;
    return true;
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
    return this.comparison();
  }

  private cmpOp(): CmpOp | undefined {
    const t = this.peek();
    if (t.t === 'op' && CMP_WORDS[t.v]) {
      this.pos++;
      return CMP_WORDS[t.v];
    }
    if (this.isName('in')) {
      this.pos++;
      return 'in';
    }
    if (this.isName('not') && this.toks[this.pos + 1]?.t === 'name' && (this.toks[this.pos + 1] as { v: string }).v === 'in') {
      this.pos += 2;
      return 'not in';
    }
    if (this.isName('is')) {
      this.pos++;
      if (this.isName('not')) {
        this.pos++;
        return 'is not';
      }
      return 'is';
    }
    return undefined;
  }

  private comparison(): Expr {
    const operands = [this.binary(0)];
    const ops: CmpOp[] = [];
    for (let op = this.cmpOp(); op !== undefined; op = this.cmpOp()) {
      ops.push(op);
      operands.push(this.binary(0));
    }
    return ops.length === 0 ? operands[0]! : { kind: 'cmp', ops, operands };
  }

  private binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = t.t === 'op' ? BINARY_LEVELS[level]!.find((o) => o === t.v) : undefined;
      if (!op) return left;
      this.pos++;
      left = { kind: 'binary', op, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+' || t.v === '~')) {
      this.pos++;
      return { kind: 'unary', op: t.v, term: this.unary() };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.atom();
    if (this.isOp('**')) {
      this.pos++;
      return { kind: 'binary', op: '**', left: base, right: this.unary() };
    }
    return base;
  }

  private sequence(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      items.push(this.test());
      if (!this.takeComma()) break;
    }
    if (!this.isOp(close)) this.fail(`expected '${close}' in Python code, got '${this.show(this.peek())}'`);
    this.pos++;
    return items;
  }

  private atom(): Expr {
    const t = this.peek();
    if (t.t === 'end') this.fail('the expression ends unexpectedly');
    this.pos++;
    if (t.t === 'num') return { kind: 'num', value: t.v };
    if (t.t === 'str') {
      let value = t.v;
      while (this.peek().t === 'str') value += (this.toks[this.pos++] as { v: string }).v;
      return { kind: 'str', value };
    }
    if (t.t === 'name') {
      if (t.v === 'True' || t.v === 'False') return { kind: 'const', value: t.v === 'True' };
      if (t.v === 'None') return { kind: 'const', value: null };
      if (KEYWORDS.has(t.v)) throw new DrillError(t.line, `unexpected '${t.v}' in Python code`);
      if (this.isOp('(')) {
        this.pos++;
        if (!(PY_BUILTINS as readonly string[]).includes(t.v)) {
          throw new DrillError(t.line, `function '${t.v}' is not available in %{ }% code (only ${PY_BUILTINS.join(', ')})`);
        }
        return { kind: 'call', name: t.v, args: this.sequence(')') };
      }
      return { kind: 'ident', name: t.v };
    }
    if (t.v === '(') {
      const items = this.sequence(')');
      // (x) is x; (x,) and (x, y) are tuples.
      const trailingComma = (this.toks[this.pos - 2] as { v?: string } | undefined)?.v === ',';
      if (items.length === 1 && !trailingComma) return items[0]!;
      return { kind: 'tuple', items };
    }
    if (t.v === '[') return { kind: 'tuple', items: this.sequence(']') };
    throw new DrillError(t.line, `unexpected '${t.v}' in Python code`);
  }
}

/**
 * Parses a `%{ }%` block's inner text; `firstLine` is the line the text starts on. Returns its statements (a
 * block of only comments or `pass` has none).
 */
export function parseCode(code: string, firstLine: number): CodeStatement[] {
  const toks = tokenize(code, firstLine);
  const p = new Parser(toks);
  const out: CodeStatement[] = [];
  const lines = code.split('\n');
  const text = (from: number, to: number) => code.slice(toks[from]!.s, toks[to - 1]!.e).replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
  while (!p.atEof()) {
    const line = p.line();
    const head = p.nextName();
    if (head === 'pass') {
      p.endStatement();
      continue;
    }
    if (head === 'print') {
      out.push({ kind: 'print', line, args: p.printArgs() });
      p.endStatement();
      continue;
    }
    const assign = head !== undefined && !KEYWORDS.has(head) ? p.takeAssign() : undefined;
    if (head !== undefined && assign !== undefined) {
      const value = p.test();
      const expr: Expr = assign === '' ? value : { kind: 'binary', op: assign, left: { kind: 'ident', name: head }, right: value };
      out.push({ kind: 'assign', line, name: head, expr });
      p.endStatement();
      continue;
    }
    if (head !== 'assert') {
      const shown = (lines[line - firstLine] ?? '').trim();
      throw new DrillError(line, `unsupported code '${shown}': %{ }% blocks take assert, NAME = value, print(...) and pass (stevens does not run Python)`);
    }
    if (p.atStatementEnd()) throw new DrillError(line, 'assert without a condition');
    const start = p.pos;
    const expr = p.test();
    const condEnd = p.pos;
    if (p.takeComma()) p.test(); // the message: parsed, never shown or evaluated
    p.endStatement();
    out.push({ kind: 'assert', line, text: text(start, condEnd), expr });
  }
  return out;
}


// A cursor over the lexer's tokens for the recursive-descent parsers (script, packets, syscalls).

import { DrillError } from './errors.js';
import { show, type Token } from './lexer.js';

export class TokenStream {
  pos = 0;
  constructor(
    readonly tokens: Token[],
    /** Line to blame when the script ends in the middle of something. */
    private readonly lastLine: number,
  ) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  next(): Token | undefined {
    return this.tokens[this.pos++];
  }

  /** The line of the next token (or of the last one, at the end). */
  line(): number {
    return this.peek()?.line ?? this.lastLine;
  }

  isChar(c: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t !== undefined && t.t === 'char' && t.text === c;
  }

  isWord(w?: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t !== undefined && t.t === 'word' && (w === undefined || t.text === w);
  }

  takeChar(c: string): boolean {
    if (!this.isChar(c)) return false;
    this.pos++;
    return true;
  }

  takeWord(w: string): boolean {
    if (!this.isWord(w)) return false;
    this.pos++;
    return true;
  }

  expectChar(c: string, context: string): Token {
    const t = this.peek();
    if (!this.isChar(c)) throw new DrillError(t?.line ?? this.lastLine, `${context}: expected '${c}', got '${show(t)}'`);
    return this.next()!;
  }

  expectWord(context: string, w?: string): string {
    const t = this.peek();
    if (t?.t !== 'word' || (w !== undefined && t.text !== w)) {
      throw new DrillError(t?.line ?? this.lastLine, `${context}: expected ${w === undefined ? 'a name' : `'${w}'`}, got '${show(t)}'`);
    }
    this.pos++;
    return t.text;
  }

  /** A non-negative integer (decimal or hex) up to max. */
  expectUint(context: string, max = 0xffffffff): number {
    const t = this.peek();
    if (t?.t !== 'int' || t.value < 0) throw new DrillError(t?.line ?? this.lastLine, `bad ${context} '${show(t)}': expected a non-negative integer`);
    if (t.value > max) throw new DrillError(t.line, `${context} ${t.text} out of range (max ${max})`);
    this.pos++;
    return t.value;
  }

  fail(detail: string): never {
    throw new DrillError(this.line(), detail);
  }
}

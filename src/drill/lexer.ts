// The script's tokens, cut the way packetdrill's lexer cuts them: whitespace and newlines separate tokens and
// mean nothing else (a time may stand alone on its line, a call may run over several), the longest match wins
// (`0x1f` is a hex number, `1.2.3.4` an address, `%{ ... }%` one code token), `//` and `/* */` are comments.
// `// @stevens ...` comments are kept aside as directives.

import { DrillError } from './errors.js';

export type Token =
  | { t: 'int'; value: number; text: string; line: number; start: number; end: number }
  | { t: 'float'; value: number; text: string; line: number; start: number; end: number }
  | { t: 'word'; text: string; line: number; start: number; end: number }
  | { t: 'string'; value: string; text: string; line: number; start: number; end: number }
  /** `...` in backquotes: a shell command. */
  | { t: 'command'; value: string; text: string; line: number; start: number; end: number }
  /** `%{ ... }%`: value is the text between the markers, valueLine the line that text starts on. */
  | { t: 'code'; value: string; valueLine: number; text: string; line: number; start: number; end: number }
  /** `--name`, a packetdrill command-line option written in the script. */
  | { t: 'option'; text: string; line: number; start: number; end: number }
  | { t: 'ellipsis'; text: string; line: number; start: number; end: number }
  | { t: 'ipv4'; text: string; line: number; start: number; end: number }
  | { t: 'ipv6'; text: string; line: number; start: number; end: number }
  /** Any other single character: ( ) [ ] { } < > , = | : + * ~ . - and so on. */
  | { t: 'char'; text: string; line: number; start: number; end: number };

export interface DirectiveComment {
  line: number;
  /** The text after `@stevens`. */
  text: string;
}

export interface LexedScript {
  tokens: Token[];
  directives: DirectiveComment[];
  /** The source with comments replaced by spaces (newlines kept), for quoting statements in messages. */
  blanked: string;
}

const DIRECTIVE_TAG = '@stevens';

// Candidate rules, tried at each position; the longest match wins, the earlier rule on a tie (as flex does).
const ELLIPSIS = /\.\.\./y;
const OPTION = /--[A-Za-z0-9_]+/y;
const FLOAT = /-?[0-9]*\.[0-9]+/y;
const INTEGER = /-?[0-9]+/y;
const HEX = /0x[0-9a-fA-F]+/y;
const WORD = /[A-Za-z0-9_]+/y;
const IPV4 = /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/y;
// All eight groups, or '::' somewhere (so a sequence range like 1:1001 is never an address).
const IPV6 = /(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:)*(?:[0-9a-fA-F]{1,4})?::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?(?::\d+\.\d+\.\d+\.\d+)?/y;

type WordRule = 'ellipsis' | 'option' | 'float' | 'int' | 'hex' | 'word' | 'ipv4' | 'ipv6';
const WORD_RULES: [WordRule, RegExp][] = [
  ['ellipsis', ELLIPSIS],
  ['option', OPTION],
  ['float', FLOAT],
  ['int', INTEGER],
  ['hex', HEX],
  ['word', WORD],
  ['ipv4', IPV4],
  ['ipv6', IPV6],
];

function matchAt(re: RegExp, src: string, i: number): string | undefined {
  re.lastIndex = i;
  const m = re.exec(src);
  return m ? m[0] : undefined;
}

/** Where a quoted run starting at `i` (at its opening quote) ends, just past the closing quote. */
function quotedEnd(src: string, i: number, quote: string, line: number, what: string): number {
  let j = i + 1;
  while (j < src.length && src[j] !== quote) j += src[j] === '\\' && j + 1 < src.length ? 2 : 1;
  if (j >= src.length) throw new DrillError(line, `unterminated ${what}`);
  return j + 1;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/gs, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === '0' ? '\0' : c));
}

function countLines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

export function lex(source: string): LexedScript {
  const src = source.replace(/\r\n?/g, '\n');
  const tokens: Token[] = [];
  const directives: DirectiveComment[] = [];
  const blanked: string[] = [];
  let line = 1;
  let i = 0;
  let copied = 0;
  const blank = (from: number, to: number) => {
    blanked.push(src.slice(copied, from), src.slice(from, to).replace(/[^\n]/g, ' '));
    copied = to;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\v') {
      if (c === '\n') line++;
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      let j = src.indexOf('\n', i);
      if (j < 0) j = src.length;
      const body = src.slice(i + 2, j).trim();
      if (body.startsWith(DIRECTIVE_TAG) && (body.length === DIRECTIVE_TAG.length || /\s/.test(body[DIRECTIVE_TAG.length]!))) {
        directives.push({ line, text: body.slice(DIRECTIVE_TAG.length).trim() });
      }
      blank(i, j);
      i = j;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const j = src.indexOf('*/', i + 2);
      if (j < 0) throw new DrillError(line, 'unterminated /* comment');
      blank(i, j + 2);
      line += countLines(src.slice(i, j + 2));
      i = j + 2;
      continue;
    }
    const start = i;
    const startLine = line;
    if (c === '%' && src[i + 1] === '{') {
      const j = src.indexOf('}%', i + 2);
      if (j < 0) throw new DrillError(line, 'unterminated %{ ... }% block');
      const text = src.slice(i, j + 2);
      tokens.push({ t: 'code', value: src.slice(i + 2, j), valueLine: line, text, line, start, end: j + 2 });
      line += countLines(text);
      i = j + 2;
      continue;
    }
    if (c === '"' || c === '`') {
      const j = quotedEnd(src, i, c, line, c === '"' ? 'string' : '`command`');
      const text = src.slice(i, j);
      const inner = text.slice(1, -1);
      if (c === '"') tokens.push({ t: 'string', value: unescape(inner), text, line, start, end: j });
      else tokens.push({ t: 'command', value: inner, text, line, start, end: j });
      line += countLines(text);
      i = j;
      continue;
    }
    // Longest match among the word-like rules, earlier rule on a tie.
    let best: { t: WordRule; text: string } | undefined;
    for (const [t, re] of WORD_RULES) {
      const m = matchAt(re, src, i);
      if (m !== undefined && (best === undefined || m.length > best.text.length)) best = { t, text: m };
    }
    if (best) {
      const end = i + best.text.length;
      const at = { line: startLine, start, end, text: best.text };
      switch (best.t) {
        case 'ellipsis':
          tokens.push({ t: 'ellipsis', ...at });
          break;
        case 'option':
          tokens.push({ t: 'option', ...at });
          break;
        case 'float':
          tokens.push({ t: 'float', value: Number(best.text), ...at });
          break;
        case 'int':
          tokens.push({ t: 'int', value: Number(best.text), ...at });
          break;
        case 'hex':
          tokens.push({ t: 'int', value: Number.parseInt(best.text.slice(2), 16), ...at });
          break;
        case 'word':
          tokens.push({ t: 'word', ...at });
          break;
        case 'ipv4':
          tokens.push({ t: 'ipv4', ...at });
          break;
        case 'ipv6':
          tokens.push({ t: 'ipv6', ...at });
          break;
      }
      i = end;
      continue;
    }
    tokens.push({ t: 'char', text: c, line, start, end: i + 1 });
    i++;
  }
  blanked.push(src.slice(copied));
  return { tokens, directives, blanked: blanked.join('') };
}

/** A token as the script wrote it, for messages. */
export function show(tok: Token | undefined): string {
  if (!tok) return 'the end of the script';
  return tok.text.length > 40 ? `${tok.text.slice(0, 37)}...` : tok.text;
}

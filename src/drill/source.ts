// First pass over a script's text: removes comments (keeping line numbers), picks out `// @stevens`
// directive comments, and cuts the rest into statements. A statement is one line, or several when a
// bracket `( [ {` or a `%{ ... }%` block is still open at the end of a line.

import { DrillError } from './errors.js';

export interface Statement {
  /** 1-based line where the statement starts. */
  line: number;
  /** The statement's text, comments blanked out, newlines kept. */
  text: string;
}

export interface DirectiveComment {
  line: number;
  /** The text after `@stevens`. */
  text: string;
}

export interface SplitSource {
  statements: Statement[];
  directives: DirectiveComment[];
}

const DIRECTIVE_TAG = '@stevens';

/** Replaces comments by spaces (newlines survive) and collects directive comments. */
function stripComments(source: string): { text: string; directives: DirectiveComment[] } {
  const out: string[] = [];
  const directives: DirectiveComment[] = [];
  let line = 1;
  let i = 0;
  let inCode = false;
  let inString = false;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (inString) {
      out.push(c);
      if (c === '\\' && next !== undefined && next !== '\n') {
        out.push(next);
        i += 2;
        continue;
      }
      if (c === '"' || c === '\n') inString = false;
      if (c === '\n') line++;
      i++;
      continue;
    }
    if (inCode) {
      // Code blocks keep their text untouched ('//' is an operator in Python); only '}%' ends them.
      if (c === '}' && next === '%') {
        inCode = false;
        out.push('}%');
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      out.push(c);
      i++;
      continue;
    }
    if (c === '%' && next === '{') {
      inCode = true;
      out.push('%{');
      i += 2;
      continue;
    }
    if (c === '"') {
      inString = true;
      out.push(c);
      i++;
      continue;
    }
    if (c === '/' && next === '/') {
      let j = source.indexOf('\n', i);
      if (j < 0) j = source.length;
      const body = source.slice(i + 2, j).trim();
      if (body.startsWith(DIRECTIVE_TAG) && (body.length === DIRECTIVE_TAG.length || /\s/.test(body[DIRECTIVE_TAG.length]!))) {
        directives.push({ line, text: body.slice(DIRECTIVE_TAG.length).trim() });
      }
      out.push(' '.repeat(j - i));
      i = j;
      continue;
    }
    if (c === '/' && next === '*') {
      const j = source.indexOf('*/', i + 2);
      if (j < 0) throw new DrillError(line, 'unterminated /* comment');
      for (let k = i; k < j + 2; k++) {
        if (source[k] === '\n') {
          out.push('\n');
          line++;
        } else out.push(' ');
      }
      i = j + 2;
      continue;
    }
    if (c === '\n') line++;
    out.push(c);
    i++;
  }
  if (inCode) throw new DrillError(line, 'unterminated %{ ... }% block');
  return { text: out.join(''), directives };
}

/** Net bracket depth change of one line (strings skipped), and whether a %{ block is left open. */
function scanLine(text: string, depth: number, inCode: boolean): { depth: number; inCode: boolean } {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inCode) {
      if (c === '}' && text[i + 1] === '%') {
        inCode = false;
        i++;
      }
      continue;
    }
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '%' && text[i + 1] === '{') {
      inCode = true;
      i++;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
  }
  return { depth, inCode };
}

export function splitSource(source: string): SplitSource {
  const { text, directives } = stripComments(source.replace(/\r\n?/g, '\n'));
  const lines = text.split('\n');
  const statements: Statement[] = [];
  let current: Statement | undefined;
  let depth = 0;
  let inCode = false;
  for (let n = 0; n < lines.length; n++) {
    const lineText = lines[n]!;
    if (!current) {
      if (lineText.trim() === '') continue;
      current = { line: n + 1, text: lineText };
    } else {
      current.text += '\n' + lineText;
    }
    ({ depth, inCode } = scanLine(lineText, depth, inCode));
    if (depth < 0) throw new DrillError(current.line, 'unbalanced closing bracket');
    if (depth === 0 && !inCode) {
      statements.push(current);
      current = undefined;
    }
  }
  if (current) throw new DrillError(current.line, 'unbalanced brackets: statement never ends');
  const firstLine = statements[0]?.line ?? Infinity;
  for (const d of directives) {
    if (d.line > firstLine) throw new DrillError(d.line, '@stevens directives must come before the first event');
  }
  return { statements, directives };
}

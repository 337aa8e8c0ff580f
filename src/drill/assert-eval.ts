// Evaluates %{ assert }% expressions against a connection's stats (see tcpi.ts for the names).

import type { Assertion, Expr } from './ast.js';
import { lookupName, stateConstantName } from './tcpi.js';

type Stats = Record<string, unknown>;

function value(e: Expr, stats: Stats | undefined, seen: Map<string, number>): number | boolean {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'ident': {
      const v = lookupName(e.name, stats);
      if (!e.name.startsWith('TCP_')) seen.set(e.name, v);
      return v;
    }
    case 'cmp': {
      const l = value(e.left, stats, seen);
      const r = value(e.right, stats, seen);
      switch (e.op) {
        case '==':
          return l === r;
        case '!=':
          return l !== r;
        case '<':
          return l < r;
        case '<=':
          return l <= r;
        case '>':
          return l > r;
        case '>=':
          return l >= r;
      }
      break;
    }
    case 'and':
      return e.terms.every((t) => truthy(value(t, stats, seen)));
    case 'or':
      return e.terms.some((t) => truthy(value(t, stats, seen)));
    case 'not':
      return !truthy(value(e.term, stats, seen));
  }
}

function truthy(v: number | boolean): boolean {
  return typeof v === 'boolean' ? v : v !== 0;
}

/** undefined if the assertion holds, else a message naming the values involved. Throws for bad names. */
export function checkAssertion(a: Assertion, stats: Stats | undefined): string | undefined {
  const seen = new Map<string, number>();
  // Evaluate every name first, so the message shows them all even where and/or short-circuits.
  collectNames(a.expr).forEach((n) => {
    const v = lookupName(n, stats);
    if (!n.startsWith('TCP_')) seen.set(n, v);
  });
  if (truthy(value(a.expr, stats, new Map()))) return undefined;
  const shown = [...seen].map(([n, v]) => `${n} = ${n === 'tcpi_state' ? (stateConstantName(v) ?? v) : v}`);
  return `assertion failed: ${a.text}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`;
}

function collectNames(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'ident':
      if (!out.includes(e.name)) out.push(e.name);
      break;
    case 'cmp':
      collectNames(e.left, out);
      collectNames(e.right, out);
      break;
    case 'and':
    case 'or':
      e.terms.forEach((t) => collectNames(t, out));
      break;
    case 'not':
      collectNames(e.term, out);
      break;
    case 'num':
      break;
  }
  return out;
}

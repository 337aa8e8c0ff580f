// Runs %{ }% statements (python.ts's subset) with Python's semantics: and/or return an operand, comparisons
// chain, / is true division, // and % floor, bit operators work on integers of any size (tcpi_* values are
// 64-bit in Linux), True == 1. Names are the block's own variables, else tcpi.ts's.

import type { Assertion, BinaryOp, CmpOp, CodeStatement, Expr } from './ast.js';
import { DrillError } from './errors.js';
import { unsupported } from './features.js';
import { lookupName, stateConstantName, UnknownTcpInfoField, type NameContext } from './tcpi.js';

export type Value = number | boolean | string | null | Value[];

class PyError extends Error {}

function typeName(v: Value): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'tuple';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return 'str';
}

function isNumeric(v: Value): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

function num(v: Value, op: string): number {
  if (!isNumeric(v)) throw new PyError(`unsupported operand type for ${op}: '${typeName(v)}'`);
  return Number(v);
}

function int(v: Value, op: string): bigint {
  const n = num(v, op);
  if (!Number.isInteger(n)) throw new PyError(`unsupported operand type for ${op}: 'float'`);
  return BigInt(n);
}

export function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'string') return v.length > 0;
  return v !== null && v !== false && v !== 0;
}

function equal(a: Value, b: Value): boolean {
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  return a === b;
}

/** -1, 0 or 1; throws for types Python cannot order. */
function order(a: Value, b: Value, op: string): number {
  if (isNumeric(a) && isNumeric(b)) return Math.sign(Number(a) - Number(b));
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (!equal(a[i]!, b[i]!)) return order(a[i]!, b[i]!, op);
    return Math.sign(a.length - b.length);
  }
  throw new PyError(`'${op}' not supported between '${typeName(a)}' and '${typeName(b)}'`);
}

function compare(op: CmpOp, a: Value, b: Value): boolean {
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case '<':
      return order(a, b, op) < 0;
    case '<=':
      return order(a, b, op) <= 0;
    case '>':
      return order(a, b, op) > 0;
    case '>=':
      return order(a, b, op) >= 0;
    case 'is':
      return a === b || (isNumeric(a) && isNumeric(b) && typeof a === typeof b && Number(a) === Number(b));
    case 'is not':
      return !compare('is', a, b);
    case 'in':
    case 'not in': {
      let found: boolean;
      if (Array.isArray(b)) found = b.some((x) => equal(a, x));
      else if (typeof b === 'string' && typeof a === 'string') found = b.includes(a);
      else throw new PyError(`argument of type '${typeName(b)}' is not iterable`);
      return op === 'in' ? found : !found;
    }
  }
}

function floorDiv(a: number, b: number): number {
  if (b === 0) throw new PyError('division by zero');
  return Math.floor(a / b);
}

function binary(op: BinaryOp, a: Value, b: Value): Value {
  switch (op) {
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      return num(a, op) + num(b, op);
    case '-':
      return num(a, op) - num(b, op);
    case '*':
      return num(a, op) * num(b, op);
    case '/': {
      const d = num(b, op);
      if (d === 0) throw new PyError('division by zero');
      return num(a, op) / d;
    }
    case '//':
      return floorDiv(num(a, op), num(b, op));
    case '%': {
      if (typeof a === 'string') throw new PyError('string formatting is not supported in conditions');
      const x = num(a, op);
      const y = num(b, op);
      return x - y * floorDiv(x, y);
    }
    case '**':
      return num(a, op) ** num(b, op);
    case '|':
      return Number(int(a, op) | int(b, op));
    case '&':
      return Number(int(a, op) & int(b, op));
    case '^':
      return Number(int(a, op) ^ int(b, op));
    case '<<': {
      const s = int(b, op);
      if (s < 0n) throw new PyError('negative shift count');
      return Number(int(a, op) << s);
    }
    case '>>': {
      const s = int(b, op);
      if (s < 0n) throw new PyError('negative shift count');
      return Number(int(a, op) >> s);
    }
  }
}

/** Python's round(): halves to even. */
function pyRound(x: number, digits = 0): number {
  const f = 10 ** digits;
  const y = x * f;
  const r = Math.round(y);
  const half = Math.abs(y % 1) === 0.5;
  return (half && r % 2 !== 0 ? r - 1 : r) / f;
}

function call(name: string, args: Value[]): Value {
  const one = () => {
    if (args.length !== 1) throw new PyError(`${name}() takes exactly one argument (${args.length} given)`);
    return args[0]!;
  };
  switch (name) {
    case 'abs':
      return Math.abs(num(one(), 'abs()'));
    case 'min':
    case 'max': {
      const items = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
      if (items.length === 0) throw new PyError(`${name}() arg is an empty sequence`);
      return items.reduce((best, x) => (order(x, best, name) * (name === 'min' ? -1 : 1) > 0 ? x : best));
    }
    case 'int': {
      const v = one();
      if (typeof v === 'string') {
        const n = Number.parseInt(v.trim(), 10);
        if (Number.isNaN(n)) throw new PyError(`invalid literal for int(): '${v}'`);
        return n;
      }
      return Math.trunc(num(v, 'int()'));
    }
    case 'float':
      return Number(num(one(), 'float()'));
    case 'round':
      if (args.length === 2) return pyRound(num(args[0]!, 'round()'), num(args[1]!, 'round()'));
      return pyRound(num(one(), 'round()'));
    case 'bool':
      return truthy(one());
    case 'len': {
      const v = one();
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      throw new PyError(`object of type '${typeName(v)}' has no len()`);
    }
    default:
      throw new PyError(`function '${name}' is not available`);
  }
}

function evaluate(e: Expr, names: Map<string, Value>): Value {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'str':
      return e.value;
    case 'const':
      return e.value;
    case 'ident':
      return names.get(e.name)!;
    case 'tuple':
      return e.items.map((x) => evaluate(x, names));
    case 'unary': {
      const v = evaluate(e.term, names);
      if (e.op === '~') return Number(-int(v, '~') - 1n);
      return e.op === '-' ? -num(v, '-') : num(v, '+');
    }
    case 'binary':
      return binary(e.op, evaluate(e.left, names), evaluate(e.right, names));
    case 'cmp': {
      let left = evaluate(e.operands[0]!, names);
      for (let i = 0; i < e.ops.length; i++) {
        const right = evaluate(e.operands[i + 1]!, names);
        if (!compare(e.ops[i]!, left, right)) return false;
        left = right;
      }
      return true;
    }
    case 'and': {
      let v: Value = true;
      for (const t of e.terms) {
        v = evaluate(t, names);
        if (!truthy(v)) return v;
      }
      return v;
    }
    case 'or': {
      let v: Value = false;
      for (const t of e.terms) {
        v = evaluate(t, names);
        if (truthy(v)) return v;
      }
      return v;
    }
    case 'not':
      return !truthy(evaluate(e.term, names));
    case 'cond':
      return truthy(evaluate(e.test, names)) ? evaluate(e.then, names) : evaluate(e.otherwise, names);
    case 'call':
      return call(
        e.name,
        e.args.map((x) => evaluate(x, names)),
      );
  }
}

function collectNames(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'ident':
      if (!out.includes(e.name)) out.push(e.name);
      break;
    case 'tuple':
    case 'call':
      (e.kind === 'tuple' ? e.items : e.args).forEach((x) => collectNames(x, out));
      break;
    case 'unary':
    case 'not':
      collectNames(e.term, out);
      break;
    case 'binary':
      collectNames(e.left, out);
      collectNames(e.right, out);
      break;
    case 'cmp':
      e.operands.forEach((x) => collectNames(x, out));
      break;
    case 'and':
    case 'or':
      e.terms.forEach((x) => collectNames(x, out));
      break;
    case 'cond':
      collectNames(e.test, out);
      collectNames(e.then, out);
      collectNames(e.otherwise, out);
      break;
    case 'num':
    case 'str':
    case 'const':
      break;
  }
  return out;
}

/** A constant's name is not worth showing in a failure message. */
function isConstantName(name: string): boolean {
  return /^(TCP_|TCPI_OPT_)/.test(name);
}

/** Every name of `e`, looked up first (an unknown name fails even in a branch and/or would skip). */
function lookupAll(e: Expr, line: number, text: string, ctx: NameContext, vars: Map<string, Value>): Map<string, Value> {
  const names = new Map<string, Value>();
  for (const n of collectNames(e)) {
    const own = vars.get(n);
    if (own !== undefined) {
      names.set(n, own);
      continue;
    }
    try {
      names.set(n, lookupName(n, ctx));
    } catch (err) {
      if (err instanceof UnknownTcpInfoField) unsupported('tcp-info-field', line, text, `the TCP_INFO field ${n}`);
      throw new DrillError(line, (err as Error).message);
    }
  }
  return names;
}

function evaluateAt(e: Expr, line: number, text: string, names: Map<string, Value>): Value {
  try {
    return evaluate(e, names);
  } catch (err) {
    if (err instanceof PyError) throw new DrillError(line, `cannot evaluate '${text}': ${err.message}`);
    throw err;
  }
}

function showValue(v: Value): string {
  if (Array.isArray(v)) return `(${v.map(showValue).join(', ')})`;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** undefined if the assertion holds, else a message naming the values involved. */
export function checkAssertion(a: Assertion, ctx: NameContext, vars: Map<string, Value> = new Map()): string | undefined {
  const names = lookupAll(a.expr, a.line, `assert ${a.text}`, ctx, vars);
  if (truthy(evaluateAt(a.expr, a.line, a.text, names))) return undefined;
  const shown = [...names]
    .filter(([n]) => !isConstantName(n))
    .map(([n, x]) => `${n} = ${n === 'tcpi_state' && typeof x === 'number' ? (stateConstantName(x) ?? x) : showValue(x)}`);
  return `assertion failed: ${a.text}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`;
}

/**
 * Runs a block's statements in order: assignments into `vars` (kept across blocks), print() to `log`; throws
 * DrillError at the first assertion that fails.
 */
export function runCode(statements: CodeStatement[], ctx: NameContext, vars: Map<string, Value>, log?: (line: string) => void): void {
  for (const st of statements) {
    switch (st.kind) {
      case 'assert': {
        const failure = checkAssertion(st, ctx, vars);
        if (failure) throw new DrillError(st.line, failure);
        break;
      }
      case 'assign':
        vars.set(st.name, evaluateAt(st.expr, st.line, st.name, lookupAll(st.expr, st.line, `${st.name} = ...`, ctx, vars)));
        break;
      case 'print': {
        const values = st.args.map((x) => evaluateAt(x, st.line, 'print(...)', lookupAll(x, st.line, 'print(...)', ctx, vars)));
        log?.(`print: ${values.map((v) => (typeof v === 'string' ? v : showValue(v))).join(' ')}`);
        break;
      }
    }
  }
}

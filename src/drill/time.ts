// The time column: `0.100` (absolute seconds), `+0.1` (relative to the previous event's actual time),
// `0.1~0.2` / `+0.1~+0.2` (a window) and `*` (any time). Parsed to milliseconds. (A blocking call's end,
// `+0...0.2`, belongs to the syscall: syscall-parser.ts.)

import type { TimePoint, TimeSpec } from './ast.js';
import { DrillError } from './errors.js';
import type { Token } from './lexer.js';
import { show } from './lexer.js';
import type { TokenStream } from './tokens.js';

/** Seconds as written -> milliseconds, exact to the microsecond. */
export function secondsToMs(s: string): number {
  return Math.round(Number.parseFloat(s) * 1e6) / 1e3;
}

/** Whether a token can start the time column: `*`, `+`, or a number. */
export function startsTime(t: Token | undefined): boolean {
  if (!t) return false;
  if (t.t === 'char') return t.text === '*' || t.text === '+';
  return (t.t === 'int' || t.t === 'float') && !t.text.startsWith('-');
}

const TIME_EXAMPLES = 'like 0.1, +0.1, 0.1~0.2 or *';

/** A number of seconds (int or float token), as ms. */
export function parseSeconds(ts: TokenStream, what: string): number {
  const t = ts.peek();
  if (t?.t !== 'int' && t?.t !== 'float') throw new DrillError(ts.line(), `${what}: expected a number of seconds, got '${show(t)}'`);
  if (t.text.startsWith('-')) throw new DrillError(t.line, `${what}: negative time '${t.text}'`);
  if (t.t === 'int' && t.text.startsWith('0x')) throw new DrillError(t.line, `${what}: a time is written in decimal seconds, got '${t.text}'`);
  ts.next();
  return secondsToMs(t.text);
}

function parsePoint(ts: TokenStream): TimePoint {
  const relative = ts.takeChar('+');
  return { relative, ms: parseSeconds(ts, 'time') };
}

/** The time column at the stream's position. */
export function parseTime(ts: TokenStream): TimeSpec {
  const t = ts.peek();
  if (!startsTime(t)) throw new DrillError(ts.line(), `expected a time (${TIME_EXAMPLES}) to start an event, got '${show(t)}'`);
  if (ts.takeChar('*')) return { kind: 'any' };
  const line = ts.line();
  const lo = parsePoint(ts);
  if (!ts.takeChar('~')) return { kind: 'point', at: lo };
  const hi = parsePoint(ts);
  if (lo.relative === hi.relative && hi.ms < lo.ms) {
    throw new DrillError(line, `time window '${lo.relative ? '+' : ''}${formatSeconds(lo.ms)}~${hi.relative ? '+' : ''}${formatSeconds(hi.ms)}' ends before it starts`);
  }
  return { kind: 'range', lo, hi };
}

/** A line's time, resolved against the previous event's actual time. */
export interface TimeWindow {
  /** When the runner performs an inbound event or syscall (clamped to the current time). */
  target: number;
  /** Outbound packets: the earliest and latest acceptable emit time. */
  lo: number;
  hi: number;
}

export function resolveTime(spec: TimeSpec, anchorMs: number, nowMs: number, toleranceMs: number): TimeWindow {
  const at = (p: TimePoint) => (p.relative ? anchorMs + p.ms : p.ms);
  switch (spec.kind) {
    case 'any':
      return { target: nowMs, lo: -Infinity, hi: Infinity };
    case 'range': {
      const lo = at(spec.lo);
      const hi = at(spec.hi);
      return { target: lo, lo, hi };
    }
    case 'point': {
      const t = at(spec.at);
      return { target: t, lo: t - toleranceMs, hi: t + toleranceMs };
    }
  }
}

/** Renders milliseconds as the script's seconds, e.g. 40 -> '0.040'. */
export function formatSeconds(ms: number): string {
  const s = (ms / 1000).toFixed(6).replace(/0{1,3}$/, '');
  return s;
}

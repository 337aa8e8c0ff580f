// The time column: `0.100` (absolute seconds), `+0.1` (relative to the previous event's actual time),
// `0.1~0.2` / `+0.1~+0.2` (a window) and `*` (any time). Parsed to milliseconds.

import type { TimePoint, TimeSpec } from './ast.js';
import { DrillError } from './errors.js';

const POINT = /^(\+)?(\d+(?:\.\d*)?|\.\d+)$/;

/** Seconds as written -> milliseconds, exact to the microsecond. */
function secondsToMs(s: string): number {
  return Math.round(Number.parseFloat(s) * 1e6) / 1e3;
}

function parsePoint(line: number, word: string): TimePoint {
  const m = POINT.exec(word);
  if (!m) throw new DrillError(line, `bad time '${word}'`);
  return { relative: m[1] === '+', ms: secondsToMs(m[2]!) };
}

/** Splits the time column off a statement. */
export function parseTime(line: number, text: string): { time: TimeSpec; rest: string } {
  const trimmed = text.trimStart();
  const m = /^(\S+)(\s+|$)/.exec(trimmed);
  if (!m) throw new DrillError(line, 'empty statement');
  const word = m[1]!;
  const rest = trimmed.slice(m[0].length);
  if (word === '*') return { time: { kind: 'any' }, rest };
  if (word.includes('...')) {
    throw new DrillError(line, `blocking-call time windows like '${word}' are not supported (stevens sockets are non-blocking)`);
  }
  const tilde = word.indexOf('~');
  if (tilde >= 0) {
    const lo = parsePoint(line, word.slice(0, tilde));
    const hi = parsePoint(line, word.slice(tilde + 1));
    if (lo.relative === hi.relative && hi.ms < lo.ms) throw new DrillError(line, `time window '${word}' ends before it starts`);
    return { time: { kind: 'range', lo, hi }, rest };
  }
  if (!POINT.test(word)) throw new DrillError(line, `expected a time (like 0.1, +0.1, 0.1~0.2 or *) at the start of the line, got '${word}'`);
  return { time: { kind: 'point', at: parsePoint(line, word) }, rest };
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

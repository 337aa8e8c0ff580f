// Parsing and printing what names a soak run: durations (30s, 10m, 1h), seed ranges (A..B), shards (I/N),
// and the command line that reproduces one seed.
import type { SoakOptions } from './types.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "10m", "1h", "1h30m", "500ms" -> milliseconds. Throws with a one-line message. */
export function parseDuration(text: string): number {
  const t = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  let parts = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
    parts++;
  }
  if (parts === 0 || end !== t.length) throw new Error(`expected a duration like 30s, 10m or 1h, got '${text}'`);
  if (!(total > 0)) throw new Error(`the duration must be more than zero, got '${text}'`);
  return Math.round(total);
}

/** Milliseconds -> the shortest of "1h30m", "3m", "45s", "500ms" that parses back to the same value. */
export function formatDuration(ms: number): string {
  let left = Math.round(ms);
  const out: string[] = [];
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (left >= size) {
      const n = Math.floor(left / size);
      out.push(`${n}${unit}`);
      left -= n * size;
    }
  }
  return out.length === 0 ? '0s' : out.join('');
}

const MAX_SEED = 0xffff_ffff;

export function parseSeed(text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) > MAX_SEED) throw new Error(`expected a seed: an integer in [0, ${MAX_SEED}], got '${text}'`);
  return Number(t);
}

/** "A..B" (both included). */
export function parseSeedRange(text: string): { from: number; to: number } {
  const m = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new Error(`expected a seed range A..B (e.g. 1..100), got '${text}'`);
  const from = parseSeed(m[1]!);
  const to = parseSeed(m[2]!);
  if (from > to) throw new Error(`the seed range ${text} is empty: ${from} is after ${to}`);
  return { from, to };
}

export interface Shard {
  index: number;
  count: number;
}

/** "I/N": this machine runs shard I of N (0 <= I < N). "auto/N": I comes from the environment (shardIndexFrom). */
export function parseShard(text: string): Shard | { auto: true; count: number } {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new Error(`expected a shard I/N (e.g. 0/4) or auto/N, got '${text}'`);
  const count = Number(m[2]);
  if (m[1] === 'auto') {
    if (count < 1) throw new Error(`a shard auto/N needs N >= 1, got '${text}'`);
    return { auto: true, count };
  }
  const index = Number(m[1]);
  if (count < 1 || index >= count) throw new Error(`a shard I/N needs 0 <= I < N, got '${text}'`);
  return { index, count };
}

/**
 * Where `--shard auto/N` finds its index, in order: a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX in each pod
 * (a retried pod keeps its index); anything else (a CI matrix, a shell loop) sets STEVENS_SHARD_INDEX.
 */
export const SHARD_INDEX_VARIABLES = ['JOB_COMPLETION_INDEX', 'STEVENS_SHARD_INDEX'] as const;

/** The index of an auto/N shard from the environment. Throws with a one-line message. */
export function shardIndexFrom(env: Record<string, string | undefined>, count: number): Shard {
  for (const name of SHARD_INDEX_VARIABLES) {
    const v = env[name];
    if (v === undefined || v.trim() === '') continue;
    if (!/^\d+$/.test(v.trim()) || Number(v) >= count) throw new Error(`--shard auto/${count}: ${name} is '${v}', expected an index in [0, ${count - 1}]`);
    return { index: Number(v), count };
  }
  throw new Error(`--shard auto/${count}: no shard index in the environment (set ${SHARD_INDEX_VARIABLES.join(' or ')})`);
}

/** The seeds of [from, to] that belong to a shard: seed s is shard (s mod N)'s. */
export function seedsOf(range: { from: number; to: number }, shard?: { index: number; count: number }): number[] {
  const out: number[] = [];
  for (let s = range.from; s <= range.to; s++) if (shard === undefined || s % shard.count === shard.index) out.push(s);
  return out;
}

/** The exact command that runs one seed of a sweep again. */
export function reproduceCommand(opts: SoakOptions): string {
  const args = ['npx stevens soak'];
  if (opts.profileFile !== undefined) args.push(`--profile-file ${shellQuote(opts.profileFile)}`);
  else args.push(`--profile ${opts.profile}`);
  args.push(`--connections ${opts.connections}`, `--duration ${formatDuration(opts.durationMs)}`);
  if (opts.workload !== undefined && opts.workload !== 'mixed') args.push(`--workload ${opts.workload}`);
  if (opts.buggify) args.push(opts.buggify === 'all' ? '--buggify all' : '--buggify');
  if (opts.liveness) args.push('--liveness');
  if (opts.checkDeterminism) args.push('--check-determinism');
  if (opts.faults?.corruptRetransmission !== undefined) args.push(`--fault-corrupt-retransmission ${opts.faults.corruptRetransmission}`);
  if (opts.faults?.nondeterminism) args.push('--fault-nondeterminism');
  if (opts.faults?.loseTimers) args.push('--fault-lose-timers');
  args.push(`--seed ${opts.seed}`);
  return args.join(' ');
}

function shellQuote(s: string): string {
  return /^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// One shard's result as a file (`stevens soak --out DIR`): DIR/shard-<I>-of-<N>.json, written whole or not at all,
// one file per shard and nothing shared, so shards on many machines can write into one bucket or volume and a
// retried shard replaces its own file. It is the --json report plus each seed's full result (the latency
// histograms a merge needs), with replay-log paths relative to the file's folder.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from './output-dir.js';
import type { Shard } from './options.js';
import { jsonReport, type SweepDescription } from './report.js';
import { emptyResult } from './tallies.js';
import type { SoakResult } from './types.js';

export const SHARD_FILE_FORMAT = 'stevens-soak-shard';
export const SHARD_FILE_VERSION = 1;

/** A shard file that cannot be read, or is not one. The message is one line naming the file. */
export class ShardFileError extends Error {
  override name = 'ShardFileError';
}

export type ShardReport = ReturnType<typeof jsonReport>;

export interface ShardFile extends ShardReport {
  format: typeof SHARD_FILE_FORMAT;
  formatVersion: number;
  /** Each seed's whole result, in the order of options.seeds. */
  results: SoakResult[];
}

/** An unsharded sweep is shard 0 of 1. */
export function shardFileName(shard: Shard | undefined): string {
  const s = shard ?? { index: 0, count: 1 };
  return `shard-${s.index}-of-${s.count}.json`;
}

export const SHARD_FILE_PATTERN = /^shard-(\d+)-of-(\d+)\.json$/;

/** Writes the shard's file into `dir` (which exists); returns its path. */
export function writeShardFile(dir: string, results: SoakResult[], d: SweepDescription): string {
  const path = join(dir, shardFileName(d.shard));
  const relativeLogs = results.map((r) => (r.logs === undefined ? r : { ...r, logs: r.logs.map((l) => relative(dir, resolve(l))) }));
  const doc: ShardFile = { format: SHARD_FILE_FORMAT, formatVersion: SHARD_FILE_VERSION, ...jsonReport(relativeLogs, d), results: relativeLogs };
  writeFileAtomic(path, `${JSON.stringify(doc)}\n`);
  return path;
}

/** Reads and checks a shard file; its results' log paths made absolute. Throws a ShardFileError. */
export function readShardFile(path: string): ShardFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ShardFileError(`${path}: ${err.code !== undefined ? `cannot read it (${err.code})` : `not JSON (${err.message})`}`);
  }
  const d = doc as Partial<ShardFile> | null;
  if (d === null || typeof d !== 'object' || d.format !== SHARD_FILE_FORMAT) throw new ShardFileError(`${path}: not a stevens soak shard file (format '${String(d?.format)}')`);
  if (d.formatVersion !== SHARD_FILE_VERSION) throw new ShardFileError(`${path}: shard file format ${String(d.formatVersion)}, this stevens reads ${SHARD_FILE_VERSION}`);
  if (typeof d.version !== 'string' || typeof d.options !== 'object' || d.options === null) throw new ShardFileError(`${path}: no version or options`);
  const o = d.options;
  if (!Array.isArray(o.seeds) || !o.seeds.every(Number.isInteger) || typeof o.seedRange?.from !== 'number' || typeof o.seedRange?.to !== 'number') {
    throw new ShardFileError(`${path}: options.seeds or options.seedRange missing`);
  }
  if (o.shard !== undefined && !(Number.isInteger(o.shard.index) && Number.isInteger(o.shard.count) && o.shard.index >= 0 && o.shard.index < o.shard.count)) {
    throw new ShardFileError(`${path}: options.shard is not a shard I/N`);
  }
  if (!Array.isArray(d.results)) throw new ShardFileError(`${path}: no results`);
  const template = emptyResult({ seed: 0, profile: '', connections: 0, durationMs: 0 }, 'mixed');
  d.results.forEach((r, i) => {
    const wrong = shapeError(template, r, `results[${i}]`) ?? violationsError(r.violations, `results[${i}].violations`);
    if (wrong !== undefined) throw new ShardFileError(`${path}: ${wrong}`);
  });
  const base = dirname(path);
  d.results = d.results.map((r) => (Array.isArray(r.logs) ? { ...r, logs: r.logs.map((l) => (isAbsolute(String(l)) ? String(l) : resolve(base, String(l)))) } : r));
  return d as ShardFile;
}

/** Fields whose keys are data (counts by name or bucket), not a fixed shape. */
const RECORDS = new Set(['errors', 'dropped', 'buckets', 'violationsByKind']);

/** Where `v` does not have the shape of `template` (the same fields, of the same types), or undefined. */
function shapeError(template: unknown, v: unknown, path: string): string | undefined {
  if (Array.isArray(template)) return Array.isArray(v) ? undefined : `${path} is not a list`;
  if (template !== null && typeof template === 'object') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${path} is not an object`;
    for (const [k, t] of Object.entries(template)) {
      const x = (v as Record<string, unknown>)[k];
      if (RECORDS.has(k)) {
        if (x === null || typeof x !== 'object' || !Object.values(x).every((n) => typeof n === 'number')) return `${path}.${k} is not a table of numbers`;
        continue;
      }
      const e = shapeError(t, x, `${path}.${k}`);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  return typeof v === typeof template ? undefined : `${path} is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a ${typeof template}`;
}

function violationsError(vs: unknown[], path: string): string | undefined {
  const i = vs.findIndex((v) => {
    const x = v as Record<string, unknown> | null;
    return (
      x === null ||
      typeof x !== 'object' ||
      typeof x.kind !== 'string' ||
      typeof x.atMs !== 'number' ||
      typeof x.message !== 'string' ||
      (x.connection !== undefined && typeof x.connection !== 'string') ||
      (x.stack !== undefined && typeof x.stack !== 'string')
    );
  });
  return i < 0 ? undefined : `${path}[${i}] is not a violation (kind, atMs, message)`;
}

// `stevens soak merge DIR...`: the shard files of one sweep (from --out, on any number of machines) put back
// together into the report one machine running every seed would have printed. Refused, with every reason in one
// line: a shard missing or there twice, shards of different stevens builds or different options, a file whose
// seeds are not its shard's.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { firstDifference } from './determinism.js';
import { seedsOf, type Shard } from './options.js';
import type { SweepDescription } from './report.js';
import { readShardFile, SHARD_FILE_PATTERN, type ShardFile } from './shard-file.js';
import type { SoakOptions, SoakResult } from './types.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

/** The shard files the arguments name: a folder's shard-*-of-*.json files, or a file itself. */
export function findShardFiles(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let isDir: boolean;
    try {
      isDir = statSync(a).isDirectory();
    } catch (e) {
      throw new MergeError(`${a}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
    }
    if (!isDir) {
      out.push(a);
      continue;
    }
    const found = readdirSync(a)
      .filter((f) => SHARD_FILE_PATTERN.test(f))
      .sort((x, y) => shardOrder(x) - shardOrder(y))
      .map((f) => join(a, f));
    if (found.length === 0) throw new MergeError(`${a}: no shard files (shard-I-of-N.json) in it`);
    out.push(...found);
  }
  return out;
}

function shardOrder(name: string): number {
  const m = SHARD_FILE_PATTERN.exec(name)!;
  return Number(m[2]) * 1e9 + Number(m[1]);
}

export interface MergedShard {
  path: string;
  shard: Shard;
  seeds: number[];
  wallMs: number;
  workers: number;
}

export interface MergedSweep {
  results: SoakResult[];
  desc: SweepDescription;
  shards: MergedShard[];
}

/** Reads and merges shard files. Throws a MergeError (or the ShardFileError of a bad file). */
export function mergeShardFiles(paths: string[]): MergedSweep {
  if (paths.length === 0) throw new MergeError('no shard files to merge');
  const files = paths.map((path) => ({ path, doc: readShardFile(path) }));
  const problems: string[] = [];

  const builds = groupBy(files, (f) => `${f.doc.version}${f.doc.commit !== undefined ? ` (commit ${f.doc.commit})` : ' (commit unknown)'}`);
  if (builds.size > 1) problems.push(`mixed versions: ${[...builds].map(([b, fs]) => `${b} in ${names(fs)}`).join('; ')}`);

  const first = files[0]!;
  for (const f of files.slice(1)) {
    const d = firstDifference(sweepOptions(first.doc), sweepOptions(f.doc), 'options', [basename(first.path), basename(f.path)]);
    if (d !== undefined) problems.push(`different options: ${d}`);
  }

  const count = first.doc.options.shard?.count ?? 1;
  const byIndex = new Map<number, typeof files>();
  for (const f of files) {
    const s = f.doc.options.shard ?? { index: 0, count: 1 };
    if (s.count !== count) {
      problems.push(`${basename(f.path)} is shard ${s.index}/${s.count}, ${basename(first.path)} one of ${count}`);
      continue;
    }
    byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), f]);
    const want = seedsOf(f.doc.options.seedRange, s);
    const got = f.doc.results.map((r) => r.seed);
    if (!sameList(want, f.doc.options.seeds) || !sameList(want, got)) problems.push(`${basename(f.path)}: its seeds are not shard ${s.index}/${s.count}'s of ${f.doc.options.seedRange.from}..${f.doc.options.seedRange.to}`);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    const range = first.doc.options.seedRange;
    const lost = missing.flatMap((i) => seedsOf(range, { index: i, count }));
    problems.push(`missing shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} (seeds ${listSeeds(lost)})`);
  }
  for (const [i, fs] of byIndex) if (fs.length > 1) problems.push(`shard ${i}/${count} is there ${fs.length} times (${names(fs)})`);
  if (problems.length > 0) throw new MergeError(`cannot merge: ${problems.join('; ')}`);

  const results = files.flatMap((f) => f.doc.results).sort((a, b) => a.seed - b.seed);
  const o = first.doc.options;
  const shards = files.map((f) => ({ path: f.path, shard: f.doc.options.shard ?? { index: 0, count: 1 }, seeds: f.doc.options.seeds, wallMs: f.doc.wallMs, workers: f.doc.options.workers }));
  const desc: SweepDescription = {
    base: baseOf(o),
    seeds: results.map((r) => r.seed),
    range: o.seedRange,
    workers: shards.reduce((n, s) => n + s.workers, 0),
    wallMs: Math.max(...shards.map((s) => s.wallMs)),
    provenance: { version: first.doc.version, ...(first.doc.commit !== undefined ? { commit: first.doc.commit } : {}) },
    shards: shards.length,
  };
  return { results, desc, shards };
}

/** What must be the same in every shard of one sweep: the options but the seeds, the shard and the workers. */
function sweepOptions(doc: ShardFile): unknown {
  const { seeds: _s, shard: _h, workers: _w, ...rest } = doc.options;
  return rest;
}

/** The options every seed of the sweep ran with, back from the option set. */
function baseOf(o: ShardFile['options']): Omit<SoakOptions, 'seed'> {
  const base: Omit<SoakOptions, 'seed'> = {
    profile: o.profile,
    connections: o.connections,
    durationMs: o.durationMs,
    workload: o.workload,
    clientHosts: o.clientHosts,
    progressBoundMs: o.progressBoundMs,
    drainBoundMs: o.drainBoundMs,
    peerGoneMs: o.peerGoneMs,
  };
  if (o.profileFile !== undefined) base.profileFile = o.profileFile;
  if (o.network !== undefined) base.network = o.network;
  if (o.faults !== undefined) base.faults = o.faults;
  if (o.buggify !== false) base.buggify = o.buggify;
  if (o.liveness) base.liveness = true;
  if (o.livenessGraceMs !== undefined) base.livenessGraceMs = o.livenessGraceMs;
  if (o.checkDeterminism) base.checkDeterminism = true;
  return base;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

function names(fs: Array<{ path: string }>): string {
  return fs.map((f) => f.path).join(', ');
}

function sameList(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** "1, 5, 9" or "1, 5, 9 ... 397 (100 seeds)". */
function listSeeds(seeds: number[]): string {
  return seeds.length <= 8 ? seeds.join(', ') : `${seeds.slice(0, 6).join(', ')} ... ${seeds[seeds.length - 1]} (${seeds.length} seeds)`;
}

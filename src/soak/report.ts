// What a soak prints: a readable summary (per-seed table, totals, latency, failures with the command that
// reproduces each) or one JSON object for machines.
import { dirname } from 'node:path';
import { merge, newHistogram, quantile, type Histogram } from './histogram.js';
import { formatDuration, reproduceCommand } from './options.js';
import { provenance, type Provenance } from './provenance.js';
import { runSettings } from './runner.js';
import { emptyTallies } from './tallies.js';
import type { SoakOptions, SoakResult } from './types.js';

export interface SweepDescription {
  base: Omit<SoakOptions, 'seed'>;
  seeds: number[];
  /** The range the seeds come from (a shard's seeds are every Nth of it). */
  range?: { from: number; to: number };
  shard?: { index: number; count: number };
  workers: number;
  wallMs: number;
  /** The build that ran it (default: this one). */
  provenance?: Provenance;
  /** A merge: how many shards, and the slowest shard's wall time is wallMs. */
  shards?: number;
}

/** Connection-hours a run simulates: its concurrent connections kept busy through the workload (the drain not counted). */
export function connectionHours(r: Pick<SoakResult, 'connections' | 'durationMs'>): number {
  return (r.connections * r.durationMs) / 3_600_000;
}

export interface Totals {
  seeds: number;
  failedSeeds: number[];
  simulatedMs: number;
  wallMsSum: number;
  lifetimes: SoakResult['lifetimes'];
  bytes: SoakResult['bytes'];
  messages: SoakResult['messages'];
  datagrams: SoakResult['datagrams'];
  segments: SoakResult['segments'];
  latency: { tcp: Histogram; game: Histogram };
  datagramLatency: Histogram;
  links: SoakResult['links'];
  violations: number;
  violationsByKind: Record<string, number>;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function totals(results: SoakResult[]): Totals {
  const t: Totals = {
    seeds: results.length,
    failedSeeds: results.filter((r) => r.violationCount > 0).map((r) => r.seed),
    simulatedMs: 0,
    wallMsSum: 0,
    ...emptyTallies(),
    violations: 0,
    violationsByKind: {},
  };
  for (const r of results) {
    t.simulatedMs += r.simulatedMs;
    t.wallMsSum += r.wallMs;
    const L = t.lifetimes;
    L.started += r.lifetimes.started;
    L.clean += r.lifetimes.clean;
    L.aborted += r.lifetimes.aborted;
    L.failed += r.lifetimes.failed;
    L.unfinished += r.lifetimes.unfinished;
    L.portReuse += r.lifetimes.portReuse;
    add(L.errors, r.lifetimes.errors);
    for (const d of ['up', 'down'] as const) {
      t.bytes[d].written += r.bytes[d].written;
      t.bytes[d].read += r.bytes[d].read;
    }
    t.messages.sent += r.messages.sent;
    t.messages.delivered += r.messages.delivered;
    t.datagrams.sent += r.datagrams.sent;
    t.datagrams.delivered += r.datagrams.delivered;
    t.datagrams.refused += r.datagrams.refused;
    t.segments.sent += r.segments.sent;
    t.segments.retransmitted += r.segments.retransmitted;
    t.segments.timeouts += r.segments.timeouts;
    t.segments.zeroWindowProbes += r.segments.zeroWindowProbes;
    merge(t.latency.tcp, r.latency.tcp);
    merge(t.latency.game, r.latency.game);
    merge(t.datagramLatency, r.datagramLatency);
    t.links.sent += r.links.sent;
    t.links.delivered += r.links.delivered;
    t.links.duplicated += r.links.duplicated;
    t.links.corrupted += r.links.corrupted;
    add(t.links.dropped, r.links.dropped);
    t.violations += r.violationCount;
    add(t.violationsByKind, r.violationsByKind as Record<string, number>);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------- numbers

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${sec}s` : `${m}m${sec}s`;
}

function fmtHours(h: number): string {
  return h >= 100 ? String(Math.round(h)) : h.toFixed(h >= 10 ? 1 : 2);
}

export function fmtRate(bytes: number, ms: number): string {
  if (ms <= 0) return '-';
  const bits = (bytes * 8) / (ms / 1000);
  if (bits < 1e6) return `${(bits / 1e3).toFixed(1)} kbit/s`;
  return `${(bits / 1e6).toFixed(2)} Mbit/s`;
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : 2)}%`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function latencyRow(name: string, h: Histogram): string[] {
  return [name, String(h.count), fmtMs(quantile(h, 0.5)), fmtMs(quantile(h, 0.99)), h.count === 0 ? '-' : fmtMs(h.maxMs)];
}

// ---------------------------------------------------------------------------------------------- text

const MAX_SEED_ROWS = 40;
const MAX_VIOLATIONS_SHOWN = 5;

export function describeSweep(d: Pick<SweepDescription, 'base' | 'seeds' | 'shard'>): string {
  const b = d.base;
  const seeds = d.seeds.length === 1 ? `seed ${d.seeds[0]}` : `${d.seeds.length} seeds (${d.seeds[0]}..${d.seeds[d.seeds.length - 1]}${d.shard ? `, shard ${d.shard.index}/${d.shard.count}` : ''})`;
  const net = b.profileFile !== undefined ? `profile ${b.profile} (${b.profileFile})` : `profile ${b.profile}`;
  return `${net}, ${b.connections} connections, ${formatDuration(b.durationMs)} of ${b.workload ?? 'mixed'} workload, ${seeds}`;
}

export function formatSummary(results: SoakResult[], d: SweepDescription): string[] {
  const out: string[] = [];
  const t = totals(results);
  out.push(`stevens soak: ${describeSweep(d)}`);
  out.push('');
  const shown = results.length <= MAX_SEED_ROWS ? results : results.filter((r) => r.violationCount > 0).slice(0, MAX_SEED_ROWS);
  if (shown.length > 0) {
    const rows = shown.map((r) => {
      const read = r.bytes.up.read + r.bytes.down.read;
      const lat = newHistogram();
      merge(lat, r.latency.tcp);
      merge(lat, r.latency.game);
      return [
        String(r.seed),
        fmtMs(r.simulatedMs),
        String(r.lifetimes.started),
        String(r.lifetimes.clean),
        String(r.lifetimes.aborted),
        String(r.lifetimes.failed + r.lifetimes.unfinished),
        fmtBytes(read),
        fmtRate(read, r.simulatedMs),
        pct(r.segments.retransmitted, r.segments.sent),
        fmtMs(quantile(lat, 0.5)),
        fmtMs(quantile(lat, 0.99)),
        lat.count === 0 ? '-' : fmtMs(lat.maxMs),
        r.violationCount === 0 ? '0' : `${r.violationCount} FAIL`,
      ];
    });
    if (results.length > MAX_SEED_ROWS) out.push(`(${results.length} seeds: only the failing ones are listed)`);
    out.push(...table(['seed', 'sim time', 'connections', 'clean', 'aborted', 'failed', 'delivered', 'goodput', 'retrans', 'p50', 'p99', 'max', 'violations'], rows));
    out.push('');
  }
  const L = t.lifetimes;
  const read = t.bytes.up.read + t.bytes.down.read;
  const written = t.bytes.up.written + t.bytes.down.written;
  const errs = Object.entries(L.errors)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const speed = d.wallMs > 0 ? `${(t.simulatedMs / d.wallMs).toFixed(1)}x real time` : '-';
  const hours = results.reduce((sum, r) => sum + connectionHours(r), 0);
  const perWallHour = d.wallMs > 0 ? `, ${Math.round((hours * 3_600_000) / d.wallMs)} per wall hour` : '';
  const where = d.shards !== undefined ? `${d.shards} shard${d.shards === 1 ? '' : 's'} (the slowest ${fmtMs(d.wallMs)} wall), ${d.workers} workers in all` : `${fmtMs(d.wallMs)} wall on ${d.workers} worker${d.workers === 1 ? '' : 's'}`;
  const rows: string[][] = [
    ['connections', `${L.started} opened: ${L.clean} clean, ${L.aborted} aborted as planned, ${L.failed} failed, ${L.unfinished} unfinished${errs ? ` (errors seen: ${errs})` : ''}`],
    ['bytes', `${fmtBytes(read)} delivered of ${fmtBytes(written)} written (up ${fmtBytes(t.bytes.up.read)}, down ${fmtBytes(t.bytes.down.read)})`],
    ['goodput', `${fmtRate(read, t.simulatedMs)} over ${fmtMs(t.simulatedMs)} simulated`],
    ['retransmissions', `${t.segments.retransmitted} of ${t.segments.sent} segments (${pct(t.segments.retransmitted, t.segments.sent)}), ${t.segments.timeouts} timeouts, ${t.segments.zeroWindowProbes} zero-window probes`],
    ['messages', `${t.messages.delivered} of ${t.messages.sent} delivered; datagrams ${t.datagrams.delivered} of ${t.datagrams.sent} (${pct(t.datagrams.delivered, t.datagrams.sent)})`],
    ['network', `${t.links.sent} datagrams, ${Object.entries(t.links.dropped).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'} dropped, ${t.links.duplicated} duplicated, ${t.links.corrupted} corrupted`],
    ['run', `${where}, ${speed}; ${fmtHours(hours)} connection-hours simulated${perWallHour}`],
    ['invariants', t.violations === 0 ? 'all held' : `${t.violations} violation${t.violations === 1 ? '' : 's'} in ${t.failedSeeds.length} seed${t.failedSeeds.length === 1 ? '' : 's'} (${Object.entries(t.violationsByKind).map(([k, v]) => `${k} ${v}`).join(', ')})`],
  ];
  const w = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) out.push(`${k!.padEnd(w)}  ${v}`);
  out.push('');
  out.push('delivery latency (messages up to 16 KiB: first write to last byte read; datagrams: send to receipt)');
  out.push(...table(['', 'count', 'p50', 'p99', 'max'], [latencyRow('tcp profile', t.latency.tcp), latencyRow('game profile', t.latency.game), latencyRow('datagrams', t.datagramLatency)]).map((l) => `  ${l}`));
  for (const r of results) {
    if (r.violationCount === 0) continue;
    out.push('');
    out.push(`FAIL seed ${r.seed}: ${r.violationCount} invariant violation${r.violationCount === 1 ? '' : 's'}`);
    for (const v of pickViolations(r.violations, MAX_VIOLATIONS_SHOWN)) {
      out.push(`  ${v.kind} at ${fmtMs(v.atMs)}${v.connection ? `, connection ${v.connection}` : ''}: ${v.message}`);
      if (v.stack !== undefined) for (const line of v.stack.split('\n').slice(1, 9)) out.push(`      ${line.trim()}`);
    }
    if (r.violationCount > MAX_VIOLATIONS_SHOWN) out.push(`  ... and ${r.violationCount - MAX_VIOLATIONS_SHOWN} more`);
    out.push(`  reproduce: ${reproduceCommand({ ...d.base, seed: r.seed })}`);
    if (r.logs !== undefined && r.logs.length > 0) out.push(`  replay: npx stevens replay ${r.logs[0]}   (every endpoint's log is in ${dirname(r.logs[0]!)})`);
  }
  return out;
}

/** The first violation of each kind, then the rest, in time order: one kind cannot hide the others. */
function pickViolations(vs: SoakResult['violations'], n: number): SoakResult['violations'] {
  const seen = new Set<string>();
  const first = vs.filter((v) => !seen.has(v.kind) && seen.add(v.kind));
  const picked = [...first, ...vs.filter((v) => !first.includes(v))].slice(0, n);
  return vs.filter((v) => picked.includes(v));
}

// ---------------------------------------------------------------------------------------------- JSON

function latencyJson(h: Histogram) {
  return { count: h.count, p50Ms: round(quantile(h, 0.5)), p99Ms: round(quantile(h, 0.99)), maxMs: h.count === 0 ? null : round(h.maxMs), meanMs: h.count === 0 ? null : round(h.sumMs / h.count) };
}

function round(x: number | undefined): number | null {
  return x === undefined ? null : Math.round(x * 1000) / 1000;
}

function seedJson(r: SoakResult, base: Omit<SoakOptions, 'seed'>) {
  const { latency, datagramLatency, ...rest } = r;
  return {
    ...rest,
    ok: r.violationCount === 0,
    latency: { tcp: latencyJson(latency.tcp), game: latencyJson(latency.game), datagrams: latencyJson(datagramLatency) },
    reproduce: reproduceCommand({ ...base, seed: r.seed }),
  };
}

/**
 * The full option set of a sweep: with a seed, everything that names one of its runs (the bounds and sizes at
 * their defaults included, and a profile file's contents), plus the seeds, the shard and the workers.
 */
export function optionSet(d: Pick<SweepDescription, 'base' | 'seeds' | 'range' | 'shard' | 'workers'>) {
  const b = d.base;
  const settings = runSettings(b);
  const range = d.range ?? { from: Math.min(...d.seeds), to: Math.max(...d.seeds) };
  return {
    profile: b.profile,
    ...(b.profileFile !== undefined ? { profileFile: b.profileFile } : {}),
    ...(b.profileFile !== undefined && b.network !== undefined ? { network: b.network } : {}),
    connections: b.connections,
    durationMs: b.durationMs,
    workload: b.workload ?? 'mixed',
    seeds: d.seeds,
    seedRange: range,
    ...(d.shard !== undefined ? { shard: d.shard } : {}),
    workers: d.workers,
    ...(b.faults !== undefined ? { faults: b.faults } : {}),
    buggify: b.buggify ?? false,
    liveness: b.liveness ?? false,
    ...(b.liveness ? { livenessGraceMs: settings.livenessGraceMs } : {}),
    checkDeterminism: b.checkDeterminism ?? false,
    clientHosts: settings.clientHosts,
    progressBoundMs: settings.progressBoundMs,
    drainBoundMs: settings.drainBoundMs,
    peerGoneMs: settings.peerGoneMs,
  };
}

export type OptionSet = ReturnType<typeof optionSet>;

export function jsonReport(results: SoakResult[], d: SweepDescription) {
  const t = totals(results);
  const { latency, datagramLatency, ...rest } = t;
  const b = d.base;
  const p = d.provenance ?? provenance();
  return {
    ok: t.violations === 0,
    version: p.version,
    ...(p.commit !== undefined ? { commit: p.commit } : {}),
    options: optionSet(d),
    wallMs: Math.round(d.wallMs),
    totals: {
      ...rest,
      connectionHours: Math.round(results.reduce((sum, r) => sum + connectionHours(r), 0) * 1000) / 1000,
      goodputBitsPerS: t.simulatedMs > 0 ? Math.round(((t.bytes.up.read + t.bytes.down.read) * 8) / (t.simulatedMs / 1000)) : 0,
      latency: { tcp: latencyJson(latency.tcp), game: latencyJson(latency.game), datagrams: latencyJson(datagramLatency) },
    },
    seeds: results.map((r) => seedJson(r, b)),
    failures: results.filter((r) => r.violationCount > 0).map((r) => ({ seed: r.seed, reproduce: reproduceCommand({ ...b, seed: r.seed }), violations: r.violations })),
  };
}

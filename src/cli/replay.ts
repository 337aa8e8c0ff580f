// `stevens replay LOG...`: re-runs a recorded endpoint from its log (a full log, a ring directory, or ring chunk
// files), checks every output against the recording, and prints where it stopped and the state of every
// connection there. --trace prints the replayed endpoint's trace events instead; --break-at stops in the debugger.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { InvalidArgumentError, type Command } from 'commander';
import type { Connection, ConnectionStats, Endpoint, TraceEvent } from '../core/index.js';
import { fmtMs, fmtRemote, LogReader, Replayer, ringFiles, formatDivergence, flagNames, type ReplayResult, type ReplaySnapshot } from '../replay/index.js';
import type { CliIo } from './io.js';

export interface ReplayCliOptions {
  until?: number;
  step?: number;
  snapshotOut?: string;
  fromSnapshot?: string;
  json?: boolean;
  trace?: boolean;
  from?: number;
  to?: number;
  breakAt?: number;
}

/** A time: plain milliseconds, or with a unit (ms, s, m, h). */
export function parseTime(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (m === null) throw new InvalidArgumentError(`expected a time (ms, or with a unit: 1500, 1.5s, 10m, 2h), got '${v}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

function parseStep(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a step number >= 0, got '${v}'`);
  return n;
}

/** The log files named on the command line: one log, a ring directory, or ring chunk files (ordered by step). */
export function openLogs(paths: string[]): LogReader[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`no such log: ${p}`);
    }
    if (st.isDirectory()) files.push(...ringFiles(p));
    else files.push(p);
  }
  const readers = files.map((f) => LogReader.open(f));
  readers.sort((a, b) => a.header.firstStep - b.header.firstStep);
  if (readers.length > 1 && readers.some((r) => r.header.mode !== 'ring')) throw new Error('several logs given: only the chunks of one ring replay together');
  return readers;
}

export function runReplay(paths: string[], opts: ReplayCliOptions, io: CliIo): number {
  const logs = openLogs(paths);
  const head = logs[0]!.header;
  let from: ReplaySnapshot | undefined;
  if (opts.fromSnapshot !== undefined) {
    try {
      from = JSON.parse(readFileSync(opts.fromSnapshot, 'utf8')) as ReplaySnapshot;
    } catch (e) {
      throw new Error(`cannot read snapshot ${opts.fromSnapshot}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const traceFrom = opts.from ?? -Infinity;
  const traceTo = opts.to ?? Infinity;
  const trace = opts.trace ? (ev: TraceEvent) => (ev.atMs >= traceFrom && ev.atMs <= traceTo ? io.out(formatTrace(ev)) : undefined) : undefined;
  const untilMs = Math.min(opts.until ?? Infinity, opts.trace ? traceTo : Infinity);
  if (opts.breakAt !== undefined && inspector.url() === undefined) {
    io.err(`stevens replay: --break-at ${opts.breakAt} needs a debugger: run node --inspect-brk "$(command -v stevens)" replay ... and attach one (chrome://inspect)`);
  }
  const replayer = new Replayer(logs, {
    trace,
    untilMs: untilMs === Infinity ? undefined : untilMs,
    stopAtStep: opts.step,
    breakAt: opts.breakAt,
    from,
    log: (line) => io.err(line),
  });
  const result = replayer.run();
  if (opts.snapshotOut !== undefined) writeFileSync(opts.snapshotOut, `${JSON.stringify(replayer.snapshotHere())}\n`);
  const conns = [...replayer.endpoint.connections()].sort((a, b) => a.id - b.id);
  if (opts.json) {
    io.out(
      JSON.stringify({
        logs: logs.map((l) => ({ path: l.name, mode: l.header.mode, label: l.header.label, seed: l.header.options.seed, firstStep: l.header.firstStep, chunk: l.header.chunk })),
        options: head.options,
        result,
        endpoint: replayer.endpoint.stats(),
        connections: conns.map((c) => c.stats()),
        snapshotOut: opts.snapshotOut,
      }),
    );
    return result.status === 'diverged' ? 1 : 0;
  }
  if (!opts.trace) {
    for (const line of describeRun(logs, result, from)) io.out(line);
    io.out('');
    for (const line of describeEndpoint(replayer.endpoint, result.timeMs, conns)) io.out(line);
  } else io.out(`-- ${result.steps} steps replayed, ${result.status}${result.divergence ? '' : ': every output matched'}`);
  if (result.divergence) for (const line of formatDivergence(result.divergence)) io.out(line);
  if (opts.snapshotOut !== undefined && !opts.trace) io.out(`snapshot at step ${result.step} written to ${opts.snapshotOut} (continue with --from-snapshot ${opts.snapshotOut})`);
  return result.status === 'diverged' ? 1 : 0;
}

function describeRun(logs: LogReader[], r: ReplayResult, from: ReplaySnapshot | undefined): string[] {
  const h = logs[0]!.header;
  const what = h.mode === 'ring' ? `ring of ${logs.length} chunk${logs.length === 1 ? '' : 's'} from step ${h.firstStep}` : 'full log';
  const lines = [`log: ${logs.map((l) => l.name).join(' ')} (${what}, seed ${String(h.options.seed)}${h.label ? `, ${h.label}` : ''})`];
  const start = from ? `from the snapshot at step ${from.step}, ` : '';
  const speed = r.wallMs > 0 && r.spanMs > 0 ? `, ${Math.round(r.spanMs / r.wallMs)}x real time` : '';
  lines.push(`replayed ${start}${r.steps} steps, ${fmtMs(r.spanMs)} of recorded time in ${(r.wallMs / 1000).toFixed(2)} s${speed}; ${r.outputsChecked} outputs checked`);
  switch (r.status) {
    case 'complete':
      lines.push(`complete: every output matched the recording (end of log at step ${r.step})`);
      break;
    case 'stopped':
      lines.push(`stopped before step ${r.step} at ${fmtMs(r.timeMs)}: every output so far matched`);
      break;
    case 'cut-off':
      lines.push(`cut off: ${r.truncation?.message ?? 'the log ends without an end record'}; every output up to step ${r.step} matched`);
      break;
    case 'diverged':
      break;
  }
  if (r.snapshotsVerified > 0) lines.push(`${r.snapshotsVerified} recorded snapshot${r.snapshotsVerified === 1 ? '' : 's'} matched the replayed endpoint's`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines;
}

function describeEndpoint(ep: Endpoint, nowMs: number, conns: Connection[]): string[] {
  const s = ep.stats();
  const drops = Object.entries(s.drops)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `endpoint at ${fmtMs(nowMs)}: ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${s.datagramsReceived} datagrams in, ${s.datagramsSent} out, ${s.resetsSent} resets sent${drops ? `; drops: ${drops}` : ''}; next deadline ${fmtMs(ep.pollTimeoutMs())}`,
  ];
  for (const c of conns) lines.push(...describeConnection(c.stats(), nowMs));
  return lines;
}

export function describeConnection(c: ConnectionStats, nowMs: number): string[] {
  const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v * 10) / 10} ms` : String(v));
  const timers = Object.entries(c.timers)
    .filter(([, at]) => at !== undefined && Number.isFinite(at))
    .map(([name, at]) => `${name} at ${fmtMs(at)} (${at! - nowMs >= 0 ? '+' : ''}${ms(at! - nowMs)})`);
  return [
    `#${c.id} ${c.state}  ${fmtRemote(c.remote)}  ports ${c.localPort} -> ${c.remotePort}  profile ${c.profile}`,
    `   send     iss ${c.iss}  una ${c.sndUna}  nxt ${c.sndNxt}  wl1 ${c.sndWl1}  wl2 ${c.sndWl2}  window ${c.sendWindowBytes} (shift ${c.sendWindowShift})  outstanding ${c.outstandingBytes}`,
    `   receive  irs ${c.irs}  nxt ${c.rcvNxt}  window ${c.receiveWindowBytes} (shift ${c.receiveWindowShift})  mss ${c.mssBytes} (peer ${c.peerMssBytes})${c.sackPermitted ? '  sack' : ''}${c.timestamps ? '  timestamps' : ''}`,
    `   cwnd     ${c.cwndBytes}  ssthresh ${c.ssthreshBytes}  in flight ${c.inFlightBytes}  lost ${c.lostBytes}  recovery ${c.recoveryState} (${c.congestionControl})`,
    `   rtt      srtt ${ms(c.srttMs)}  rttvar ${ms(c.rttvarMs)}  rto ${ms(c.rtoMs)}`,
    `   timers   ${timers.length > 0 ? timers.join(', ') : 'none'}`,
    `   buffers  send ${c.sendBufferedBytes}  receive ${c.receiveBufferedBytes}  out of order ${c.outOfOrderBytes};  sent ${c.bytesSent} (${c.bytesRetransmitted} again)  received ${c.bytesReceived}  read ${c.bytesRead}`,
  ];
}

/** One trace event as one line: time, connection, what happened. */
export function formatTrace(ev: TraceEvent): string {
  const t = ev.atMs.toFixed(3).padStart(12);
  const who = 'connectionId' in ev && ev.connectionId !== undefined ? `#${ev.connectionId}`.padEnd(5) : '     ';
  switch (ev.type) {
    case 'state':
      return `${t} ${who} state     ${ev.from} -> ${ev.to}`;
    case 'send':
      return `${t} ${who} send      ${flagNames(ev.flags)} seq ${ev.seq} ack ${ev.ack} len ${ev.lengthBytes} win ${ev.windowBytes}${ev.retransmit ? ' (retransmission)' : ''}`;
    case 'receive':
      return `${t} ${who} receive   ${flagNames(ev.flags)} seq ${ev.seq} ack ${ev.ack} len ${ev.lengthBytes} win ${ev.windowBytes}`;
    case 'rto':
      return `${t} ${who} rto       ${ev.rtoMs} ms, backoffs ${ev.backoffs}`;
    case 'retransmit':
      return `${t} ${who} retransmit seq ${ev.seq} len ${ev.lengthBytes} (${ev.reason})`;
    case 'rtt':
      return `${t} ${who} rtt       sample ${ev.sampleMs.toFixed(3)} ms  srtt ${ev.srttMs.toFixed(3)}  rttvar ${ev.rttvarMs.toFixed(3)}  rto ${ev.rtoMs.toFixed(1)}`;
    case 'window':
      return `${t} ${who} window    send ${ev.sendWindowBytes}  receive ${ev.receiveWindowBytes}`;
    case 'cwnd':
      return `${t} ${who} cwnd      ${ev.cwndBytes}  ssthresh ${ev.ssthreshBytes}`;
    case 'drop':
      return `${t} ${who} drop      ${ev.reason}${ev.remote ? ` from ${fmtRemote(ev.remote)}` : ''}`;
    default:
      return `${t} ${who} ${JSON.stringify(ev)}`;
  }
}

export function registerReplay(program: Command, io: CliIo): void {
  program
    .command('replay')
    .description("re-run a recorded endpoint from its log, checking every output; print each connection's state where it stops")
    .argument('<logs...>', 'a log file, a ring directory, or the chunk files of one ring')
    .option('--until <T>', 'stop before the first input later than T (ms, or 1.5s, 10m, 2h)', parseTime)
    .option('--step <N>', 'stop before step N (after replaying N steps)', parseStep)
    .option('--snapshot-out <F>', 'write the endpoint at the stop point to F (JSON)')
    .option('--from-snapshot <F>', 'start from a snapshot written by --snapshot-out instead of the beginning')
    .option('--json', 'one JSON object: the result, the endpoint and every connection')
    .option('--trace', "print the replayed endpoint's trace events, one line each")
    .option('--from <T>', 'with --trace: only events from T on', parseTime)
    .option('--to <T>', 'with --trace: only events up to T (the replay stops there)', parseTime)
    .option('--break-at <STEP>', 'enter the debugger right before STEP (run under node --inspect-brk)', parseStep)
    .action((paths: string[], opts: ReplayCliOptions) => {
      io.setExitCode(runReplay(paths, opts, io));
    });
}

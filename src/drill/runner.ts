// Runs a parsed script against one stevens Endpoint in virtual time.
//
// Time: the runner keeps nowMs (script time 0 = nowMs 0). Before an inbound packet, syscall or assertion at
// time T it fires the endpoint's timers due by T, each at its own deadline, then performs the event at T.
// Everything the endpoint transmits is queued with the time it left. An outbound line expected at T takes
// the oldest queued packet (firing timers up to T + tolerance if none is queued yet) and requires it to match
// and to have left within [T - tolerance, T + tolerance] (a range line: within its own bounds; `*`: any time).
// Relative times (+x) count from the previous event's actual time (for outbound lines: when the packet left).
// A packet left more than `tolerance` before a later non-outbound line, or one still queued at the end (up to
// the last line's time + tolerance), is an unexpected packet and fails the script.

import type { Directives, PacketEvent, Script, ScriptLine, SyscallEvent } from './ast.js';
import { checkAssertion } from './assert-eval.js';
import { DrillError, errorMessage } from './errors.js';
import { buildInbound, decodeOutbound, inboundView, outboundView, type Ports } from './packets.js';
import { matchOutbound } from './matcher.js';
import { parseScript } from './parser.js';
import { renderPacket, type PacketView } from './render.js';
import { SeqSpace } from './seq.js';
import { SocketTable } from './sockets.js';
import { formatOutcome, runSyscall, type SyscallContext } from './syscalls.js';
import { formatSeconds, resolveTime } from './time.js';
import { Endpoint, TCP_PROFILE, wire, type EndpointOptions, type Remote } from '../core/index.js';

const { SYN } = wire;

/** Default timing tolerance for outbound packets, ms (as packetdrill's default). */
export const DEFAULT_TOLERANCE_MS = 4;
/** The script peer's UDP address. */
export const PEER_REMOTE: Remote = { address: '192.0.2.1', port: 8080 };
/** The TCP port the endpoint listens on (server scripts) or connects to (client scripts). */
export const SCRIPT_PORT = 8080;
/** The script peer's TCP port in server scripts. */
export const PEER_CLIENT_PORT = 40000;
/** Timer firings at one instant before the runner gives up (a timer that never clears). */
const MAX_FIRINGS_AT_ONE_TIME = 10_000;
/** Timer firings while looking for one packet (e.g. a `*` line) before the runner gives up. */
const MAX_FIRINGS_PER_WAIT = 1_000_000;

export interface RunOptions {
  /** Default tolerance (ms); a script's `@stevens tolerance=` wins. */
  toleranceMs?: number;
  /** Receives one line per packet in or out (and per syscall), for --verbose. */
  log?: (line: string) => void;
}

export type RunResult = { passed: true } | { passed: false; line: number; message: string };

interface Outbound {
  atMs: number;
  remote: Remote;
  /** Decoded view, or why it could not be read. */
  view: PacketView | string;
  srcPort?: number;
  dstPort?: number;
}

/** `config.NAME=V` must name a real config field, with a value of its type. */
function checkConfigKeys(d: Directives): void {
  const known = TCP_PROFILE as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(d.config)) {
    const line = d.lines[`config.${key}`] ?? 1;
    if (!(key in known)) throw new DrillError(line, `unknown config key '${key}' (known: ${Object.keys(known).join(', ')})`);
    if (typeof value !== typeof known[key]) throw new DrillError(line, `config.${key} takes a ${typeof known[key]}, got '${String(value)}'`);
  }
}

class Run implements SyscallContext {
  readonly ep: Endpoint;
  nowMs = 0;
  readonly sockets = new SocketTable();
  readonly remote = PEER_REMOTE;
  readonly port = SCRIPT_PORT;
  private readonly space: SeqSpace;
  private readonly ports: { local: number | undefined; peer: number } = { local: SCRIPT_PORT, peer: PEER_CLIENT_PORT };
  private role: 'server' | 'client' | undefined;
  private readonly queue: Outbound[] = [];
  /** Actual time of the previous event, for relative times. */
  private anchorMs = 0;
  private readonly toleranceMs: number;
  private readonly log: ((line: string) => void) | undefined;

  constructor(
    private readonly script: Script,
    opts: RunOptions,
  ) {
    const d = script.directives;
    this.toleranceMs = d.toleranceMs ?? opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
    this.log = opts.log;
    this.space = new SeqSpace(d.peerIsn, d.isn);
    checkConfigKeys(d);
    const endpointOptions: Record<string, unknown> = { ...d.config, seed: d.seed, fixedTimestampOffset: d.tsOffset };
    if (d.isn !== undefined) endpointOptions['fixedIsn'] = d.isn;
    try {
      this.ep = new Endpoint(endpointOptions as unknown as EndpointOptions);
    } catch (err) {
      const configLines = Object.entries(d.lines).filter(([k]) => k.startsWith('config.')).map(([, l]) => l);
      throw new DrillError(configLines[0] ?? 1, `the endpoint rejected the configuration: ${errorMessage(err)}`);
    }
  }

  setRole(role: 'server' | 'client'): void {
    if (this.role !== undefined && this.role !== role) throw new Error('a drill script is either a server (listen) or a client (connect), not both');
    this.role = role;
    if (role === 'client') {
      this.ports.peer = SCRIPT_PORT;
      this.ports.local = undefined; // learnt from the first outbound segment
    }
  }

  // ------------------------------------------------------------------ the endpoint's output and timers

  private drain(): void {
    for (;;) {
      const t = this.ep.pollTransmit(this.nowMs);
      if (!t) break;
      this.enqueue(t.remote, t.bytes);
    }
    this.sockets.absorbEvents(this.ep);
  }

  private enqueue(remote: Remote, bytes: Uint8Array): void {
    const d = decodeOutbound(bytes);
    if (d.kind === 'datagram') return; // unreliable datagrams are not the drill's business
    if (d.kind === 'error') {
      this.queue.push({ atMs: this.nowMs, remote, view: d.reason });
      this.logLine(`${formatSeconds(this.nowMs)} > ${d.reason}`);
      return;
    }
    const seg = d.segment;
    if (this.space.localIsn === undefined && seg.flags & SYN) this.space.localIsn = seg.seq;
    if (this.ports.local === undefined) this.ports.local = seg.srcPort;
    const view = outboundView(seg, this.space);
    this.queue.push({ atMs: this.nowMs, remote, view, srcPort: seg.srcPort, dstPort: seg.dstPort });
    this.logLine(`${formatSeconds(this.nowMs)} ${typeof view === 'string' ? `> ${view}` : renderPacket(view)}`);
  }

  /** Fires due timers in deadline order up to `limit`; with stopOnOutput, stops once something is queued. */
  private fireTimers(limit: number, stopOnOutput: boolean): void {
    let lastAt = -Infinity;
    let firings = 0;
    let total = 0;
    for (;;) {
      if (stopOnOutput && this.queue.length > 0) return;
      const deadline = this.ep.pollTimeoutMs();
      if (deadline === undefined || deadline > limit) return;
      if (++total > MAX_FIRINGS_PER_WAIT) throw new Error(`gave up after ${MAX_FIRINGS_PER_WAIT} timer firings (now ${formatSeconds(this.nowMs)} s)`);
      this.nowMs = Math.max(this.nowMs, deadline);
      if (this.nowMs === lastAt) {
        if (++firings > MAX_FIRINGS_AT_ONE_TIME) {
          throw new Error(`the endpoint's timer at ${formatSeconds(this.nowMs)} s keeps firing without moving on`);
        }
      } else {
        lastAt = this.nowMs;
        firings = 0;
      }
      this.ep.handleTimeout(this.nowMs);
      this.drain();
    }
  }

  private advanceTo(t: number): void {
    this.fireTimers(t, false);
    this.nowMs = Math.max(this.nowMs, t);
  }

  private describe(o: Outbound): string {
    const text = typeof o.view === 'string' ? `> ${o.view}` : renderPacket(o.view);
    return `"${text}" at ${formatSeconds(o.atMs)}`;
  }

  /** Fails on queued packets that left before `t - tolerance`: nothing in the script expected them. */
  private checkNoUnexpected(line: ScriptLine, t: number): void {
    const first = this.queue[0];
    if (first && first.atMs < t - this.toleranceMs) {
      throw new DrillError(line.line, `unexpected outbound packet ${this.describe(first)}, before "${line.text}"`);
    }
  }

  // ------------------------------------------------------------------ lines

  run(): void {
    const lines = this.script.lines;
    for (const line of lines) {
      try {
        this.runLine(line);
      } catch (err) {
        if (err instanceof DrillError) throw err;
        throw new DrillError(line.line, `${errorMessage(err)} (at "${line.text}")`);
      }
    }
    const last = lines[lines.length - 1];
    if (!last) return;
    try {
      this.fireTimers(this.anchorMs + this.toleranceMs, false);
    } catch (err) {
      throw new DrillError(last.line, `after the last line: ${errorMessage(err)}`);
    }
    const extra = this.queue[0];
    if (extra) throw new DrillError(last.line, `unexpected outbound packet ${this.describe(extra)}, after the last line`);
  }

  private runLine(line: ScriptLine): void {
    const w = resolveTime(line.time, this.anchorMs, this.nowMs, this.toleranceMs);
    const ev = line.event;
    if (ev.kind === 'packet' && ev.direction === 'out') {
      this.expectOutbound(line, ev, w.target, w.lo, w.hi);
      return;
    }
    if (w.target < this.nowMs - this.toleranceMs) {
      throw new DrillError(line.line, `time ${formatSeconds(w.target)} is before the current time ${formatSeconds(this.nowMs)}`);
    }
    this.advanceTo(w.target);
    this.checkNoUnexpected(line, w.target);
    switch (ev.kind) {
      case 'packet':
        this.inject(ev);
        break;
      case 'syscall':
        this.syscall(line, ev);
        break;
      case 'code':
        for (const a of ev.assertions) {
          const failure = checkAssertion(a, this.sockets.current?.conn.stats() as unknown as Record<string, unknown> | undefined);
          if (failure) throw new DrillError(a.line, failure);
        }
        break;
    }
    this.drain();
    this.anchorMs = this.nowMs;
  }

  private inject(p: PacketEvent): void {
    if (this.ports.local === undefined) {
      throw new Error("the endpoint's port is not known yet: an inbound packet in a client script must follow the endpoint's SYN");
    }
    const bytes = buildInbound(p, this.space, this.ports as Ports);
    this.logLine(`${formatSeconds(this.nowMs)} ${renderPacket(inboundView(p))}`);
    this.ep.handleDatagram(this.nowMs, this.remote, bytes);
  }

  private syscall(line: ScriptLine, call: SyscallEvent): void {
    const out = runSyscall(call, this, line.line);
    this.logLine(`${formatSeconds(this.nowMs)} ${line.text.replace(/^\S+\s+/, '').replace(/\s*=.*$/s, '')} = ${formatOutcome(out)}`);
    if (out.mismatch) throw new DrillError(line.line, `${out.mismatch} (at "${line.text}")`);
    if (out.result !== call.result || out.errno !== call.errno) {
      const note = out.note ? `: ${out.note}` : '';
      throw new DrillError(line.line, `${call.name}: expected ${formatOutcome(call)}, actual ${formatOutcome(out)}${note} (at "${line.text}")`);
    }
  }

  private expectOutbound(line: ScriptLine, p: PacketEvent, target: number, lo: number, hi: number): void {
    if (this.queue.length === 0) this.fireTimers(hi, true);
    const o = this.queue.shift();
    const when = line.time.kind === 'any' ? '' : ` by ${formatSeconds(hi)}`;
    if (!o) throw new DrillError(line.line, `expected "${line.text}" but nothing was sent${when}`);
    const actual = this.describe(o);
    if (typeof o.view === 'string') throw new DrillError(line.line, `expected "${line.text}", actual ${actual}`);
    const mismatch = matchOutbound(p, o.view);
    if (mismatch) throw new DrillError(line.line, `${mismatch}; expected "${line.text}", actual ${actual}`);
    if (o.srcPort !== this.ports.local || o.dstPort !== this.ports.peer) {
      throw new DrillError(line.line, `ports: expected ${this.ports.local} > ${this.ports.peer}, actual ${o.srcPort} > ${o.dstPort}; actual ${actual}`);
    }
    if (o.remote.address !== this.remote.address || o.remote.port !== this.remote.port) {
      throw new DrillError(line.line, `sent to ${o.remote.address}:${o.remote.port}, not the script peer ${this.remote.address}:${this.remote.port}; actual ${actual}`);
    }
    if (o.atMs < lo || o.atMs > hi) {
      const window = line.time.kind === 'range' ? `[${formatSeconds(lo)}, ${formatSeconds(hi)}]` : `${formatSeconds(target)} (±${this.toleranceMs} ms)`;
      throw new DrillError(line.line, `time: expected ${window}, actual ${formatSeconds(o.atMs)}; expected "${line.text}", actual ${actual}`);
    }
    this.anchorMs = o.atMs;
  }

  private logLine(s: string): void {
    this.log?.(s);
  }
}

/** Runs an already parsed script. */
export function runParsed(script: Script, opts: RunOptions = {}): RunResult {
  try {
    new Run(script, opts).run();
    return { passed: true };
  } catch (err) {
    if (err instanceof DrillError) return { passed: false, line: err.line, message: err.message };
    return { passed: false, line: 0, message: `internal error: ${errorMessage(err)}` };
  }
}

/** Parses and runs a script's text. */
export function runScript(source: string, opts: RunOptions = {}): RunResult {
  let script: Script;
  try {
    script = parseScript(source);
  } catch (err) {
    if (err instanceof DrillError) return { passed: false, line: err.line, message: err.message };
    return { passed: false, line: 0, message: `internal error: ${errorMessage(err)}` };
  }
  return runParsed(script, opts);
}

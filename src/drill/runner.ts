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
//
// A blocking call (`T...END name(...)`) starts at T; while it waits, the script's later lines run (as
// packetdrill's main thread goes on while its syscall thread blocks), and it must return within tolerance of
// END. The next syscall line waits for it first (packetdrill has one syscall thread). A construct stevens
// cannot run fails with one "not supported yet" line (features.ts).

import type { Directives, PacketEvent, Script, ScriptLine, SyscallEvent } from './ast.js';
import { runCode, type Value } from './python-eval.js';
import { DrillError, errorMessage } from './errors.js';
import { FEATURES, UnsupportedError, unsupported, type FeatureId, type FeatureKind } from './features.js';
import { applyOptions } from './options.js';
import { buildInbound, decodeOutbound, inboundView, outboundView, type Ports } from './packets.js';
import { matchOutbound } from './matcher.js';
import { parseScript, type ParseOptions } from './parser.js';
import { renderPacket, type PacketView } from './render.js';
import { SeqSpace } from './seq.js';
import { SocketTable } from './sockets.js';
import { applyCommand, emptySysctls } from './sysctl.js';
import { formatOutcome, runSyscall, type SyscallContext, type SyscallOutcome, type Waiter } from './syscalls.js';
import { formatSeconds, resolveTime } from './time.js';
import { Endpoint, TCP_PROFILE, wire, type EndpointOptions, type Remote } from '../core/index.js';

const { SYN, URG } = wire;

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

export type RunResult =
  | { passed: true }
  | {
      passed: false;
      line: number;
      message: string;
      /**
       * The failure is a construct stevens cannot run (features.ts); `declared`: the script said it requires the
       * feature and the core lacks it (an expected failure, not a broken script).
       */
      unsupported?: { feature: FeatureId; kind: FeatureKind; construct: string; declared: boolean };
    };

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

/** A blocking call waiting to return. */
interface Blocked {
  line: ScriptLine;
  call: SyscallEvent;
  waiter: Waiter;
  /** When the script says it returns. */
  endMs: number;
}

class Run implements SyscallContext {
  readonly ep: Endpoint;
  nowMs = 0;
  readonly sockets = new SocketTable();
  readonly remote = PEER_REMOTE;
  readonly listenPort: number;
  readonly connectPort: number;
  readonly sysctl = emptySysctls();
  readonly endpointConfig: Record<string, unknown>;
  readonly endpointMaxDatagramBytes: number;
  private readonly space: SeqSpace;
  private readonly ports: { local: number | undefined; peer: number };
  private role: 'server' | 'client' | undefined;
  private readonly queue: Outbound[] = [];
  /** Actual time of the previous event, for relative times. */
  private anchorMs = 0;
  private readonly toleranceMs: number;
  private readonly tolerancePercent: number;
  private readonly log: ((line: string) => void) | undefined;
  private blocked: Blocked | undefined;
  /** Names %{ }% blocks assigned (packetdrill runs them all in one Python program). */
  private readonly pythonVars = new Map<string, Value>();
  /** A call without a time window waiting in waitNow(). */
  private waiting: Waiter | undefined;

  constructor(
    private readonly script: Script,
    opts: RunOptions,
  ) {
    const d = script.directives;
    for (const id of d.requires) {
      if (!FEATURES[id].available) unsupported(id, d.lines['requires'] ?? 1, `@stevens requires=${d.requires.join(',')}`);
    }
    const settings = applyOptions(script.options);
    this.toleranceMs = d.toleranceMs ?? settings.toleranceMs ?? opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
    this.tolerancePercent = settings.tolerancePercent ?? 0;
    this.listenPort = settings.listenPort ?? SCRIPT_PORT;
    this.connectPort = settings.connectPort ?? SCRIPT_PORT;
    this.ports = { local: this.listenPort, peer: PEER_CLIENT_PORT };
    this.log = opts.log;
    this.space = new SeqSpace(d.peerIsn, d.isn);
    checkConfigKeys(d);
    this.endpointConfig = { ...d.config };
    if (settings.maxDatagramBytes !== undefined && !('maxDatagramBytes' in d.config)) this.endpointConfig['maxDatagramBytes'] = settings.maxDatagramBytes;
    this.endpointMaxDatagramBytes = (this.endpointConfig['maxDatagramBytes'] as number | undefined) ?? TCP_PROFILE.maxDatagramBytes;
    if (script.initCommand) applyCommand(this.sysctl, script.initCommand.command, script.initCommand.line);
    const endpointOptions: Record<string, unknown> = { ...this.endpointConfig, seed: d.seed, fixedTimestampOffset: d.tsOffset };
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
      // Each connect() makes a new connection: its port and (without an isn directive) its ISN are learnt
      // from its SYN, so a script may connect again after the first connection ends (e.g. Fast Open's second try).
      this.ports.peer = this.connectPort;
      this.ports.local = undefined;
      if (this.script.directives.isn === undefined) this.space.localIsn = undefined;
    }
  }

  // ------------------------------------------------------------------ the endpoint's output and timers

  private drain(): void {
    this.transmitAll();
    if (!this.blocked) return;
    this.checkBlocked(this.blocked);
    // What the blocked call did (the rest of a write, a read that opened the window) goes out now.
    this.transmitAll();
  }

  private transmitAll(): void {
    for (;;) {
      const t = this.ep.pollTransmit(this.nowMs);
      if (!t) break;
      this.enqueue(t.remote, t.bytes);
    }
    this.sockets.absorbEvents(this.ep);
  }

  /** The earliest of the endpoint's deadlines and a waiting call's own (a poll timeout, a linger time). */
  private nextDeadline(): number | undefined {
    let next = this.ep.pollTimeoutMs();
    for (const d of [this.blocked?.waiter.deadlineMs, this.waiting?.deadlineMs]) {
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    return next;
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
    if (this.ports.local === undefined && seg.flags & SYN) this.ports.local = seg.srcPort;
    const view = outboundView(seg, this.space);
    this.queue.push({ atMs: this.nowMs, remote, view, srcPort: seg.srcPort, dstPort: seg.dstPort });
    this.logLine(`${formatSeconds(this.nowMs)} ${typeof view === 'string' ? `> ${view}` : renderPacket(view)}`);
  }

  /**
   * Fires due timers in deadline order up to `limit`; with stopOnOutput, stops once something is queued; with
   * `until`, once it holds.
   */
  private fireTimers(limit: number, stopOnOutput: boolean, until?: () => boolean): void {
    let lastAt = -Infinity;
    let firings = 0;
    let total = 0;
    for (;;) {
      if (stopOnOutput && this.queue.length > 0) return;
      if (until?.()) return;
      const deadline = this.nextDeadline();
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
    if (this.blocked) this.finishBlocked();
    try {
      this.fireTimers(this.anchorMs + this.toleranceMs, false);
    } catch (err) {
      throw new DrillError(last.line, `after the last line: ${errorMessage(err)}`);
    }
    const extra = this.queue[0];
    if (extra) throw new DrillError(last.line, `unexpected outbound packet ${this.describe(extra)}, after the last line`);
  }

  /** Tolerance for an event at `t`: the fixed one, or --tolerance_percent of its delay if that is larger. */
  private toleranceAt(t: number): number {
    return Math.max(this.toleranceMs, ((t - this.anchorMs) * this.tolerancePercent) / 100);
  }

  private runLine(line: ScriptLine): void {
    const ev = line.event;
    // packetdrill has one syscall thread: a call waits for the blocked one to return (and starts late if it must).
    const waited = ev.kind === 'syscall' && this.blocked !== undefined;
    if (waited) this.finishBlocked();
    const point = line.time.kind === 'point' ? resolveTime(line.time, this.anchorMs, this.nowMs, 0).target : this.nowMs;
    const w = resolveTime(line.time, this.anchorMs, this.nowMs, this.toleranceAt(point));
    if (ev.kind === 'packet' && ev.direction === 'out') {
      this.expectOutbound(line, ev, w.target, w.lo, w.hi);
      return;
    }
    if (ev.kind === 'other-packet') unsupported('non-tcp-packet', line.line, line.text.replace(/^\S+\s+/, ''), `a${ev.protocol === 'icmp' ? 'n ICMP' : ' UDP'} packet from the script peer`);
    if (w.target < this.nowMs - this.toleranceMs && !waited) {
      throw new DrillError(line.line, `time ${formatSeconds(w.target)} is before the current time ${formatSeconds(this.nowMs)}`);
    }
    this.advanceTo(w.target);
    this.checkNoUnexpected(line, w.target);
    switch (ev.kind) {
      case 'packet':
        this.inject(line, ev);
        break;
      case 'syscall':
        this.syscall(line, ev);
        break;
      case 'code': {
        const rec = this.sockets.current;
        const ctx = { stats: rec?.conn.stats() as unknown as Record<string, unknown> | undefined, conn: rec?.conn };
        runCode(ev.statements, ctx, this.pythonVars, this.log);
        break;
      }
      case 'command':
        applyCommand(this.sysctl, ev.command, line.line);
        break;
    }
    this.drain();
    this.anchorMs = this.nowMs;
  }

  /** Refuses what a packet line says that stevens' segments cannot carry (yet). */
  private checkPacketConstructs(line: ScriptLine, p: PacketEvent): void {
    const n = line.line;
    if (p.encapsulation !== undefined) unsupported('encapsulation', n, p.encapsulation);
    if (/[A0-7]/.test(p.flagsText)) unsupported('ecn', n, `flags ${p.flagsText}`, "AccECN's AE flag and ACE counter");
    if (p.flags & URG) unsupported('urgent', n, `flags ${p.flagsText}`);
    const ip = p.ip;
    if (ip) {
      // Inbound ECT marks and IP fields mean nothing to a TCP that has not negotiated ECN (stevens never does);
      // CE asks for an ECN echo, and an outbound mark cannot be checked: UDP does not carry them to stevens.
      if (ip.ecn === 'ce' || (p.direction === 'out' && ip.ecn !== undefined && ip.ecn !== 'noecn')) unsupported('ecn', n, ip.text, `the ECN mark ${ip.ecn}`);
      if (p.direction === 'out' && (ip.tos !== undefined || ip.flowLabel !== undefined || ip.ttl !== undefined)) unsupported('ip-field', n, ip.text);
    }
    if (p.options !== undefined && p.options !== 'any') {
      for (const o of p.options) {
        if (o.kind === 'fastopen') unsupported('fastopen', n, `<...${o.experimental ? 'FOEXP' : 'FO'}${o.cookie ? ` ${o.cookie}` : ''}...>`);
        if (o.kind === 'md5') unsupported('md5', n, `<...md5 ${o.digest}...>`);
        if (o.kind === 'accecn') unsupported('ecn', n, `<...ECN ${o.fields.map((f) => `${f.name} ${f.value}`).join(' ')}...>`, 'the AccECN option');
      }
    }
  }

  private inject(line: ScriptLine, p: PacketEvent): void {
    this.checkPacketConstructs(line, p);
    if (this.ports.local === undefined) {
      throw new Error("the endpoint's port is not known yet: an inbound packet in a client script must follow the endpoint's SYN");
    }
    const ports: Ports = p.ports ? { peer: p.ports.src, local: p.ports.dst } : (this.ports as Ports);
    const bytes = buildInbound(p, this.space, ports);
    this.logLine(`${formatSeconds(this.nowMs)} ${renderPacket(inboundView(p))}`);
    this.ep.handleDatagram(this.nowMs, this.remote, bytes);
  }

  private logCall(line: ScriptLine, out: SyscallOutcome, suffix = ''): void {
    const call = line.text
      .replace(/^\S+\s+/, '')
      .replace(/^\.\.\.\s*\S+\s+/, '')
      .replace(/\s*=\s*-?(0x[0-9a-fA-F]+|\d+)(\s*E[A-Z0-9]+)?\s*(\(.*\))?$/s, '');
    this.logLine(`${formatSeconds(this.nowMs)} ${call} = ${formatOutcome(out)}${suffix}`);
  }

  /** Compares a call's outcome with the script. */
  private checkOutcome(line: ScriptLine, call: SyscallEvent, out: SyscallOutcome): void {
    if (out.mismatch) throw new DrillError(line.line, `${out.mismatch} (at "${line.text}")`);
    // `= -1` without an errno accepts any errno (packetdrill's grammar allows it).
    if (out.result !== call.result || (call.errno !== undefined && out.errno !== call.errno)) {
      const note = out.note ? `: ${out.note}` : '';
      throw new DrillError(line.line, `${call.name}: expected ${formatOutcome(call)}, actual ${formatOutcome(out)}${note} (at "${line.text}")`);
    }
  }

  private syscall(line: ScriptLine, call: SyscallEvent): void {
    const startMs = this.nowMs;
    const blocking = call.blockingUntilMs !== undefined;
    const out = runSyscall(call, this, line.line, blocking ? 'block' : 'now');
    if (!blocking) {
      const done = 'kind' in out ? this.waitNow(line, out) : out;
      this.logCall(line, done);
      this.checkOutcome(line, call, done);
      return;
    }
    const relative = line.time.kind === 'point' ? line.time.at.relative : line.time.kind === 'range' ? line.time.lo.relative : false;
    const endMs = relative ? this.anchorMs + call.blockingUntilMs! : call.blockingUntilMs!;
    if (endMs < startMs) throw new DrillError(line.line, `the blocking call ends (${formatSeconds(endMs)}) before it starts (${formatSeconds(startMs)})`);
    const waiter: Waiter = 'kind' in out ? out : { kind: 'wait', poll: () => out };
    this.blocked = { line, call, waiter, endMs };
    this.logLine(`${formatSeconds(this.nowMs)} ${call.name}(...) blocks, to return at ${formatSeconds(endMs)}`);
    this.checkBlocked(this.blocked);
  }

  /** A call without a time window that blocks by its arguments (a poll timeout, a linger time): only timers run. */
  private waitNow(line: ScriptLine, waiter: Waiter): SyscallOutcome {
    let done = waiter.poll(this.nowMs);
    if (done) return done;
    this.waiting = waiter;
    try {
      this.fireTimers(Infinity, false, () => (done ??= waiter.poll(this.nowMs)) !== undefined);
    } finally {
      this.waiting = undefined;
    }
    if (!done) throw new DrillError(line.line, `"${line.text}" would block forever: nothing can wake it (give the call a time window, T...END, so later lines run while it waits)`);
    return done;
  }

  /** Whether the blocked call returns now; if so, checks its result and when it returned. */
  private checkBlocked(b: Blocked): void {
    const out = b.waiter.poll(this.nowMs);
    if (out === undefined) return;
    this.blocked = undefined;
    this.logCall(b.line, out, ' (returned)');
    this.checkOutcome(b.line, b.call, out);
    const tol = this.toleranceMs;
    if (this.nowMs < b.endMs - tol || this.nowMs > b.endMs + tol) {
      throw new DrillError(b.line.line, `${b.call.name}() returned at ${formatSeconds(this.nowMs)}, expected ${formatSeconds(b.endMs)} (±${tol} ms) (at "${b.line.text}")`);
    }
  }

  /** Runs timers until the blocked call returns; it must by its end time plus tolerance. */
  private finishBlocked(): void {
    const b = this.blocked!;
    try {
      this.fireTimers(b.endMs + this.toleranceMs, false, () => this.blocked !== b);
    } catch (err) {
      if (err instanceof DrillError) throw err;
      throw new DrillError(b.line.line, `${errorMessage(err)} (at "${b.line.text}")`);
    }
    if (this.blocked === b) {
      this.nowMs = Math.max(this.nowMs, b.endMs + this.toleranceMs);
      throw new DrillError(b.line.line, `${b.call.name}() still blocked at ${formatSeconds(this.nowMs)}, expected to return at ${formatSeconds(b.endMs)} (at "${b.line.text}")`);
    }
  }

  private expectOutbound(line: ScriptLine, p: PacketEvent, target: number, lo: number, hi: number): void {
    this.checkPacketConstructs(line, p);
    if (this.queue.length === 0) this.fireTimers(hi, true);
    const o = this.queue.shift();
    const when = line.time.kind === 'any' ? '' : ` by ${formatSeconds(hi)}`;
    if (!o) throw new DrillError(line.line, `expected "${line.text}" but nothing was sent${when}`);
    const actual = this.describe(o);
    if (typeof o.view === 'string') throw new DrillError(line.line, `expected "${line.text}", actual ${actual}`);
    const mismatch = matchOutbound(p, o.view);
    if (mismatch) throw new DrillError(line.line, `${mismatch}; expected "${line.text}", actual ${actual}`);
    const want = p.ports ?? { src: this.ports.local, dst: this.ports.peer };
    if (o.srcPort !== want.src || o.dstPort !== want.dst) {
      throw new DrillError(line.line, `ports: expected ${want.src} > ${want.dst}, actual ${o.srcPort} > ${o.dstPort}; actual ${actual}`);
    }
    if (o.remote.address !== this.remote.address || o.remote.port !== this.remote.port) {
      throw new DrillError(line.line, `sent to ${o.remote.address}:${o.remote.port}, not the script peer ${this.remote.address}:${this.remote.port}; actual ${actual}`);
    }
    if (o.atMs < lo || o.atMs > hi) {
      const window = line.time.kind === 'range' ? `[${formatSeconds(lo)}, ${formatSeconds(hi)}]` : `${formatSeconds(target)} (±${(hi - lo) / 2} ms)`;
      throw new DrillError(line.line, `time: expected ${window}, actual ${formatSeconds(o.atMs)}; expected "${line.text}", actual ${actual}`);
    }
    this.anchorMs = o.atMs;
  }

  private logLine(s: string): void {
    this.log?.(s);
  }
}

function failed(err: unknown, script: Script | undefined): RunResult {
  if (err instanceof UnsupportedError) {
    const kind = FEATURES[err.feature].kind;
    // Expected: the script says it needs the feature and the core does not have it yet.
    const declared = (script?.directives.requires.includes(err.feature) ?? false) && !FEATURES[err.feature].available;
    return { passed: false, line: err.line, message: err.message, unsupported: { feature: err.feature, kind, construct: err.construct, declared } };
  }
  if (err instanceof DrillError) return { passed: false, line: err.line, message: err.message };
  return { passed: false, line: 0, message: `internal error: ${errorMessage(err)}` };
}

/** Runs an already parsed script. */
export function runParsed(script: Script, opts: RunOptions = {}): RunResult {
  try {
    new Run(script, opts).run();
    return { passed: true };
  } catch (err) {
    return failed(err, script);
  }
}

/** Parses and runs a script's text. */
export function runScript(source: string, opts: RunOptions & ParseOptions = {}): RunResult {
  let script: Script;
  try {
    script = parseScript(source, opts);
  } catch (err) {
    return failed(err, undefined);
  }
  return runParsed(script, opts);
}

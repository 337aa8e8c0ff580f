// One soak run, named by its seed: a server host with a listening Endpoint, client hosts opening many
// connections to it over a simulated network profile, randomized workloads on them, and the invariants checked
// as the run goes and at its end. Everything is a function of the options: the same seed gives the same run.
// What each side of a connection does and checks is in lifetime.ts; the node around each host's Endpoint (the
// core's exceptions, livelocks) in guarded-node.ts; the replay logs and captures a run writes in recordings.ts.
//
// Invariants (a violation fails the run; expected failures are counted, not violations):
// - corrupt-stream: every byte read is the byte written at that stream offset (checked as it is read), so data
//   arrives exactly once and in order; corrupt-datagram: a delivered datagram is one that was sent, intact.
// - incomplete-stream: a peer's FIN ('end') comes only after every byte written before its shutdown was read.
// - after-close: nothing is delivered to an application after it closed or aborted the connection.
// - event-order: one 'end' and one 'closed' per connection, no data after 'end', no error after an abort, no
//   clean 'closed' before the peer's FIN.
// - unexpected-error: a reset (ECONNRESET, ECONNREFUSED) on a connection nobody aborted, whose peer did not
//   time out, and whose port pair was not still held by an older connection at the server. Timeouts
//   (ETIMEDOUT) are network failures: counted, not violations.
// - stall: a connection with unsent or unacknowledged data (or an unacknowledged SYN or FIN) and no timer armed;
//   timer-lost: a connection's deadline the endpoint's pollTimeoutMs() does not cover.
// - buffer-bound: send and receive buffers within their configured sizes.
// - unfinished: a connection with no application-visible event for progressBoundMs, or still open when the
//   run's drain bound ends.
// - unknown-connection: an accepted connection no client opened (or one opened twice).
// - config: a connection's configuration is its profile's defaults with exactly the overrides it was given.
// - livelock: a connection whose timer stays due however often it fires (the run would spin at one instant);
//   the harness aborts that connection and goes on.
// - exception: anything thrown by the core (caught, reported with its stack; the run stops there).
// - liveness (the liveness option): once the workload is over the network heals, and a connection still open
//   livenessGraceMs after its script ended (and after the heal) fails.
// - nondeterminism (checkDeterminism): the seed's second run gave another output than the first (determinism.ts).
import { Endpoint, PROFILES as CONNECTION_PROFILES, type Connection, type ConnectionConfig, type EndpointEvent, type EndpointOptions, type Remote } from '../core/index.js';
import { Buggify, loadProfileFile, PROFILES, Simulator, type NetworkProfile, type PacketEvent } from '../sim/index.js';
import { GuardedNode } from './guarded-node.js';
import { record } from './histogram.js';
import { fmtMs, Lifetime, type HostCtx, type Side, type SoakRun } from './lifetime.js';
import { LinkCaptures, ReplayLogs } from './recordings.js';
import { eventStep, packetStep, StepDigest, type StepObserver } from './steps.js';
import { addViolation, emptyResult } from './tallies.js';
import type { SoakOptions, SoakProgress, SoakResult, ViolationKind } from './types.js';
import { CONFIG_VARIANTS, deriveSeed, drawPartitions, SlotPlanner } from './workload.js';

/** The server listens on one TCP port per (configuration variant, connection profile). */
function tcpPort(variant: number, profile: 'tcp' | 'game'): number {
  return 7000 + 2 * variant + (profile === 'game' ? 1 : 0);
}
const SERVER_UDP_PORT = 443;
const CLIENT_UDP_PORT = 40000;
const SERVER_IPV4 = '10.0.0.1';
const SERVER_IPV6 = 'fd00::1';
/** Messages up to this payload size count towards the latency figures. */
const SMALL_MESSAGE_BYTES = 16 * 1024;
const TICK_MS = 1000;
const DEFAULT_PROGRESS_BOUND_MS = 15 * 60_000;
const DEFAULT_DRAIN_BOUND_MS = 30 * 60_000;
const DEFAULT_PEER_GONE_MS = 2 * 60_000;
/**
 * After the heal, how long past its script a connection may take to finish: a retransmission or persist timer
 * backed off to its 60 s maximum (RFC 6298 (2.5)) must fire first, then a side whose peer is gone waits
 * peerGoneMs (2 min) before giving up; a minute more for the exchange and the close.
 */
export const DEFAULT_LIVENESS_GRACE_MS = 4 * 60_000;
/** Largest datagram the workload draws (the connection's own maximum caps it further). */
const MAX_DATAGRAM_DRAW = 1200;

/** The run's bounds and sizes, its options' or the defaults: part of what names a run (the report's option set). */
export function runSettings(opts: Pick<SoakOptions, 'connections' | 'clientHosts' | 'progressBoundMs' | 'drainBoundMs' | 'peerGoneMs' | 'livenessGraceMs'>) {
  return {
    clientHosts: opts.clientHosts ?? Math.min(8, Math.max(1, Math.ceil(opts.connections / 16))),
    progressBoundMs: opts.progressBoundMs ?? DEFAULT_PROGRESS_BOUND_MS,
    drainBoundMs: opts.drainBoundMs ?? DEFAULT_DRAIN_BOUND_MS,
    peerGoneMs: opts.peerGoneMs ?? DEFAULT_PEER_GONE_MS,
    livenessGraceMs: opts.livenessGraceMs ?? DEFAULT_LIVENESS_GRACE_MS,
  };
}

/** The network a soak's options name. Throws when the name is unknown. */
export function networkFor(opts: Pick<SoakOptions, 'profile' | 'network' | 'profileFile'>): NetworkProfile {
  if (opts.network !== undefined) return opts.network;
  if (opts.profileFile !== undefined) return loadProfileFile(opts.profileFile);
  const p = PROFILES[opts.profile];
  if (p === undefined) throw new Error(`unknown network profile '${opts.profile}' (known: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** Soak runs made by this process so far (what the nondeterminism fault reads: state outside the seed). */
let runsInProcess = 0;

/**
 * One run of a seed, its outputs shown to `steps`; with the record option's failingOnly, a failing seed is run
 * once more recording (the same run, so its logs replay this failure). checkDeterminism is for determinism.ts.
 */
export function runOnce(opts: SoakOptions, onProgress?: (p: SoakProgress) => void, steps?: StepObserver, halt?: { now: boolean }): SoakResult {
  const rec = opts.record;
  if (rec?.failingOnly !== true) return new Soak(opts, steps, halt).run(onProgress);
  const r = new Soak({ ...opts, record: undefined }, steps, halt).run(onProgress);
  if (r.violationCount > 0) r.logs = new Soak({ ...opts, record: { dir: rec.dir } }).run().logs;
  return r;
}

class Soak implements SoakRun {
  readonly sim: Simulator;
  readonly seed: number;
  readonly scratch = new Uint8Array(64 * 1024);
  readonly result: SoakResult;
  private readonly digest: StepDigest | undefined;
  private readonly observers: StepObserver[] = [];
  readonly buggify: Buggify | undefined;
  /** The nondeterminism fault's shift of every scripted action (0 or 1 ms, by the parity of runsInProcess). */
  readonly scheduleSkewMs: number;
  private readonly server: HostCtx;
  private readonly clients: HostCtx[] = [];
  private readonly planners: SlotPlanner[] = [];
  private readonly registry = new Map<string, Lifetime>();
  readonly open = new Set<Lifetime>();
  readonly all: Lifetime[] = [];
  private readonly seenViolations = new Set<string>();
  fatal = false;
  readonly progressBoundMs: number;
  readonly drainBoundMs: number;
  readonly peerGoneMs: number;
  readonly livenessGraceMs: number;
  /** When the liveness phase healed the network (NaN: not yet, or no liveness phase). */
  private healedAtMs = NaN;
  private slowestAfterHealMs = 0;
  bytesRead = 0;
  private readonly logs: ReplayLogs | undefined;
  private readonly captures: LinkCaptures | undefined;

  constructor(
    readonly opts: SoakOptions,
    steps?: StepObserver,
    /** Set from outside (a determinism check that saw a divergence): the run stops at the next event. */
    private readonly halt?: { now: boolean },
  ) {
    const network = networkFor(opts);
    this.seed = opts.seed;
    const settings = runSettings(opts);
    this.progressBoundMs = settings.progressBoundMs;
    this.drainBoundMs = settings.drainBoundMs;
    this.peerGoneMs = settings.peerGoneMs;
    this.livenessGraceMs = settings.livenessGraceMs;
    this.scheduleSkewMs = opts.faults?.nondeterminism ? runsInProcess % 2 : 0;
    runsInProcess++;
    const workload = opts.workload ?? 'mixed';
    this.result = emptyResult(opts, workload);
    if (opts.buggify) this.buggify = new Buggify(deriveSeed(opts.seed, 0xb0661f), opts.buggify === 'all' ? 'all' : 'seeded');
    this.sim = new Simulator({ seed: opts.seed, ...(this.buggify !== undefined ? { buggify: this.buggify } : {}) });
    const recordDir = opts.record?.failingOnly ? undefined : opts.record?.dir;
    if (recordDir !== undefined) this.logs = new ReplayLogs(recordDir, opts.seed);
    if (opts.digest) this.observers.push((this.digest = new StepDigest()));
    if (steps !== undefined) this.observers.push(steps);
    const observers = this.observers;
    if (observers.length > 0) {
      this.sim.onPacket = (pe: PacketEvent) => {
        const text = packetStep(pe);
        for (const o of observers) o.step(text, pe.bytes);
      };
    }
    // The core's own planted fault goes to the endpoints; the others are the lab's.
    const faults = opts.faults?.corruptRetransmission !== undefined ? { corruptRetransmission: opts.faults.corruptRetransmission } : undefined;
    const trace = opts.trace;
    const serverEp = this.endpoint('server', { seed: deriveSeed(opts.seed, 0x5e7e), faults, trace: trace && ((e) => trace('server', e)) });
    CONFIG_VARIANTS.forEach((v, i) => {
      for (const profile of ['tcp', 'game'] as const) serverEp.listen({ ...v.config, port: tcpPort(i, profile), profile, backlog: 4096 });
    });
    this.server = this.addHost('server', serverEp, { name: 'server', ipv4: SERVER_IPV4, ipv6: SERVER_IPV6, port: SERVER_UDP_PORT });
    const nClients = settings.clientHosts;
    for (let k = 0; k < nClients; k++) {
      // Odd client hosts speak IPv6, even ones IPv4.
      const v6 = k % 2 === 1;
      const address = v6 ? `fd00::${(k + 2).toString(16)}` : `10.0.${(k + 2) >> 8}.${(k + 2) & 0xff}`;
      const ep = this.endpoint(`client${k}`, { seed: deriveSeed(opts.seed, 0xc1, k), faults, trace: trace && ((e) => trace(`client${k}`, e)) });
      const ctx = this.addHost(`client${k}`, ep, { name: `client${k}`, ...(v6 ? { ipv6: address } : { ipv4: address }), port: CLIENT_UDP_PORT });
      ctx.serverRemote = { address: v6 ? SERVER_IPV6 : SERVER_IPV4, port: SERVER_UDP_PORT };
      this.sim.connectProfile(ctx.host, this.server.host, network);
      for (const p of drawPartitions(opts.seed, k, opts.durationMs)) this.sim.partition(ctx.host, this.server.host, p.fromMs, p.toMs);
      this.clients.push(ctx);
    }
    if (opts.pcap) this.captures = new LinkCaptures(this.sim, opts.pcap.dir, this.seed);
    const params = { workload, durationMs: opts.durationMs, maxDatagramBytes: MAX_DATAGRAM_DRAW };
    for (let slot = 0; slot < opts.connections; slot++) this.planners.push(new SlotPlanner(opts.seed, slot, params));
  }

  /** A host's endpoint; with the record option, one recording into `<dir>/seed-<seed>/<name>.stvlog`. */
  private endpoint(name: string, options: EndpointOptions): Endpoint {
    return this.logs?.endpoint(name, options) ?? new Endpoint(options);
  }

  private addHost(name: string, ep: Endpoint, hostOpts: { name: string; ipv4?: string; ipv6?: string; port: number }): HostCtx {
    const sides = new Map<Connection, Side>();
    const deferred: Array<() => void> = [];
    let self: HostCtx | undefined;
    const node = new GuardedNode(ep, name, {
      exception: (e, where) => this.exception(e, where),
      livelock: (nowMs, calls) => this.livelock(self!, nowMs, calls),
    });
    const host = this.sim.addHost(hostOpts, node, (_h, nowMs) => this.activity(self!, nowMs));
    self = { name, ep, host, node, address: host.addresses[0]!, sides, deferred };
    return self;
  }

  run(onProgress?: (p: SoakProgress) => void): SoakResult {
    const t0 = performance.now();
    const sim = this.sim;
    try {
      for (const planner of this.planners) {
        const client = this.clients[planner.slot % this.clients.length]!;
        sim.at(planner.firstStartMs(), (now) => this.startLifetime(planner, client, now), client.host);
      }
      sim.at(TICK_MS, (now) => this.tick(now));
      if (this.opts.liveness) sim.at(this.opts.durationMs, (now) => this.heal(now));
      const endMs = this.opts.durationMs + this.drainBoundMs;
      const halt = this.halt;
      const stop = () => this.fatal || halt?.now === true || (sim.nowMs >= this.opts.durationMs && this.open.size === 0);
      const slice = Math.max(1000, Math.min(10_000, this.opts.durationMs / 20));
      for (let t = 0; !stop() && t < endMs; ) {
        t = Math.min(t + slice, endMs);
        sim.run(t, stop);
        onProgress?.({ seed: this.seed, simulatedMs: sim.nowMs, durationMs: this.opts.durationMs, bytesRead: this.bytesRead, openConnections: this.open.size });
      }
      if (!this.fatal && halt?.now !== true) {
        this.checkConnections(sim.nowMs);
        for (const lt of this.open) {
          this.violation('unfinished', sim.nowMs, lt, `still open ${fmtMs(this.drainBoundMs)} after the workload ended: ${lt.describeState()}`);
        }
      }
    } catch (e) {
      // The simulator or the harness itself threw (the core's own exceptions are caught at the node).
      this.exception(e, 'simulation');
    }
    this.captures?.close();
    this.finish(performance.now() - t0);
    return this.result;
  }

  // ------------------------------------------------------------------ lifetimes

  private startLifetime(planner: SlotPlanner, client: HostCtx, now: number): void {
    if (this.fatal) return;
    const plan = planner.next();
    const lt = new Lifetime(this, plan, client, this.server, now);
    this.all.push(lt);
    this.open.add(lt);
    this.result.lifetimes.started++;
    const config = CONFIG_VARIANTS[plan.clientVariant]!.config;
    const port = tcpPort(plan.serverVariant, plan.profile);
    const conn = this.coreCall(lt, () => client.ep.connect(now, client.serverRemote!, { ...config, port, profile: plan.profile, noDelay: plan.client.noDelay }));
    if (conn === undefined) return;
    lt.key = tupleKey(client.address, conn.localPort, conn.remotePort, conn.iss);
    // Is the port pair still held at the server by an older connection?
    for (const old of this.server.ep.connections()) {
      if (old.remote.address === client.address.address && old.remote.port === client.address.port && old.remotePort === conn.localPort && old.localPort === conn.remotePort) {
        this.result.lifetimes.portReuse++;
        if (old.state !== 'TIME-WAIT') lt.disturbed = true;
      }
    }
    this.registry.set(lt.key, lt);
    client.sides.set(conn, lt.client);
    this.checkConfig(lt, 'client', conn, { ...config, noDelay: plan.client.noDelay }, now);
    lt.client.start(conn, now);
  }

  /** The client side of a lifetime is done: the slot reconnects after its idle time, while the workload lasts. */
  clientDone(lt: Lifetime, now: number): void {
    const at = now + lt.plan.nextDelayMs;
    if (at >= this.opts.durationMs || this.fatal) return;
    const planner = this.planners[lt.plan.slot]!;
    this.sim.at(at, (t) => this.startLifetime(planner, lt.clientHost, t), lt.clientHost.host);
  }

  lifetimeMaybeDone(lt: Lifetime): void {
    if (!(lt.client.finished && (lt.server.conn === undefined || lt.server.finished))) return;
    if (this.open.delete(lt) && !Number.isNaN(this.healedAtMs)) {
      const past = this.sim.nowMs - Math.max(this.healedAtMs, this.scriptEndMs(lt));
      if (past > this.slowestAfterHealMs) this.slowestAfterHealMs = past;
    }
  }

  // ------------------------------------------------------------------ the liveness phase

  /** The workload is over: the network heals, perturbations stop, and every open connection must finish. */
  private heal(now: number): void {
    if (this.fatal) return;
    this.healedAtMs = now;
    this.sim.heal();
    this.buggify?.stop();
    if (this.opts.faults?.loseTimers) this.clients[0]?.node.loseTimers();
    for (const lt of this.open) this.checkLivenessAt(lt);
  }

  /** When a lifetime's last scripted action is due at the latest (an abort may come 1.2 spans in). */
  private scriptEndMs(lt: Lifetime): number {
    const serverStart = lt.server.conn !== undefined ? lt.server.startMs : 0;
    return Math.max(lt.startMs, serverStart) + Math.max(lt.plan.spanMs, 100) * 1.2;
  }

  private checkLivenessAt(lt: Lifetime): void {
    const due = () => Math.max(this.healedAtMs, this.scriptEndMs(lt)) + this.livenessGraceMs;
    this.sim.at(due(), (now) => {
      if (this.fatal || !this.open.has(lt)) return;
      // The server side may have started since (a SYN that got through late): its script moves the bound.
      if (now < due()) return this.checkLivenessAt(lt);
      this.violation('liveness', now, lt, `not finished ${fmtMs(this.livenessGraceMs)} after its script ended and the network healed (at ${fmtMs(this.healedAtMs)}): ${lt.describeState()}`);
      lt.client.giveUpSoon(now);
      lt.server.giveUpSoon(now);
    });
  }

  // ------------------------------------------------------------------ events

  /** After every input to a host: hand its events to the applications, then run what they decided. */
  activity(ctx: HostCtx, now: number): void {
    for (;;) {
      for (let ev = ctx.ep.pollEvent(); ev !== undefined; ev = ctx.ep.pollEvent()) this.dispatch(ctx, ev, now);
      if (ctx.deferred.length === 0) return;
      const actions = ctx.deferred.splice(0);
      for (const a of actions) a();
    }
  }

  private dispatch(ctx: HostCtx, ev: EndpointEvent, now: number): void {
    const observers = this.observers;
    if (observers.length > 0) {
      const text = eventStep(now, ctx.name, ev);
      for (const o of observers) o.step(text);
    }
    if (ev.type === 'accepted' && ctx === this.server) {
      this.accept(ev.connection, now);
      return;
    }
    const side = ctx.sides.get(ev.connection);
    if (side === undefined) {
      this.violation('unknown-connection', now, undefined, `${ctx.name}: '${ev.type}' event for connection ${ev.connection.id} (${ev.connection.state}) the application never had`);
      return;
    }
    side.onEvent(ev, now);
  }

  private accept(conn: Connection, now: number): void {
    const key = tupleKey(conn.remote, conn.remotePort, conn.localPort, conn.irs);
    const lt = this.registry.get(key);
    if (lt === undefined || lt.server.conn !== undefined) {
      this.violation('unknown-connection', now, lt, `server accepted a connection from ${conn.remote.address} port ${conn.remotePort} ${lt === undefined ? 'that no client opened' : 'a second time'}`);
      this.coreCall(lt, () => conn.abort());
      return;
    }
    this.registry.delete(key);
    this.server.sides.set(conn, lt.server);
    this.checkConfig(lt, 'server', conn, CONFIG_VARIANTS[lt.plan.serverVariant]!.config, now);
    if (!this.open.has(lt)) {
      this.open.add(lt);
      if (!Number.isNaN(this.healedAtMs)) this.checkLivenessAt(lt);
    }
    lt.server.start(conn, now);
    if (lt.client.failedOrAborted) lt.server.peerGone(now);
  }

  // ------------------------------------------------------------------ continuous checks

  /** A connection's configuration is its profile's defaults with exactly the overrides it was given. */
  private checkConfig(lt: Lifetime, role: string, conn: Connection, overrides: Partial<ConnectionConfig>, now: number): void {
    const expected: ConnectionConfig = { ...CONNECTION_PROFILES[lt.plan.profile], ...overrides, profile: lt.plan.profile };
    const wrong: string[] = [];
    for (const [k, v] of Object.entries(expected) as Array<[keyof ConnectionConfig, unknown]>) {
      if (conn.config[k] !== v) wrong.push(`${k} ${String(conn.config[k])} (expected ${String(v)})`);
    }
    if (wrong.length > 0) {
      const shown = wrong.slice(0, 6).join(', ') + (wrong.length > 6 ? `, and ${wrong.length - 6} more` : '');
      this.violation('config', now, lt, `${role}: a ${lt.plan.profile}-profile connection runs with ${shown}`);
    }
  }

  private tick(now: number): void {
    if (this.fatal) return;
    this.checkConnections(now);
    for (const lt of this.open) {
      if (now - lt.lastEventMs >= this.progressBoundMs) {
        this.violation('unfinished', now, lt, `no progress for ${fmtMs(now - lt.lastEventMs)}: ${lt.describeState()}`);
        lt.lastEventMs = now;
        lt.client.giveUpSoon(now);
        lt.server.giveUpSoon(now);
      }
    }
    this.sim.at(now + TICK_MS, (t) => this.tick(t));
  }

  /** Stalls, lost timers and buffer bounds, for every connection of every endpoint. */
  checkConnections(now: number): void {
    for (const ctx of [this.server, ...this.clients]) {
      let earliest = Infinity;
      for (const c of ctx.ep.connections()) {
        const st = c.state;
        if (st === 'CLOSED') continue;
        const deadline = c.nextDeadlineMs();
        if (deadline < earliest) earliest = deadline;
        if (st === 'TIME-WAIT') continue;
        const s = c.stats();
        const lt = ctx.sides.get(c)?.lifetime;
        const who = `${ctx.name} connection ${c.id} (${st})`;
        if (s.sendBufferedBytes > c.config.sendBufferBytes) {
          this.violation('buffer-bound', now, lt, `${who}: ${s.sendBufferedBytes} bytes in a ${c.config.sendBufferBytes}-byte send buffer`);
        }
        if (s.receiveBufferedBytes + s.outOfOrderBytes > c.config.receiveBufferBytes) {
          this.violation('buffer-bound', now, lt, `${who}: ${s.receiveBufferedBytes} + ${s.outOfOrderBytes} out-of-order bytes in a ${c.config.receiveBufferBytes}-byte receive buffer`);
        }
        const handshake = st === 'SYN-SENT' || st === 'SYN-RECEIVED';
        const finUnacked = st === 'FIN-WAIT-1' || st === 'CLOSING' || st === 'LAST-ACK';
        if ((s.sendBufferedBytes > 0 || s.outstandingBytes > 0 || handshake || finUnacked) && deadline === Infinity) {
          const what = handshake ? 'its SYN unanswered' : s.sendBufferedBytes > 0 ? `${s.sendBufferedBytes} bytes unsent or unacknowledged (window ${s.sendWindowBytes}, cwnd ${s.cwndBytes})` : 'its FIN unacknowledged';
          this.violation('stall', now, lt, `${who} has ${what} and no timer armed`);
        }
      }
      const polled = ctx.ep.pollTimeoutMs();
      if (earliest !== Infinity && (polled === undefined || polled > earliest)) {
        this.violation('timer-lost', now, undefined, `${ctx.name}: a connection's deadline is ${earliest} ms but pollTimeoutMs() says ${polled}`);
      }
    }
  }

  // ------------------------------------------------------------------ reporting

  violation(kind: ViolationKind, atMs: number, lt: Lifetime | undefined, message: string, stack?: string): void {
    // One per connection and kind; a configuration mismatch once per distinct mismatch.
    const key = kind === 'config' ? `${kind}|${message}` : `${kind}|${lt?.plan.id ?? message}`;
    if (this.seenViolations.has(key)) return;
    this.seenViolations.add(key);
    addViolation(this.result, { kind, atMs, message, ...(lt !== undefined ? { connection: lt.describe() } : {}), ...(stack !== undefined ? { stack } : {}) });
  }

  /** A host's timers stayed due through `calls` expiries at one instant: report each such connection, give up on it. */
  livelock(ctx: HostCtx, now: number, calls: number): void {
    for (const c of [...ctx.ep.connections()]) {
      const deadline = c.nextDeadlineMs();
      if (deadline > now) continue;
      const side = ctx.sides.get(c);
      const timers = Object.entries(c.stats().timers)
        .filter(([, at]) => at !== undefined && at <= now)
        .map(([name, at]) => `${name} at ${at} ms`)
        .join(', ');
      this.violation('livelock', now, side?.lifetime, `${ctx.name} connection ${c.id} (${c.state}, ${c.config.profile} profile): its timer stays due (${timers || `deadline ${deadline} ms`}) after ${calls} expiries at ${now} ms; the connection is aborted to go on`);
      if (side !== undefined) side.giveUp(now);
      else this.coreCall(undefined, () => c.abort());
    }
  }

  exception(e: unknown, where: string, lt?: Lifetime): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.violation('exception', this.sim.nowMs, lt, `${where} threw ${err.name}: ${err.message}`, err.stack);
    this.fatal = true;
  }

  /** Calls into the core on behalf of an application; an exception becomes a violation and undefined. */
  coreCall<T>(lt: Lifetime | undefined, fn: () => T, where = 'application call'): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.exception(e, where, lt);
      return undefined;
    }
  }

  recordLatency(profile: 'tcp' | 'game', payloadBytes: number, ms: number): void {
    if (payloadBytes <= SMALL_MESSAGE_BYTES) record(this.result.latency[profile], ms);
  }

  private finish(wallMs: number): void {
    const r = this.result;
    const now = this.sim.nowMs;
    r.simulatedMs = now;
    r.wallMs = Math.round(wallMs);
    r.events = this.sim.eventsProcessed;
    for (const lt of this.all) lt.account(r);
    for (const l of this.sim.links) {
      r.links.sent += l.stats.sent;
      r.links.delivered += l.stats.delivered;
      r.links.duplicated += l.stats.duplicated;
      r.links.corrupted += l.stats.corrupted;
    }
    r.links.dropped = this.sim.dropsByReason();
    if (this.digest !== undefined) r.digest = this.digest.hex();
    if (this.logs !== undefined) r.logs = this.logs.close();
    if (this.buggify !== undefined) r.buggify = { sites: this.buggify.sites, fired: { ...this.buggify.fired } };
    if (this.opts.liveness) r.liveness = { healedAtMs: Number.isNaN(this.healedAtMs) ? -1 : this.healedAtMs, graceMs: this.livenessGraceMs, slowestMs: Math.round(this.slowestAfterHealMs) };
  }
}

function tupleKey(client: Remote, clientPort: number, serverPort: number, clientIsn: number): string {
  return `${client.address}|${client.port}|${clientPort}|${serverPort}|${clientIsn >>> 0}`;
}

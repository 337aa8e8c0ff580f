// One connection's lifetime (connect, work, close or abort) and its two sides: the application each end runs
// (what it writes, reads, sends as datagrams, when it pauses, half-closes, closes or aborts, as its SidePlan says)
// and what each side checks as its events arrive: the stream byte by byte and at its end, the datagrams, the
// order of events, nothing after a close or abort, no unexplained reset.
import type { Connection, Endpoint, EndpointEvent, Remote } from '../core/index.js';
import type { Buggify, SimHost, Simulator } from '../sim/index.js';
import type { GuardedNode } from './guarded-node.js';
import { record } from './histogram.js';
import { checkDatagram, encodeDatagram, HEADER_BYTES, StreamChecker, StreamLedger, type DatagramLedger } from './stream.js';
import type { SoakResult, ViolationKind } from './types.js';
import { CONFIG_VARIANTS, deriveSeed, type LifetimePlan, type SidePlan } from './workload.js';

const SLOW_READ_TICK_MS = 100;

/** A host of the run as its applications see it. */
export interface HostCtx {
  name: string;
  ep: Endpoint;
  host: SimHost;
  /** The node the simulator drives for this host. */
  node: GuardedNode;
  /** The UDP address clients use for the server, or this client's own. */
  address: Remote;
  sides: Map<Connection, Side>;
  /** App actions decided while handling events, run once the event queue is empty. */
  deferred: Array<() => void>;
  serverRemote?: Remote;
}

/** What the sides use of the run they are part of (the runner's Soak). */
export interface SoakRun {
  readonly seed: number;
  readonly sim: Simulator;
  /** Write buffer the sides share (one writes at a time). */
  readonly scratch: Uint8Array;
  readonly result: SoakResult;
  readonly peerGoneMs: number;
  /** The applications' perturbations (one-byte reads, slow reactions), when the run buggifies. */
  readonly buggify: Buggify | undefined;
  /** Added to every scripted action's time (0 but under the nondeterminism fault). */
  readonly scheduleSkewMs: number;
  /** An exception stopped the run. */
  readonly fatal: boolean;
  bytesRead: number;
  /** After an input to a host: its events to the applications, then what they decided. */
  activity(ctx: HostCtx, now: number): void;
  violation(kind: ViolationKind, atMs: number, lt: Lifetime | undefined, message: string): void;
  /** Calls into the core on behalf of an application; an exception becomes a violation and undefined. */
  coreCall<T>(lt: Lifetime | undefined, fn: () => T): T | undefined;
  recordLatency(profile: 'tcp' | 'game', payloadBytes: number, ms: number): void;
  /** The client side is done: the slot reconnects later. */
  clientDone(lt: Lifetime, now: number): void;
  lifetimeMaybeDone(lt: Lifetime): void;
}

export class Lifetime {
  key = '';
  /** Something outside the plan of a clean exchange happened: an abort, a timeout, a port pair still in use. */
  disturbed = false;
  abortExecuted = false;
  lastEventMs: number;
  readonly client: Side;
  readonly server: Side;

  constructor(
    readonly soak: SoakRun,
    readonly plan: LifetimePlan,
    readonly clientHost: HostCtx,
    serverHost: HostCtx,
    readonly startMs: number,
  ) {
    this.lastEventMs = startMs;
    this.client = new Side(this, 'client', plan.client, clientHost, deriveSeed(soak.seed, plan.id, 1));
    this.server = new Side(this, 'server', plan.server, serverHost, deriveSeed(soak.seed, plan.id, 2));
    this.client.peer = this.server;
    this.server.peer = this.client;
    this.client.connectCheckers();
    this.server.connectCheckers();
  }

  describe(): string {
    const p = this.plan;
    const cv = CONFIG_VARIANTS[p.clientVariant]!.name;
    const sv = CONFIG_VARIANTS[p.serverVariant]!.name;
    const variant = cv === sv ? (cv === 'default' ? '' : `, ${cv}`) : `, client ${cv}/server ${sv}`;
    return `#${p.id} (${p.kind}, ${p.profile} profile${variant}, started at ${fmtMs(this.startMs)})`;
  }

  describeState(): string {
    return `client ${this.client.describeState()}; server ${this.server.describeState()}`;
  }

  account(r: SoakResult): void {
    const up = r.bytes.up;
    const down = r.bytes.down;
    up.written += this.client.out.writtenBytes;
    up.read += this.server.checker.readBytes;
    down.written += this.server.out.writtenBytes;
    down.read += this.client.checker.readBytes;
    for (const s of [this.client, this.server]) {
      r.messages.sent += s.out.lengths.length;
      r.messages.delivered += s.checker.messagesRead;
      r.datagrams.sent += s.dgram.sizes.length;
      r.datagrams.refused += s.dgramRefused;
      r.datagrams.delivered += s.dgramDelivered;
      s.takeStats();
      r.segments.sent += s.stats.sent;
      r.segments.retransmitted += s.stats.retransmitted;
      r.segments.timeouts += s.stats.timeouts;
      r.segments.zeroWindowProbes += s.stats.zeroWindowProbes;
      if (s.error !== undefined) r.lifetimes.errors[s.error] = (r.lifetimes.errors[s.error] ?? 0) + 1;
    }
    const L = r.lifetimes;
    if (!(this.client.finished && (this.server.conn === undefined || this.server.finished))) L.unfinished++;
    else if (this.abortExecuted) L.aborted++;
    else if (this.client.clean && this.server.clean) L.clean++;
    else L.failed++;
  }
}

export class Side {
  peer!: Side;
  conn: Connection | undefined;
  startMs = 0;
  readonly out: StreamLedger;
  checker!: StreamChecker;
  readonly dgram: DatagramLedger = { sizes: [], sentAtMs: [] };
  dgramRefused = 0;
  dgramDelivered = 0;
  /** Messages whose time has come; the next to begin; the one being written. */
  private due = 0;
  private begun = 0;
  private cur: { index: number; total: number; off: number } | undefined;
  private shutdownCalled = false;
  private closeCalled = false;
  /** The application aborted (as planned, or giving up on a dead peer): it is done with the connection. */
  appDone = false;
  gotEnd = false;
  closedEvent = false;
  error: string | undefined;
  finished = false;
  clean = false;
  private pauseDepth = 0;
  private slowBytesPerTick: number | undefined;
  private completeChecked = false;
  /** Buggify's one-byte reads: turns left. */
  private oneByteTurns = 0;
  readonly stats = { sent: 0, retransmitted: 0, timeouts: 0, zeroWindowProbes: 0 };
  private statsTaken = false;

  constructor(
    readonly lifetime: Lifetime,
    readonly role: 'client' | 'server',
    readonly plan: SidePlan,
    readonly ctx: HostCtx,
    readonly key: number,
  ) {
    this.out = new StreamLedger(key);
  }

  connectCheckers(): void {
    const lt = this.lifetime;
    const name = this.role === 'client' ? 'server->client stream' : 'client->server stream';
    this.checker = new StreamChecker(this.peer.out, name, (_i, total, sentAtMs) => {
      lt.soak.recordLatency(lt.plan.profile, total - HEADER_BYTES, lt.soak.sim.nowMs - sentAtMs);
    });
  }

  private get soak(): SoakRun {
    return this.lifetime.soak;
  }

  get failedOrAborted(): boolean {
    return this.appDone || this.error !== undefined;
  }

  describeState(): string {
    if (this.conn === undefined) return 'never started';
    const parts: string[] = [this.conn.state];
    if (this.finished) parts.push('finished');
    if (this.appDone) parts.push('aborted by the application');
    if (this.shutdownCalled) parts.push('shut down');
    if (this.closeCalled) parts.push('closed');
    if (this.gotEnd) parts.push("got the peer's FIN");
    parts.push(`wrote ${this.out.writtenBytes} of ${this.out.plannedBytes}`, `read ${this.checker.readBytes}`);
    return parts.join(', ');
  }

  // ---------------------------------------------------------------- the script

  start(conn: Connection, now: number): void {
    this.conn = conn;
    this.startMs = now;
    this.lifetime.lastEventMs = now;
    const p = this.plan;
    if (this.role === 'server' && p.noDelay !== conn.config.noDelay) this.call(() => conn.setNoDelay(p.noDelay));
    this.scheduleMessage(0);
    this.scheduleDatagram(0);
    for (const pause of p.readPauses) this.at(pause.atMs, (t) => this.pauseStart(pause.forMs, pause.bytesPerTick, t));
    if (p.abortAtMs !== undefined) this.at(p.abortAtMs, (t) => this.plannedAbort(t));
    // Nothing to send at all: half-close at once.
    if (p.messages.length === 0) this.soak.sim.at(now, () => this.pump(now), this.ctx.host);
  }

  /** A scripted action at `offsetMs` after this side started; queued events are handled first. */
  private at(offsetMs: number, fn: (now: number) => void): void {
    this.soak.sim.at(
      this.startMs + offsetMs + this.soak.scheduleSkewMs,
      (now) => {
        this.soak.activity(this.ctx, now);
        if (this.appDone || this.soak.fatal) return;
        fn(now);
      },
      this.ctx.host,
    );
  }

  private scheduleMessage(i: number): void {
    const m = this.plan.messages[i];
    if (m === undefined) return;
    this.at(m.atMs, (now) => {
      this.due = i + 1;
      // Messages due at the same time go together.
      let j = i + 1;
      while (j < this.plan.messages.length && this.plan.messages[j]!.atMs === m.atMs) j++;
      this.due = j;
      this.pump(now);
      this.scheduleMessage(j);
    });
  }

  private scheduleDatagram(i: number): void {
    const d = this.plan.datagrams[i];
    if (d === undefined) return;
    this.at(d.atMs, (now) => {
      this.sendDatagram(d.bytes, now);
      this.scheduleDatagram(i + 1);
    });
  }

  /** Write what is due, as far as the send buffer takes it; half-close (or close) after the last message. */
  pump(now: number): void {
    const c = this.conn!;
    if (this.appDone || this.closedEvent || this.shutdownCalled || this.closeCalled || c.isClosed()) return;
    const scratch = this.soak.scratch;
    for (;;) {
      if (this.cur === undefined) {
        if (this.begun >= this.due) break;
        const total = HEADER_BYTES + this.plan.messages[this.begun]!.bytes;
        this.cur = { index: this.out.begin(total, now), total, off: 0 };
        this.begun++;
      }
      const cur = this.cur;
      const want = Math.min(this.plan.writeChunk, cur.total - cur.off, scratch.length);
      const chunk = scratch.subarray(0, want);
      this.out.fillMessage(cur.index, cur.off, chunk);
      const n = this.call(() => c.write(chunk));
      if (n === undefined) return;
      if (n > 0) {
        this.out.writtenHash.update(chunk.subarray(0, n));
        this.out.writtenBytes += n;
        cur.off += n;
      }
      if (cur.off === cur.total) this.cur = undefined;
      if (n < want) return; // 'writable' follows
    }
    if (this.begun === this.plan.messages.length && this.cur === undefined) this.finishWriting();
  }

  private finishWriting(): void {
    const c = this.conn!;
    this.out.finAtBytes = this.out.writtenBytes;
    if (this.plan.finish === 'close' && this.gotEnd && this.pauseDepth === 0 && c.readableBytes === 0) {
      this.closeCalled = true;
      this.call(() => c.close());
    } else {
      this.shutdownCalled = true;
      this.call(() => c.shutdown());
    }
  }

  private sendDatagram(bytes: number, now: number): void {
    const c = this.conn!;
    if (this.closedEvent || this.closeCalled || c.isClosed()) return;
    const size = Math.min(bytes, c.maxDatagramPayloadBytes);
    const index = this.dgram.sizes.length;
    const d = encodeDatagram(this.key, this.lifetime.plan.id, index, now, size);
    const ok = this.call(() => c.sendDatagram(d));
    if (ok) {
      this.dgram.sizes.push(size);
      this.dgram.sentAtMs.push(now);
    } else {
      this.dgramRefused++;
    }
  }

  private pauseStart(forMs: number, bytesPerTick: number | undefined, now: number): void {
    if (this.finished) return;
    this.pauseDepth++;
    if (bytesPerTick !== undefined) this.slowBytesPerTick = bytesPerTick;
    const until = now + forMs;
    if (this.slowBytesPerTick !== undefined) this.slowTick(until, now);
    this.soak.sim.at(until, (t) => {
      this.soak.activity(this.ctx, t);
      if (this.appDone || this.finished) return;
      this.pauseDepth--;
      if (this.pauseDepth === 0) {
        this.slowBytesPerTick = undefined;
        this.afterRead(t);
      }
    }, this.ctx.host);
  }

  private slowTick(until: number, now: number): void {
    const next = now + SLOW_READ_TICK_MS;
    if (next >= until) return;
    this.soak.sim.at(next, (t) => {
      this.soak.activity(this.ctx, t);
      if (this.appDone || this.finished || this.pauseDepth === 0 || this.slowBytesPerTick === undefined) return;
      this.readSome(this.slowBytesPerTick, t);
      this.slowTick(until, t);
    }, this.ctx.host);
  }

  private plannedAbort(now: number): void {
    if (this.finished || this.closedEvent || this.conn === undefined) return;
    this.lifetime.abortExecuted = true;
    this.lifetime.disturbed = true;
    this.abort(now);
  }

  /** The peer failed or aborted: wait a while for this side to notice on its own, then give up on it. */
  peerGone(now: number): void {
    if (this.conn === undefined || this.finished) return;
    this.soak.sim.at(now + this.soak.peerGoneMs, (t) => {
      this.soak.activity(this.ctx, t);
      if (!this.finished) this.giveUp(t);
    }, this.ctx.host);
  }

  /** Give up from outside this host's callbacks: as an input to the host, so its output and events are handled. */
  giveUpSoon(now: number): void {
    if (this.conn === undefined || this.finished) return;
    this.soak.sim.at(now, (t) => {
      this.soak.activity(this.ctx, t);
      this.giveUp(t);
    }, this.ctx.host);
  }

  giveUp(now: number): void {
    if (this.conn === undefined || this.finished) return;
    this.lifetime.disturbed = true;
    this.abort(now);
  }

  private abort(now: number): void {
    this.appDone = true;
    this.lifetime.lastEventMs = now;
    this.call(() => this.conn!.abort());
    this.takeStats();
    this.markFinished(now);
    this.peer.peerGone(now);
  }

  // ---------------------------------------------------------------- events

  onEvent(ev: EndpointEvent, now: number): void {
    const lt = this.lifetime;
    lt.lastEventMs = now;
    const soak = this.soak;
    if (this.appDone || this.closeCalled) {
      // After close() or abort() the only event left is one 'closed' (without an error after an abort).
      const allowed = ev.type === 'closed' && !this.closedEvent && !(this.appDone && ev.error !== undefined);
      if (!allowed) {
        const what = ev.type === 'datagram' ? `a ${ev.bytes.length}-byte datagram` : `'${ev.type}'${ev.type === 'closed' && ev.error ? ` (${ev.error.code})` : ''}`;
        soak.violation('after-close', now, lt, `${this.role}: ${what} delivered after the application ${this.appDone ? 'aborted' : 'closed'} the connection (${this.conn!.state})`);
        return;
      }
    }
    switch (ev.type) {
      case 'connected':
        this.deferPump(now);
        break;
      case 'writable':
        this.deferPump(now);
        break;
      case 'readable':
        if (this.gotEnd) soak.violation('event-order', now, lt, `${this.role}: 'readable' after 'end'`);
        this.readAfterEvent(now);
        break;
      case 'end':
        if (this.gotEnd) soak.violation('event-order', now, lt, `${this.role}: a second 'end'`);
        if (this.closedEvent) soak.violation('event-order', now, lt, `${this.role}: 'end' after 'closed'`);
        this.gotEnd = true;
        this.readAfterEvent(now);
        // A side that finished writing before the peer's FIN may now want to close fully.
        break;
      case 'datagram': {
        const peer = this.peer;
        const r = checkDatagram(ev.bytes, peer.key, lt.plan.id, peer.dgram);
        if (!r.ok) soak.violation('corrupt-datagram', now, lt, `${this.role}: ${r.message}`);
        else {
          this.dgramDelivered++;
          record(soak.result.datagramLatency, now - r.sentAtMs);
        }
        break;
      }
      case 'closed':
        this.onClosed(ev.error?.code, now);
        break;
      default:
        break;
    }
  }

  private deferPump(now: number): void {
    if (this.slowReaction(now, (t) => this.pump(t))) return;
    this.ctx.deferred.push(() => this.pump(now));
  }

  /** The application reads what an event made readable (unless a slow reader's pause holds it). */
  private readAfterEvent(now: number): void {
    if (this.pauseDepth > 0 || this.slowReaction(now, (t) => this.pauseDepth === 0 && this.afterRead(t))) return;
    this.afterRead(now);
  }

  /** Buggify: the application reacts `fn` some ms late, as a busy program does; false when it reacts now. */
  private slowReaction(now: number, fn: (t: number) => void): boolean {
    const b = this.soak.buggify;
    if (b === undefined || !b.fires('slow-reactions')) return false;
    this.soak.sim.at(now + b.delayMs('slow-reactions', 0.5, 300), (t) => {
      this.soak.activity(this.ctx, t);
      if (this.appDone || this.soak.fatal) return;
      fn(t);
    }, this.ctx.host);
    return true;
  }

  private onClosed(code: string | undefined, now: number): void {
    const soak = this.soak;
    const lt = this.lifetime;
    if (this.closedEvent) soak.violation('event-order', now, lt, `${this.role}: a second 'closed'`);
    this.closedEvent = true;
    this.takeStats();
    if (this.appDone) return; // our own abort's 'closed'
    if (code !== undefined) {
      this.error = code;
      const peerTimedOut = this.peer.error === 'ETIMEDOUT';
      if (code === 'ETIMEDOUT') lt.disturbed = true;
      else if (!lt.disturbed && !peerTimedOut) {
        soak.violation('unexpected-error', now, lt, `${this.role}: ${code} on a connection nobody aborted (${this.describeState()}; peer ${this.peer.describeState()})`);
      }
      this.peer.peerGone(now);
    } else if (!this.gotEnd) {
      soak.violation('event-order', now, lt, `${this.role}: closed without an error before the peer's FIN (${this.describeState()})`);
    }
    this.readAfterEvent(now);
  }

  // ---------------------------------------------------------------- reading

  /** Read everything available, then see whether the stream is complete and the side done. */
  private afterRead(now: number): void {
    if (this.oneByteReads(now)) return;
    this.readSome(Infinity, now);
    const c = this.conn!;
    if (this.gotEnd && c.readableBytes === 0 && !this.completeChecked) {
      this.completeChecked = true;
      const fin = this.peer.out.finAtBytes;
      const lt = this.lifetime;
      if (fin === undefined) this.soak.violation('event-order', now, lt, `${this.role}: 'end' but the peer never shut down`);
      else if (this.checker.violation !== undefined) {
        // Reported at the byte already.
      } else if (this.checker.readBytes !== fin) {
        this.soak.violation('incomplete-stream', now, lt, `${this.checker.name}: 'end' after ${this.checker.readBytes} of the ${fin} bytes written before the FIN`);
      } else {
        const written = this.peer.out.writtenHash.digest();
        const read = this.checker.readHash.digest();
        if (written !== read) this.soak.violation('corrupt-stream', now, lt, `${this.checker.name}: SHA-256 of the ${fin} bytes read is ${read}, of those written ${written}`);
      }
    }
    if (this.closedEvent && c.readableBytes === 0) {
      this.clean = this.error === undefined && this.completeChecked && !this.appDone;
      this.markFinished(now);
    }
  }

  /**
   * Buggify: the application reads one byte per turn for a while (the receive window reopens a byte at a time);
   * true while it does, with the next turn scheduled.
   */
  private oneByteReads(now: number): boolean {
    const b = this.soak.buggify;
    if (b === undefined) return false;
    if (this.conn!.readableBytes === 0) {
      this.oneByteTurns = 0;
      return false;
    }
    if (this.oneByteTurns === 0) {
      if (!b.fires('one-byte-reads')) return false;
      this.oneByteTurns = b.count('one-byte-reads', 1, 200);
    }
    this.oneByteTurns--;
    this.readSome(1, now);
    this.soak.sim.at(now, (t) => {
      this.soak.activity(this.ctx, t);
      if (this.appDone || this.soak.fatal || this.pauseDepth > 0) {
        this.oneByteTurns = 0;
        return;
      }
      this.afterRead(t);
    }, this.ctx.host);
    return true;
  }

  private readSome(maxBytes: number, now: number): void {
    const c = this.conn!;
    let left = maxBytes;
    while (left > 0) {
      const chunk = this.call(() => c.read(left === Infinity ? undefined : left));
      if (chunk === undefined || chunk.length === 0) return;
      left -= chunk.length;
      this.soak.bytesRead += chunk.length;
      const hadViolation = this.checker.violation !== undefined;
      if (!this.checker.check(chunk) && !hadViolation) {
        this.soak.violation('corrupt-stream', now, this.lifetime, this.checker.violation!.message);
      }
    }
  }

  private markFinished(now: number): void {
    if (this.finished) return;
    this.finished = true;
    const lt = this.lifetime;
    if (this.role === 'client') lt.soak.clientDone(lt, now);
    lt.soak.lifetimeMaybeDone(lt);
  }

  takeStats(): void {
    if (this.statsTaken || this.conn === undefined) return;
    this.statsTaken = true;
    const s = this.conn.stats();
    this.stats.sent = s.segmentsSent;
    this.stats.retransmitted = s.segmentsRetransmitted;
    this.stats.timeouts = s.timeouts;
    this.stats.zeroWindowProbes = s.zeroWindowProbes;
  }

  private call<T>(fn: () => T): T | undefined {
    return this.soak.coreCall(this.lifetime, fn);
  }
}

/** A simulated time or span in a violation message. */
export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

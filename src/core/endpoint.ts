// One UDP socket's worth of protocol: demultiplexes datagrams to connections by (peer address, UDP port,
// TCP ports), answers segments for no connection, owns the seeded PRNG, the event queue and the timer heap.
// Sans-IO: time comes in as an argument, datagrams and events go out through poll calls.
import { ENCAP_OVERHEAD_BYTES, resolveConfig, type ConnectionConfig } from './config.js';
import { connectionOffsets, endpointSecret, isnClock, keyedWords } from './secrets.js';
import { checkCookie, COOKIE_TICK_MS, decodeTsOptions, encodeTsOptions, makeCookie, MSS_TABLE } from './syn-cookies.js';
import { CHALLENGE_ACK_GLOBAL_PER_S, INVALID_ACK_GLOBAL_PER_S, PeerReplyLimiter, RST_GLOBAL_PER_S, RST_PER_PEER_PER_S, TokenBucket } from './reply-limits.js';
import { windowShiftFor } from './receive-window.js';
import { DEFAULT_PEER_MSS } from './handshake.js';
import type * as wire from './wire/index.js';

import { Connection, type ConnectionHost } from './connection.js';
import type { EndpointDropReason, DropCounts } from './drop-reason.js';
import type { EndpointSlot } from './connection-host.js';
import { CallError } from './errors.js';
import type { CallObserver, EndpointEvent, Remote, TraceHook, Transmit } from './events.js';
import { Prng } from '../util/prng.js';
import { seqAdd, seqGt } from './seq.js';
import { TimerHeap } from './timer-heap.js';
import { fieldsOf, fromPlain, numberOf, SnapshotError, toPlain, type Plain } from './snapshot.js';
import { Fifo } from '../util/fifo.js';
import { allocSegmentDatagram, checkEncapsulation, KIND_SEGMENT, parseDatagramBody, parseSegmentBody, sealDatagram } from './wire/encapsulation.js';
import { ACK, FIN, RST, SYN, type TcpSegment } from './wire/segment.js';

export interface EndpointOptions extends Partial<ConnectionConfig> {
  /** Seeds the endpoint's PRNG: ISNs, ephemeral ports, timestamp offsets. */
  seed: number;
  /**
   * The endpoint's secret (hex, at least 128 bits): keys ISNs and timestamp offsets (RFC 6528) and SYN cookies.
   * Real drivers pass 256 bits from a cryptographic source; without one it is derived from the seed, so the
   * simulator and replay stay deterministic (and predictable: never on a real network).
   */
  secret?: string;
  /** Test hook: every connection starts with this ISN instead of a random one. */
  fixedIsn?: number;
  /** Test hook: timestamps start from this offset instead of a random one (RFC 7323 5.4). */
  fixedTimestampOffset?: number;
  /** Receives typed trace events synchronously. */
  trace?: TraceHook;
  /**
   * Test-only planted bugs, so a test can check that the lab catches them. `corruptRetransmission: N` flips a
   * payload bit of this endpoint's Nth data retransmission (after which the stream is silently corrupt).
   */
  faults?: { corruptRetransmission?: number };
}

export interface ListenOptions extends Partial<ConnectionConfig> {
  /** Only this TCP port; absent: any port. */
  port?: number;
  /** Half-open connections (SYN-RECEIVED) kept at once; past it SYNs get SYN cookies ('auto') or are dropped. */
  backlog?: number;
  /**
   * SYN cookies (RFC 4987): 'auto' (the default) past the backlog, 'always' for every SYN (no state before the
   * handshake completes), 'never' (SYNs past the backlog are dropped and counted).
   */
  synCookies?: 'auto' | 'always' | 'never';
}

export interface ConnectOptions extends Partial<ConnectionConfig> {
  /** TCP destination port; defaults to the remote UDP port. */
  port?: number;
}

/** What Endpoint.snapshot() returns: plain data, safe to JSON.stringify and to store. */
export interface EndpointSnapshot {
  version: number;
  options: Plain;
  prng: number[];
  nextConnectionId: number;
  retransmissionsSeen: number;
  counters: { datagramsReceived: number; datagramsSent: number; resetsSent: number };
  drops: Record<string, number>;
  listeners: Plain[];
  halfOpen: Plain[];
  connections: Plain[];
  /** Closed connections the endpoint no longer holds but queued events or the transmit queue still name. */
  forgotten?: Plain[];
  pending: number[];
  burst: number;
  /** The timer heap in its order: [connection id, deadline reported to the heap]. */
  heap: Array<[number, Plain]>;
  events: Plain[];
  control: Plain[];
  /** The limits on replies to what may be forged. */
  replyLimits: Plain;
}

/** 2: every mechanism saves its own state explicitly (1 copied fields by reflection); 3: SYN cookies, reply limits. */
const SNAPSHOT_VERSION = 3;

export interface EndpointStats {
  connections: number;
  datagramsReceived: number;
  datagramsSent: number;
  /** Datagrams dropped before reaching a connection, by reason. */
  drops: DropCounts<EndpointDropReason>;
  resetsSent: number;
  /** SYN-ACKs sent with a cookie, and connections built from a returned cookie. */
  synCookiesSent: number;
  synCookiesAccepted: number;
}

interface Listener {
  config: ConnectionConfig;
  backlog: number;
  cookies: 'auto' | 'always' | 'never';
  /** When this listener last sent a cookie: returned cookies are only looked at for two ticks after. */
  lastCookieMs: number;
  /** Connections in SYN-RECEIVED, oldest first. */
  halfOpen: Set<Connection>;
}

/** Everything reachable at one UDP address: its connections keyed by localPort * 65536 + remotePort. */
interface Peer {
  remote: Remote;
  connections: Map<number, Connection>;
}

const EPHEMERAL_LOW = 49152;
const EPHEMERAL_HIGH = 65535;
const DEFAULT_BACKLOG = 128;
/** Datagrams one connection may send in a row before the next connection's turn. */
const BURST = 16;

export class Endpoint {
  private readonly prng: Prng;
  /** The configuration the endpoint was given (explicit fields only): a listener's or connection's own
   * profile must start from that profile's defaults, not from the endpoint's resolved ones. */
  private readonly baseOverrides: Partial<ConnectionConfig>;
  private readonly options: EndpointOptions;
  private readonly peers = new Map<string, Map<number, Peer>>();
  private readonly listeners = new Map<number, Listener>();
  private anyListener: Listener | undefined;
  private readonly halfOpenOf = new WeakMap<Connection, Listener>();
  private readonly events: EndpointEvent[] = [];
  private eventHead = 0;
  private readonly control: Transmit[] = [];
  /** Connections that may have something to send, in turn (a flag on each keeps it in the queue once). */
  private readonly pending = new Fifo<Connection>();
  /** Datagrams the connection at the head has sent in a row; after BURST it goes to the back. */
  private burst = 0;
  /** Connections whose deadlines changed since the heap was last updated. */
  private timerDirty: Connection[] = [];
  private readonly heap = new TimerHeap<EndpointSlot>();
  /** The peer of the last peerFor() (see there); dropped when that peer is forgotten. */
  private lastPeer: Peer | undefined;
  private nextConnectionId = 1;
  private retransmissionsSeen = 0;
  private connectionCount = 0;
  private readonly counters = { datagramsReceived: 0, datagramsSent: 0, resetsSent: 0, synCookiesSent: 0, synCookiesAccepted: 0 };
  private readonly secret: Uint8Array;
  /** Replies to input that may be forged (reply-limits.ts). */
  private readonly rstLimiter: PeerReplyLimiter;
  private readonly invalidAckBucket = new TokenBucket(INVALID_ACK_GLOBAL_PER_S, INVALID_ACK_GLOBAL_PER_S);
  private readonly challengeBucket = new TokenBucket(CHALLENGE_ACK_GLOBAL_PER_S, CHALLENGE_ACK_GLOBAL_PER_S);
  private readonly drops: DropCounts<EndpointDropReason> = {};
  private readonly host: ConnectionHost;

  constructor(options: EndpointOptions) {
    if (!Number.isFinite(options.seed)) throw new TypeError('Endpoint needs a numeric seed');
    this.options = options;
    this.prng = new Prng(options.seed);
    const { seed: _s, secret: _k, fixedIsn: _i, fixedTimestampOffset: _t, trace: _tr, faults: _f, ...config } = options;
    resolveConfig(config); // validates
    this.baseOverrides = config;
    this.secret = endpointSecret(options.secret, options.seed);
    this.rstLimiter = new PeerReplyLimiter(RST_PER_PEER_PER_S, RST_GLOBAL_PER_S, keyedWords(this.secret, new Uint8Array([3]))[0]);
    // Plain fields, not getters: connections read trace and calls on every segment and call.
    this.host = {
      emit: (event) => this.events.push(event),
      sendControl: (remote, bytes) => {
        this.counters.resetsSent++;
        this.control.push({ remote, bytes });
      },
      wantsTransmit: (conn) => this.queueTransmit(conn),
      timersChanged: (conn) => this.markTimers(conn),
      closed: (conn) => this.forget(conn),
      corruptRetransmission: () => {
        const n = this.options.faults?.corruptRetransmission;
        if (n === undefined) return false;
        return ++this.retransmissionsSeen === n;
      },
      trace: options.trace,
      calls: undefined,
      allowReply: (kind, nowMs) => (kind === 'challenge' ? this.challengeBucket : this.invalidAckBucket).take(nowMs),
    };
  }

  /** Wrap every application call on this endpoint's connections from now on (the replay recorder); undefined stops. */
  observeCalls(observer: CallObserver | undefined): void {
    this.host.calls = observer;
  }

  /** Accept incoming connections: on one TCP port, or on any when no port is given. */
  listen(opts: ListenOptions = {}): void {
    const { port, backlog, synCookies, ...overrides } = opts;
    const cookies = synCookies ?? 'auto';
    if (cookies !== 'auto' && cookies !== 'always' && cookies !== 'never') throw new RangeError(`synCookies must be 'auto', 'always' or 'never', got ${String(cookies)}`);
    const listener: Listener = { config: resolveConfig(this.baseOverrides, overrides), backlog: backlog ?? DEFAULT_BACKLOG, cookies, lastCookieMs: -Infinity, halfOpen: new Set() };
    if (port === undefined) this.anyListener = listener;
    else {
      checkPort(port);
      this.listeners.set(port, listener);
    }
  }

  /** Stop accepting (existing connections are unaffected). */
  unlisten(port?: number): void {
    if (port === undefined) this.anyListener = undefined;
    else this.listeners.delete(port);
  }

  /** Active open towards a peer's UDP address; the SYN leaves on the next pollTransmit. */
  connect(nowMs: number, remote: Remote, opts: ConnectOptions = {}): Connection {
    const { port, ...overrides } = opts;
    const remotePort = port ?? remote.port;
    checkPort(remotePort);
    checkPort(remote.port);
    const config = resolveConfig(this.baseOverrides, overrides);
    const peer = this.peerFor(remote, true)!;
    const localPort = this.ephemeralPort(peer, remotePort);
    const conn = this.createConnection(nowMs, peer, localPort, remotePort, config, true);
    conn.openActive(nowMs);
    this.markTimers(conn);
    return conn;
  }

  /**
   * One received UDP payload. Never throws on bad input: drops are counted by reason. The endpoint may keep
   * views of `bytes` (in-order data is not copied), so the caller must not modify them afterwards.
   */
  handleDatagram(nowMs: number, remote: Remote, bytes: Uint8Array): void {
    this.counters.datagramsReceived++;
    const kind = checkEncapsulation(bytes);
    if (typeof kind === 'string') {
      this.countDrop(kind, nowMs, remote);
      return;
    }
    if (kind === KIND_SEGMENT) {
      const seg = parseSegmentBody(bytes);
      if (typeof seg === 'string') this.countDrop(seg, nowMs, remote);
      else this.handleSegment(nowMs, remote, seg, bytes.length);
      return;
    }
    const d = parseDatagramBody(bytes);
    if (typeof d === 'string') this.countDrop(d, nowMs, remote);
    else {
      const conn = this.peerFor(remote, false)?.connections.get(d.dstPort * 65536 + d.srcPort);
      if (conn === undefined) this.countDrop('datagram-no-connection', nowMs, remote);
      else conn.receiveDatagram(d.payload);
    }
  }

  private handleSegment(nowMs: number, remote: Remote, seg: TcpSegment, datagramBytes: number): void {
    const peer = this.peerFor(remote, false);
    const key = seg.dstPort * 65536 + seg.srcPort;
    let conn = peer?.connections.get(key);
    // RFC 9293 3.6.1 / RFC 6191: a new SYN may reuse a port pair in TIME-WAIT if it is beyond the old one.
    if (conn !== undefined && conn.state === 'TIME-WAIT' && seg.flags & SYN && !(seg.flags & ACK) && seqGt(seg.seq, conn.rcvNxt)) {
      conn.enterClosed(undefined);
      conn = undefined;
    }
    if (conn !== undefined) {
      const wasHalfOpen = conn.state === 'SYN-RECEIVED';
      if (wasHalfOpen) conn.handshake.onUnvalidatedInput(datagramBytes);
      conn.handleSegment(nowMs, seg);
      if (wasHalfOpen && conn.state !== 'SYN-RECEIVED') this.releaseHalfOpen(conn);
      return;
    }
    const listener = this.listeners.get(seg.dstPort) ?? this.anyListener;
    const flags = seg.flags;
    if (listener !== undefined && (flags & (SYN | ACK | RST)) === ACK && nowMs - listener.lastCookieMs < 2 * COOKIE_TICK_MS && this.acceptCookie(nowMs, remote, seg, listener)) return;
    if (listener === undefined || !(flags & SYN) || flags & (ACK | RST)) {
      this.answerNoConnection(nowMs, remote, seg, listener !== undefined);
      return;
    }
    // RFC 9293 3.10.7.2: a SYN to a listener creates a connection in SYN-RECEIVED, unless cookies answer it.
    // No half-open connection is ever evicted: a client that got our SYN-ACK must find it honoured.
    const full = listener.halfOpen.size >= listener.backlog;
    if (listener.cookies === 'always' || (full && listener.cookies === 'auto')) {
      this.sendCookieSynAck(nowMs, remote, seg, listener, datagramBytes);
      return;
    }
    if (full) {
      this.countDrop('backlog-full', nowMs, remote);
      return;
    }
    const p = peer ?? this.peerFor(remote, true)!;
    conn = this.createConnection(nowMs, p, seg.dstPort, seg.srcPort, listener.config, false);
    listener.halfOpen.add(conn);
    this.halfOpenOf.set(conn, listener);
    conn.openPassive(nowMs, seg, datagramBytes);
    this.markTimers(conn);
  }

  /** A stateless SYN-ACK whose ISN is a cookie (syn-cookies.ts); never larger than the SYN (1x, RFC 9000 8's idea). */
  private sendCookieSynAck(nowMs: number, remote: Remote, seg: TcpSegment, listener: Listener, synBytes: number): void {
    const c = listener.config;
    const o = seg.options;
    const peerMss = o.mss !== undefined && o.mss > 0 ? o.mss : DEFAULT_PEER_MSS;
    const iss = makeCookie(this.secret, nowMs, remote, seg.dstPort, seg.srcPort, seg.seq, peerMss);
    const options: wire.TcpOptions = {};
    // Only what the SYN offered is answered (RFC 7323 1.3, RFC 2018 2), the MSS included.
    if (o.mss !== undefined) options.mss = Math.min(c.maxDatagramBytes - ENCAP_OVERHEAD_BYTES - 20, MSS_TABLE[MSS_TABLE.length - 1]!);
    if (c.sack && o.sackPermitted === true) options.sackPermitted = true;
    const ws = c.windowScaling && o.windowScale !== undefined;
    if (ws) options.windowScale = windowShiftFor(c.receiveBufferBytes);
    if (c.timestamps && o.timestamp !== undefined) {
      const { tsOffset } = connectionOffsets(this.secret, remote, seg.dstPort, seg.srcPort);
      const tsVal = encodeTsOptions((Math.floor(nowMs) + tsOffset) >>> 0, { windowScale: ws ? o.windowScale : undefined, sackPermitted: options.sackPermitted === true });
      options.timestamp = { value: tsVal, echo: o.timestamp.value };
    }
    const bytes = allocSegmentDatagram(
      { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: iss, ack: seqAdd(seg.seq, 1), flags: SYN | ACK, window: Math.min(c.receiveBufferBytes, 65535), checksum: 0, urgentPointer: 0, options },
      0,
    );
    sealDatagram(bytes);
    if (bytes.length > synBytes) {
      this.countDrop('amplification-limited', nowMs, remote);
      return;
    }
    listener.lastCookieMs = nowMs;
    this.counters.synCookiesSent++;
    this.control.push({ remote: { address: remote.address, port: remote.port }, bytes });
  }

  /** An ACK for no connection that may return a cookie: true when it did and the connection now exists. */
  private acceptCookie(nowMs: number, remote: Remote, seg: TcpSegment, listener: Listener): boolean {
    const iss = seqAdd(seg.ack, -1);
    const peerIsn = seqAdd(seg.seq, -1);
    const peerMss = checkCookie(this.secret, nowMs, iss, remote, seg.dstPort, seg.srcPort, peerIsn);
    if (peerMss === undefined) {
      this.countDrop('bad-cookie', nowMs, remote);
      return false;
    }
    const ts = seg.options.timestamp;
    const c = listener.config;
    const options = ts !== undefined && c.timestamps ? decodeTsOptions(ts.echo) : { windowScale: undefined, sackPermitted: false };
    const p = this.peerFor(remote, true)!;
    const conn = this.createConnection(nowMs, p, seg.dstPort, seg.srcPort, c, false, iss);
    conn.openFromCookie(nowMs, peerIsn, peerMss, options, ts !== undefined && c.timestamps ? ts.value : undefined, Math.min(c.receiveBufferBytes, 65535));
    this.counters.synCookiesAccepted++;
    conn.handleSegment(nowMs, seg);
    this.markTimers(conn);
    return true;
  }

  /** RFC 9293 3.10.7.1 (CLOSED) and 3.10.7.2 (LISTEN): reset what has no connection, ignore RSTs. */
  private answerNoConnection(nowMs: number, remote: Remote, seg: TcpSegment, listening: boolean): void {
    const flags = seg.flags;
    if (flags & RST) {
      this.countDrop('rst-no-connection', nowMs, remote);
      return;
    }
    this.countDrop(listening ? 'not-syn-to-listener' : 'no-connection', nowMs, remote);
    // RFC 5961 10 / Linux: RSTs to what may be forged are limited per peer and in all.
    if (!this.rstLimiter.allow(nowMs, remote.address)) {
      this.countDrop('rst-rate-limited', nowMs, remote);
      return;
    }
    let seq = 0;
    let ack = 0;
    let out = RST;
    if (flags & ACK) seq = seg.ack;
    else {
      ack = seqAdd(seg.seq, seg.payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0));
      out |= ACK;
    }
    const bytes = allocSegmentDatagram(
      { srcPort: seg.dstPort, dstPort: seg.srcPort, seq, ack, flags: out, window: 0, checksum: 0, urgentPointer: 0, options: {} },
      0,
    );
    sealDatagram(bytes);
    this.counters.resetsSent++;
    this.control.push({ remote: { address: remote.address, port: remote.port }, bytes });
  }

  /** The next datagram to send, or undefined when there is nothing to send now. */
  pollTransmit(nowMs: number): Transmit | undefined {
    if (this.control.length > 0) {
      this.counters.datagramsSent++;
      return this.control.shift();
    }
    for (let conn = this.pending.peek(); conn !== undefined; conn = this.pending.peek()) {
      // Cleared first, so a connection that asks again while being polled is queued again, not lost.
      const slot = conn.slot;
      slot.queuedForTransmit = false;
      const bytes = conn.pollTransmit(nowMs);
      this.markTimers(conn);
      if (bytes === undefined) {
        this.pending.shift();
        this.burst = 0;
      } else if (slot.queuedForTransmit) {
        // Queued again behind: this entry is done.
        this.pending.shift();
        this.burst = 0;
      } else if (++this.burst >= BURST) {
        // Round-robin between connections that have more to send.
        this.pending.shift();
        this.queueTransmit(conn);
        this.burst = 0;
      } else {
        slot.queuedForTransmit = true;
      }
      if (this.control.length > 0) {
        // The connection reset itself while deciding what to send; the RST goes first.
        if (bytes !== undefined) this.control.push({ remote: conn.remote, bytes });
        this.counters.datagramsSent++;
        return this.control.shift();
      }
      if (bytes !== undefined) {
        this.counters.datagramsSent++;
        return { remote: conn.remote, bytes };
      }
    }
    return undefined;
  }

  /** The earliest deadline (absolute ms), or undefined when no timer is armed. */
  pollTimeoutMs(): number | undefined {
    this.flushTimers();
    const top = this.heap.peek();
    return top === undefined ? undefined : top.heapDeadlineMs;
  }

  /** Fire every timer whose deadline is at or before nowMs. */
  handleTimeout(nowMs: number): void {
    this.flushTimers();
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.heapDeadlineMs > nowMs) return;
      const conn = top.connection;
      conn.handleTimeout(nowMs);
      const next = conn.state === 'CLOSED' ? Infinity : conn.nextDeadlineMs();
      this.heap.update(top, next);
      // A timer re-armed at or before now fires on the next call instead of spinning here.
      if (next <= nowMs) return;
    }
  }

  /** Whether pollEvent() has something (drivers loop on it without taking the event). */
  hasEvents(): boolean {
    return this.eventHead < this.events.length;
  }

  /** The next event, or undefined. */
  pollEvent(): EndpointEvent | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const ev = this.events[this.eventHead++];
    if (this.eventHead > 1024 && this.eventHead * 2 > this.events.length) {
      this.events.splice(0, this.eventHead);
      this.eventHead = 0;
    }
    return ev;
  }

  /** Every connection the endpoint holds (TIME-WAIT included). */
  *connections(): IterableIterator<Connection> {
    for (const byPort of this.peers.values()) for (const peer of byPort.values()) yield* peer.connections.values();
  }

  stats(): EndpointStats {
    return { connections: this.connectionCount, ...this.counters, drops: { ...this.drops } };
  }

  /** The PRNG's state (for snapshots). */
  randomState(): number[] {
    return this.prng.getState();
  }

  /**
   * The full state as plain, JSON-serializable data: configuration, random source, listeners, every
   * connection (buffers, timers, congestion and RTT state), queued events and datagrams, and the order of the
   * transmit queue and timer heap (so a restored endpoint produces exactly the outputs this one would).
   */
  snapshot(): EndpointSnapshot {
    this.flushTimers();
    const { trace: _t, ...options } = this.options;
    const conns = [...this.connections()];
    // Connections already forgotten (CLOSED) may still be named by queued events: they travel too.
    const live = new Set(conns);
    const forgotten: Connection[] = [];
    const keep = (c: Connection) => {
      if (!live.has(c) && !forgotten.includes(c)) forgotten.push(c);
    };
    for (let i = this.eventHead; i < this.events.length; i++) keep(this.events[i]!.connection);
    // A connection that closed while queued to transmit stays in the queue until polled (it then sends nothing).
    for (const c of this.pending.toArray()) if (c.slot.queuedForTransmit) keep(c);
    const listeners: Plain[] = [];
    const saveListener = (port: number | null, l: Listener): Plain => ({ port, config: toPlain(l.config), backlog: l.backlog, cookies: l.cookies, lastCookieMs: toPlain(l.lastCookieMs) });
    for (const [port, l] of this.listeners) listeners.push(saveListener(port, l));
    if (this.anyListener) listeners.push(saveListener(null, this.anyListener));
    const half: Plain[] = [];
    for (const c of conns) {
      const l = this.halfOpenOf.get(c);
      if (l !== undefined) half.push([c.id, l === this.anyListener ? null : c.localPort]);
    }
    return {
      version: SNAPSHOT_VERSION,
      options: toPlain(options),
      prng: this.prng.getState(),
      nextConnectionId: this.nextConnectionId,
      retransmissionsSeen: this.retransmissionsSeen,
      counters: { ...this.counters },
      drops: { ...this.drops },
      listeners,
      halfOpen: half,
      connections: conns.map((c) => c.snapshot()),
      forgotten: forgotten.map((c) => c.snapshot()),
      pending: this.pending.toArray().filter((c) => c.slot.queuedForTransmit).map((c) => c.id),
      burst: this.burst,
      heap: this.heap.order().map((slot) => [slot.id, toPlain(slot.heapDeadlineMs)]),
      events: this.events.slice(this.eventHead).map((e) => toPlain({ ...e, connection: e.connection.id })),
      control: this.control.map((t) => toPlain(t)),
      replyLimits: { rst: this.rstLimiter.save(), invalidAck: this.invalidAckBucket.save(), challenge: this.challengeBucket.save() },
    };
  }

  /** An endpoint rebuilt from snapshot(); it continues exactly where the snapshotted one stood. */
  static restore(snapshot: EndpointSnapshot, extra: { trace?: TraceHook } = {}): Endpoint {
    if (snapshot?.version !== SNAPSHOT_VERSION) {
      throw new SnapshotError(`snapshot version ${String(snapshot?.version)} cannot be restored: this stevens reads version ${SNAPSHOT_VERSION} only (take the snapshot again, or replay the log from its start)`);
    }
    const options = fromPlain(snapshot.options) as EndpointOptions;
    const ep = new Endpoint({ ...options, ...extra });
    ep.prng.setState(snapshot.prng);
    ep.nextConnectionId = snapshot.nextConnectionId;
    ep.retransmissionsSeen = snapshot.retransmissionsSeen;
    Object.assign(ep.counters, snapshot.counters);
    Object.assign(ep.drops, snapshot.drops);
    const byId = new Map<number, Connection>();
    for (const plain of snapshot.connections) {
      const conn = Connection.restore(ep.host, plain);
      byId.set(conn.id, conn);
      const peer = ep.peerFor(conn.remote, true)!;
      peer.connections.set(conn.localPort * 65536 + conn.remotePort, conn);
      ep.connectionCount++;
    }
    for (const plain of snapshot.forgotten ?? []) {
      const conn = Connection.restore(ep.host, plain);
      byId.set(conn.id, conn);
    }
    const known = (id: number): Connection => {
      const c = byId.get(id);
      if (c === undefined) throw new SnapshotError(`snapshot: connection ${id} is named but not saved`);
      return c;
    };
    for (const l of snapshot.listeners as Array<{ port: number | null; config: Plain; backlog: number }>) {
      const f = fieldsOf(l as unknown as Plain, 'listener');
      const cookies = f.cookies as Listener['cookies'];
      const listener: Listener = { config: fromPlain(l.config) as ConnectionConfig, backlog: l.backlog, cookies, lastCookieMs: numberOf(f, 'lastCookieMs'), halfOpen: new Set() };
      if (l.port === null) ep.anyListener = listener;
      else ep.listeners.set(l.port, listener);
    }
    for (const [id, port] of snapshot.halfOpen as Array<[number, number | null]>) {
      const conn = known(id);
      const listener = port === null ? ep.anyListener! : ep.listeners.get(port)!;
      listener.halfOpen.add(conn);
      ep.halfOpenOf.set(conn, listener);
    }
    for (const id of snapshot.pending) {
      const conn = known(id);
      conn.slot.queuedForTransmit = true;
      ep.pending.push(conn);
    }
    ep.burst = snapshot.burst;
    ep.heap.restoreOrder(
      snapshot.heap.map(([id, deadline]) => {
        const slot = known(id).slot;
        slot.heapDeadlineMs = fromPlain(deadline) as number;
        return slot;
      }),
    );
    for (const e of snapshot.events) {
      const ev = fromPlain(e) as Record<string, unknown>;
      ep.events.push({ ...ev, connection: known(ev.connection as number) } as EndpointEvent);
    }
    for (const t of snapshot.control) ep.control.push(fromPlain(t) as Transmit);
    const r = fieldsOf(snapshot.replyLimits, 'reply limits');
    ep.rstLimiter.restore(r.rst ?? null);
    ep.invalidAckBucket.restore(r.invalidAck ?? null);
    ep.challengeBucket.restore(r.challenge ?? null);
    return ep;
  }

  // ------------------------------------------------------------------ internals

  private createConnection(nowMs: number, peer: Peer, localPort: number, remotePort: number, config: ConnectionConfig, active: boolean, cookieIss?: number): Connection {
    // RFC 6528: a 4 us clock plus a keyed hash of the connection's addresses and ports; the timestamp offset too.
    const f = connectionOffsets(this.secret, peer.remote, localPort, remotePort);
    const isn = cookieIss ?? this.options.fixedIsn ?? (isnClock(nowMs) + f.isnOffset) >>> 0;
    const tsOffset = this.options.fixedTimestampOffset ?? f.tsOffset;
    const conn = new Connection(this.host, this.nextConnectionId++, peer.remote, localPort, remotePort, config, isn, tsOffset, active);
    peer.connections.set(localPort * 65536 + remotePort, conn);
    this.connectionCount++;
    return conn;
  }

  private forget(conn: Connection): void {
    this.releaseHalfOpen(conn);
    const byPort = this.peers.get(conn.remote.address);
    const peer = byPort?.get(conn.remote.port);
    if (peer !== undefined && peer.connections.get(conn.localPort * 65536 + conn.remotePort) === conn) {
      peer.connections.delete(conn.localPort * 65536 + conn.remotePort);
      this.connectionCount--;
      if (peer.connections.size === 0) {
        if (this.lastPeer === peer) this.lastPeer = undefined;
        byPort!.delete(conn.remote.port);
        if (byPort!.size === 0) this.peers.delete(conn.remote.address);
      }
    }
    this.heap.remove(conn.slot);
  }

  private releaseHalfOpen(conn: Connection): void {
    const l = this.halfOpenOf.get(conn);
    if (l !== undefined) {
      l.halfOpen.delete(conn);
      this.halfOpenOf.delete(conn);
    }
  }

  private flushTimers(): void {
    const dirty = this.timerDirty;
    if (dirty.length === 0) return;
    for (let i = 0; i < dirty.length; i++) {
      const conn = dirty[i]!;
      conn.slot.queuedForTimers = false;
      this.heap.update(conn.slot, conn.state === 'CLOSED' ? Infinity : conn.nextDeadlineMs());
    }
    dirty.length = 0;
  }

  private markTimers(conn: Connection): void {
    const slot = conn.slot;
    if (slot.queuedForTimers) return;
    slot.queuedForTimers = true;
    this.timerDirty.push(conn);
  }

  private queueTransmit(conn: Connection): void {
    const slot = conn.slot;
    if (slot.queuedForTransmit) return;
    slot.queuedForTransmit = true;
    this.pending.push(conn);
  }

  private peerFor(remote: Remote, create: boolean): Peer | undefined {
    // Drivers hand over a fresh address string per datagram, and hashing it for the Map costs more than
    // comparing it with the last peer's (consecutive datagrams mostly come from one peer).
    const last = this.lastPeer;
    if (last !== undefined && last.remote.port === remote.port && last.remote.address === remote.address) return last;
    const peer = this.lookupPeer(remote, create);
    if (peer !== undefined) this.lastPeer = peer;
    return peer;
  }

  private lookupPeer(remote: Remote, create: boolean): Peer | undefined {
    let byPort = this.peers.get(remote.address);
    let peer = byPort?.get(remote.port);
    if (peer !== undefined || !create) return peer;
    if (byPort === undefined) {
      byPort = new Map();
      this.peers.set(remote.address, byPort);
    }
    peer = { remote: { address: remote.address, port: remote.port }, connections: new Map() };
    byPort.set(remote.port, peer);
    return peer;
  }

  private ephemeralPort(peer: Peer, remotePort: number): number {
    for (let i = 0; i < 64; i++) {
      const p = this.prng.intBetween(EPHEMERAL_LOW, EPHEMERAL_HIGH);
      if (!peer.connections.has(p * 65536 + remotePort)) return p;
    }
    for (let p = EPHEMERAL_LOW; p <= EPHEMERAL_HIGH; p++) if (!peer.connections.has(p * 65536 + remotePort)) return p;
    throw new CallError('EADDRINUSE', 'EADDRINUSE: no free ephemeral port towards this peer');
  }

  private countDrop(reason: EndpointDropReason, nowMs: number, remote?: Remote): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.options.trace?.(remote ? { type: 'drop', atMs: nowMs, reason, remote: { address: remote.address, port: remote.port } } : { type: 'drop', atMs: nowMs, reason });
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be an integer in [1, 65535], got ${port}`);
}

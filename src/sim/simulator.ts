// The discrete-event engine: virtual time, one agenda (a binary heap ordered by time, then insertion), hosts
// running sans-IO nodes, links carrying their datagrams. Deterministic from one seed: each link draws from its
// own stream seeded by the simulator's seed and the link's name, so adding a link perturbs no other. No clock,
// no sleeping, no Math.random: a run goes as fast as the nodes compute.
//
// Driving a node as a socket driver would: after every input (a datagram delivered, its timers fired, a call
// scheduled for it) the host's activity hook runs, then the node's output is drained with pollTransmit and each
// datagram routed onto the link towards the host owning its destination address and port, then the node's
// deadline is read. Each host has at most one live timer event; a deadline moving later keeps the event, which on
// firing finds nothing due and re-arms (no heap churn per ACK); a deadline moving earlier supersedes it.
import type { Remote } from '../core/index.js';
import { EventQueue, type QueuedEvent } from './event-queue.js';
import { autoAddresses, DEFAULT_PORT, Host, isIpv6, type HeldDatagram, normalizeIpv4, normalizeIpv6, type ActivityHook, type HostOptions, type SimHost } from './host.js';
import { COPY_CORRUPTED, COPY_DUPLICATE, COPY_TRUNCATED, Link, linkSeed, type LinkWorld, type PacketEvent, type SimLink } from './link.js';
import type { LinkConfig, NetworkProfile, TimeWindow } from './link-config.js';
import type { SansIoNode } from './seam.js';
import type { Buggify } from './buggify.js';

const DELIVER = 0;
const TIMER = 1;
const CALL = 2;
const CHANGE = 3;
/** Buggify's datagram burst: the datagrams held for a host are handed over now, in one turn. */
const BURST = 4;

/** Events at one instant beyond which a run is declared stuck (a node re-arming a due timer forever). */
const STUCK_EVENTS = 10_000_000;

/** One entry of the agenda; a single shape for every kind, so the heap stays monomorphic. */
class SimEvent implements QueuedEvent {
  seq = 0;
  constructor(
    public atMs: number,
    public kind: number,
    public host: Host | undefined,
    public link: Link | undefined,
    public from: Remote | undefined,
    public to: Remote | undefined,
    public bytes: Uint8Array | undefined,
    public fn: ((nowMs: number) => void) | undefined,
    /** TIMER: the host's timer generation. DELIVER: copy flags. CHANGE: schedule index. */
    public n: number,
    /** CHANGE: schedule generation. */
    public m: number,
  ) {}
}

export class Simulator implements LinkWorld {
  readonly seed: number;
  readonly hosts: SimHost[] = [];
  readonly links: SimLink[] = [];
  /** Per sending host, a pseudo-link ('name->?', from and to the sender) counting datagrams with no route. */
  readonly unrouted: SimLink[] = [];
  /** Events handled (stale timer events excluded). */
  eventsProcessed = 0;
  /** Sees every datagram entering a link, every copy delivered, every drop. */
  onPacket: ((ev: PacketEvent) => void) | undefined = undefined;

  private now = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly hostList: Host[] = [];
  private readonly byName = new Map<string, Host>();
  /** address -> port -> host. IPv6 addresses lowercased. */
  private readonly byAddress = new Map<string, Map<number, Host>>();
  /** Partition windows per unordered host pair, shared by the links of both directions. */
  private readonly pairWindows = new Map<string, TimeWindow[]>();
  private autoAddressed = 0;
  private running = false;

  /** Perturbations of how hosts are driven (late timers, datagram bursts); absent: none, and nothing drawn. */
  readonly buggify: Buggify | undefined;

  constructor(opts: { seed: number; buggify?: Buggify }) {
    if (!Number.isFinite(opts?.seed)) throw new TypeError('Simulator needs a numeric seed');
    this.seed = opts.seed;
    this.buggify = opts.buggify;
  }

  get nowMs(): number {
    return this.now;
  }

  /** Events waiting in the agenda (stale timer events included). */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /**
   * A host running `node`. Without ipv4 and ipv6 it gets one of each (198.18.0.0/15 and 2001:db8::/32).
   * `onActivity` runs after every input to the node and before its output is drained.
   */
  addHost(opts: HostOptions, node: SansIoNode, onActivity?: ActivityHook): SimHost {
    const name = opts.name;
    if (typeof name !== 'string' || name === '') throw new TypeError('a host needs a name');
    if (this.byName.has(name)) throw new Error(`a host named ${name} exists already`);
    const port = opts.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`host ${name}: port must be an integer in [1, 65535], got ${port}`);
    let v4: string | undefined;
    let v6: string | undefined;
    if (opts.ipv4 === undefined && opts.ipv6 === undefined) {
      do {
        ({ ipv4: v4, ipv6: v6 } = autoAddresses(this.autoAddressed++));
      } while (this.owner(v4, port) !== undefined || this.owner(v6, port) !== undefined);
    } else {
      if (opts.ipv4 !== undefined) {
        v4 = normalizeIpv4(opts.ipv4);
        if (v4 === undefined) throw new RangeError(`host ${name}: ipv4 must be a dotted quad, got ${JSON.stringify(opts.ipv4)}`);
      }
      if (opts.ipv6 !== undefined) {
        v6 = normalizeIpv6(opts.ipv6);
        if (v6 === undefined) throw new RangeError(`host ${name}: ipv6 must be an IPv6 address, got ${JSON.stringify(opts.ipv6)}`);
      }
    }
    for (const a of [v4, v6]) {
      const taken = a === undefined ? undefined : this.owner(a, port);
      if (taken !== undefined) throw new Error(`host ${name}: ${a} port ${port} belongs to host ${taken.name}`);
    }
    const remote = (address: string | undefined) => (address === undefined ? undefined : Object.freeze({ address, port }));
    const host = new Host(this.hostList.length, name, node, remote(v4), remote(v6), onActivity);
    for (const a of host.addresses) {
      let ports = this.byAddress.get(a.address);
      if (ports === undefined) this.byAddress.set(a.address, (ports = new Map()));
      ports.set(port, host);
    }
    this.byName.set(name, host);
    this.hostList.push(host);
    this.hosts.push(host);
    this.forgetRoutes();
    return host;
  }

  /** Links a -> b (ab) and b -> a (ba, by default the same parameters). */
  connect(a: SimHost, b: SimHost, ab: LinkConfig, ba: LinkConfig = ab): [SimLink, SimLink] {
    const ha = this.own(a);
    const hb = this.own(b);
    if (ha === hb) throw new Error(`cannot link host ${ha.name} to itself`);
    if (ha.linksTo.has(hb) || hb.linksTo.has(ha)) throw new Error(`hosts ${ha.name} and ${hb.name} are linked already`);
    const windows = this.windowsFor(ha, hb);
    const make = (from: Host, to: Host, config: LinkConfig) => {
      const name = `${from.name}->${to.name}`;
      return new Link(this, name, from, to, config, linkSeed(this.seed, name), windows, this.now);
    };
    const lab = make(ha, hb, ab);
    const lba = make(hb, ha, ba);
    ha.linksTo.set(hb, lab);
    hb.linksTo.set(ha, lba);
    this.links.push(lab, lba);
    this.forgetRoutes();
    return [lab, lba];
  }

  /** Links a client and a server with a profile's parameters: returns [up (client -> server), down]. */
  connectProfile(client: SimHost, server: SimHost, profile: NetworkProfile): [SimLink, SimLink] {
    return this.connect(client, server, profile.up, profile.down);
  }

  /**
   * The network heals from now on: every link keeps its delay, rate, queue and MTU and loses every impairment
   * (loss, burst loss, jitter, reordering, duplication, damage, outages, its schedule); partitions end now.
   */
  heal(): void {
    const now = this.now;
    for (const link of this.links) {
      const c = link.config;
      const healed: LinkConfig = { delayMs: c.delayMs };
      if (c.maxDatagramBytes !== undefined) healed.maxDatagramBytes = c.maxDatagramBytes;
      if (c.rateBitsPerS !== undefined) healed.rateBitsPerS = c.rateBitsPerS;
      if (c.queueBytes !== undefined) healed.queueBytes = c.queueBytes;
      if (c.queuePackets !== undefined) healed.queuePackets = c.queuePackets;
      link.config = healed;
    }
    for (const windows of this.pairWindows.values()) {
      // Shared with the links: cut in place. Windows from now on go; one in force ends now.
      const kept = windows.filter((w) => w.fromMs < now).map((w) => ({ fromMs: w.fromMs, toMs: Math.min(w.toMs, now) }));
      windows.splice(0, windows.length, ...kept);
    }
  }

  /** Nothing passes between a and b, either way, in [fromMs, toMs) (dropped as 'partition'). */
  partition(a: SimHost, b: SimHost, fromMs: number, toMs: number): void {
    if (!Number.isFinite(fromMs) || !(toMs >= fromMs)) throw new RangeError(`partition needs fromMs <= toMs, got ${fromMs} and ${toMs}`);
    this.windowsFor(this.own(a), this.own(b)).push({ fromMs, toMs });
  }

  /**
   * Calls fn at timeMs (now, if timeMs has passed). With a host, the call is an input to that host: its
   * activity hook runs and its output is drained afterwards.
   */
  at(timeMs: number, fn: (nowMs: number) => void, host?: SimHost): void {
    if (Number.isNaN(timeMs)) throw new RangeError('at() needs a time');
    const h = host === undefined ? undefined : this.own(host);
    this.queue.push(new SimEvent(timeMs > this.now ? timeMs : this.now, CALL, h, undefined, undefined, undefined, undefined, fn, 0, 0));
  }

  /**
   * Drains a host's output and re-reads its deadline now: for code that changed a node from outside that
   * host's own callbacks (run() also does this for every host when it starts).
   */
  flush(host: SimHost): void {
    this.drain(this.own(host));
  }

  /**
   * Handles events in time order (ties in insertion order) up to and including untilMs, or until stop()
   * returns true (checked after every event). Without a stop, nowMs ends at untilMs.
   */
  run(untilMs: number, stop?: () => boolean): void {
    if (this.running) throw new Error('Simulator.run is not reentrant');
    if (Number.isNaN(untilMs)) throw new RangeError('run() needs a time');
    this.running = true;
    try {
      for (const h of this.hostList) this.drain(h);
      if (stop !== undefined && stop()) return;
      const q = this.queue;
      let instant = this.now;
      let atInstant = 0;
      for (let ev = q.peek(); ev !== undefined && ev.atMs <= untilMs; ev = q.peek()) {
        q.pop();
        if (ev.atMs !== instant) {
          instant = ev.atMs;
          atInstant = 0;
        } else if (++atInstant > STUCK_EVENTS) {
          throw new Error(`simulation stuck: ${STUCK_EVENTS} events at ${instant} ms (a node whose deadline never passes?)`);
        }
        this.now = ev.atMs;
        if (this.dispatch(ev)) {
          this.eventsProcessed++;
          if (stop !== undefined && stop()) return;
        }
      }
      if (untilMs > this.now && untilMs !== Infinity) this.now = untilMs;
    } finally {
      this.running = false;
    }
  }

  /**
   * A datagram that appears at `to`'s host at `atMs` claiming to come from `from`, whatever links exist: what an
   * attacker who can spoof source addresses sends (adversary.ts). Replies to a spoofed address go nowhere (they
   * are counted as 'no-route' on the sender's unrouted link).
   */
  inject(atMs: number, from: Remote, to: Remote, bytes: Uint8Array): void {
    const owner = this.owner(to.address, to.port);
    if (owner === undefined) throw new RangeError(`inject: no host at ${to.address}:${to.port}`);
    if (owner.injected === undefined) {
      owner.injected = new Link(this, `?->${owner.name}`, owner, owner, { delayMs: 0 }, 0, [], this.now);
      this.unrouted.push(owner.injected);
    }
    this.scheduleDelivery(Math.max(atMs, this.now), owner.injected, { address: from.address, port: from.port }, { address: to.address, port: to.port }, bytes, 0);
  }

  /** Drops by reason summed over every link (and the unrouted counters). */
  dropsByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of [...this.links, ...this.unrouted]) {
      for (const [reason, n] of Object.entries(l.stats.dropped)) out[reason] = (out[reason] ?? 0) + n;
    }
    return out;
  }

  // ------------------------------------------------------------------ LinkWorld

  scheduleDelivery(atMs: number, link: Link, from: Remote, to: Remote, bytes: Uint8Array, flags: number): void {
    this.queue.push(new SimEvent(atMs, DELIVER, undefined, link, from, to, bytes, undefined, flags, 0));
  }

  scheduleChange(atMs: number, link: Link, index: number, generation: number): void {
    this.queue.push(new SimEvent(atMs, CHANGE, undefined, link, undefined, undefined, undefined, undefined, index, generation));
  }

  // ------------------------------------------------------------------ internals

  /** Handles one event; false for a stale timer event. */
  private dispatch(ev: SimEvent): boolean {
    const now = this.now;
    switch (ev.kind) {
      case DELIVER: {
        const host = ev.link!.to as Host;
        const b = this.buggify;
        if (b !== undefined) {
          if (host.burst !== undefined) {
            host.burst.push(ev);
            return true;
          }
          if (b.fires('datagram-burst')) {
            host.burst = [ev];
            this.queue.push(new SimEvent(now + b.delayMs('datagram-burst', 0.2, 20), BURST, host, undefined, undefined, undefined, undefined, undefined, 0, 0));
            return true;
          }
        }
        this.handOver(host, ev);
        this.afterInput(host);
        return true;
      }
      case BURST: {
        const host = ev.host!;
        const held = host.burst!;
        host.burst = undefined;
        for (const d of held) this.handOver(host, d);
        this.afterInput(host);
        return true;
      }
      case TIMER: {
        const host = ev.host!;
        if (ev.n !== host.timerGeneration) return false;
        host.timerAtMs = Infinity;
        const deadline = host.node.pollTimeoutMs();
        if (deadline === undefined) return true;
        if (deadline > now) {
          // The deadline moved later since this event was set: sleep on.
          this.armTimer(host, deadline);
          return true;
        }
        host.node.handleTimeout(now);
        this.afterInput(host);
        return true;
      }
      case CALL:
        ev.fn!(now);
        if (ev.host !== undefined) this.afterInput(ev.host);
        return true;
      case CHANGE:
        ev.link!.applyScheduled(ev.n, ev.m);
        return true;
    }
    return false;
  }

  /** A datagram copy reaches its host's node (reported to onPacket first). */
  private handOver(host: Host, ev: HeldDatagram): void {
    const now = this.now;
    const link = ev.link!;
    const bytes = ev.bytes!;
    const st = link.stats;
    st.delivered++;
    st.bytesDelivered += bytes.length;
    const hook = this.onPacket;
    if (hook !== undefined) {
      const pe: PacketEvent = { kind: 'deliver', atMs: now, link, from: ev.from!, to: ev.to!, bytes };
      if (ev.n & COPY_DUPLICATE) pe.duplicate = true;
      if (ev.n & COPY_CORRUPTED) pe.corrupted = true;
      if (ev.n & COPY_TRUNCATED) pe.truncated = true;
      hook(pe);
    }
    host.node.handleDatagram(now, ev.from!, bytes);
  }

  private afterInput(host: Host): void {
    if (host.onActivity !== undefined) host.onActivity(host, this.now);
    this.drain(host);
  }

  /** Every datagram the node has to send goes onto its link; then the node's deadline is read. */
  private drain(host: Host): void {
    const node = host.node;
    const now = this.now;
    for (let t = node.pollTransmit(now); t !== undefined; t = node.pollTransmit(now)) {
      const r = t.remote;
      if (r.address !== host.routeAddress || r.port !== host.routePort) this.resolve(host, r);
      const link = host.routeLink;
      if (link !== undefined) link.send(now, host.routeFrom!, host.routeTo!, t.bytes);
      else this.noRoute(host, r, t.bytes);
    }
    const deadline = node.pollTimeoutMs();
    if (deadline !== undefined && deadline < host.timerAtMs) {
      // Buggify: the timer fires late, as an event loop busy elsewhere fires it (mostly by a few ms).
      const b = this.buggify;
      const lateMs = b !== undefined && b.fires('timer-late') ? b.delayMs('timer-late', 0.1, 250) : 0;
      this.armTimer(host, deadline > now ? deadline : now, lateMs);
    }
  }

  /** Supersedes the host's pending timer event with one for atMs (firing lateMs after it). */
  private armTimer(host: Host, atMs: number, lateMs = 0): void {
    host.timerAtMs = atMs;
    this.queue.push(new SimEvent(atMs + lateMs, TIMER, host, undefined, undefined, undefined, undefined, undefined, ++host.timerGeneration, 0));
  }

  /** Fills the host's route cache for a destination: the link to its owner, and both ends' addresses. */
  private resolve(host: Host, r: Remote): void {
    host.routeAddress = r.address;
    host.routePort = r.port;
    host.routeLink = undefined;
    host.routeFrom = undefined;
    host.routeTo = undefined;
    const v6 = isIpv6(r.address);
    const from = v6 ? host.ipv6 : host.ipv4;
    const owner = this.owner(r.address, r.port);
    if (from === undefined || owner === undefined) return;
    const link = host.linksTo.get(owner);
    if (link === undefined) return;
    host.routeLink = link;
    host.routeFrom = from;
    host.routeTo = v6 ? owner.ipv6 : owner.ipv4;
  }

  private noRoute(host: Host, r: Remote, bytes: Uint8Array): void {
    if (host.unrouted === undefined) {
      host.unrouted = new Link(this, `${host.name}->?`, host, host, { delayMs: 0 }, 0, [], this.now);
      this.unrouted.push(host.unrouted);
    }
    const from = host.sourceFor(r.address) ?? host.addresses[0]!;
    host.unrouted.refuse(this.now, from, { address: r.address, port: r.port }, bytes, 'no-route');
  }

  private owner(address: string, port: number): Host | undefined {
    const key = isIpv6(address) ? address.toLowerCase() : address;
    return this.byAddress.get(key)?.get(port);
  }

  private forgetRoutes(): void {
    for (const h of this.hostList) {
      h.routeAddress = undefined;
      h.routePort = -1;
    }
  }

  private windowsFor(a: Host, b: Host): TimeWindow[] {
    const key = a.index < b.index ? `${a.index}:${b.index}` : `${b.index}:${a.index}`;
    let w = this.pairWindows.get(key);
    if (w === undefined) this.pairWindows.set(key, (w = []));
    return w;
  }

  private own(h: SimHost): Host {
    if (!(h instanceof Host) || this.hostList[h.index] !== h) throw new Error(`host ${h?.name} is not in this simulator`);
    return h;
  }
}

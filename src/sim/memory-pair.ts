// Two endpoints joined by an in-memory link in virtual time: the smallest world the core can live in.
// Deterministic from its seed; the link can delay, drop, duplicate and reorder by a seeded rule.
// (The full bad-network simulator builds on the same idea with richer impairments.)
import { Endpoint, type EndpointEvent, type EndpointOptions, type Remote } from '../core/index.js';
import { Fifo } from '../util/fifo.js';
import { Prng } from '../util/prng.js';

export interface LinkImpairment {
  /** One-way delay. */
  delayMs: number;
  /** Extra uniform delay in [0, jitterMs): reorders datagrams. */
  jitterMs?: number;
  lossRate?: number;
  duplicateRate?: number;
}

interface InFlight {
  atMs: number;
  order: number;
  to: 0 | 1;
  from: Remote;
  bytes: Uint8Array;
}

export class MemoryPair {
  readonly endpoints: [Endpoint, Endpoint];
  readonly addresses: [Remote, Remote] = [
    { address: '198.18.0.1', port: 4000 },
    { address: '198.18.0.2', port: 5000 },
  ];
  nowMs = 0;
  readonly delivered = [0, 0];
  readonly dropped = [0, 0];
  /** Datagrams on the link: a heap by (atMs, order), or without jitter (arrival order = send order) a FIFO. */
  private readonly heap: InFlight[] = [];
  private readonly fifo: Fifo<InFlight> | undefined;
  private order = 0;
  private readonly prng: Prng;

  constructor(
    seed: number,
    options: [Partial<EndpointOptions>, Partial<EndpointOptions>] = [{}, {}],
    private readonly link: LinkImpairment = { delayMs: 5 },
  ) {
    this.prng = new Prng(seed ^ 0x5eed);
    this.fifo = link.jitterMs ? undefined : new Fifo();
    this.endpoints = [new Endpoint({ seed: seed * 2 + 1, ...options[0] }), new Endpoint({ seed: seed * 2 + 2, ...options[1] })];
  }

  /**
   * Run until `done()` is true or virtual time passes `limitMs`. `onEvent` sees every event of both sides.
   * Returns true when done() became true.
   */
  run(onEvent: (side: 0 | 1, ev: EndpointEvent) => void, done: () => boolean, limitMs: number): boolean {
    for (;;) {
      this.drain(onEvent);
      if (done()) return true;
      const next = this.nextTimeMs();
      if (next === undefined || next > limitMs) return done();
      this.nowMs = Math.max(this.nowMs, next);
      // One datagram at a time, each followed by a drain, as a socket driver does.
      for (let d = this.popDue(); d !== undefined; d = this.popDue()) {
        this.endpoints[d.to].handleDatagram(this.nowMs, d.from, d.bytes);
        this.delivered[d.to]!++;
        this.drain(onEvent);
      }
      for (const ep of this.endpoints) {
        const t = ep.pollTimeoutMs();
        if (t !== undefined && t <= this.nowMs) ep.handleTimeout(this.nowMs);
      }
    }
  }

  /** Move every pending output onto the link and every event to the callback, until both are quiet. */
  drain(onEvent: (side: 0 | 1, ev: EndpointEvent) => void): void {
    let busy = true;
    while (busy) {
      busy = false;
      for (let i = 0; i < 2; i++) {
        const side = i as 0 | 1;
        const ep = this.endpoints[side];
        for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
          busy = true;
          onEvent(side, ev);
        }
        for (let t = ep.pollTransmit(this.nowMs); t !== undefined; t = ep.pollTransmit(this.nowMs)) {
          busy = true;
          this.send(side, t.bytes);
        }
      }
    }
  }

  private send(from: 0 | 1, bytes: Uint8Array): void {
    const l = this.link;
    const to = (1 - from) as 0 | 1;
    if (l.lossRate && this.prng.nextFloat() < l.lossRate) {
      this.dropped[to]!++;
      return;
    }
    const copies = l.duplicateRate && this.prng.nextFloat() < l.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const jitter = l.jitterMs ? this.prng.nextFloat() * l.jitterMs : 0;
      const d = { atMs: this.nowMs + l.delayMs + jitter, order: this.order++, to, from: this.addresses[from], bytes };
      if (this.fifo !== undefined) this.fifo.push(d);
      else heapPush(this.heap, d);
    }
  }

  /** The next datagram due at or before now, taken off the link. */
  private popDue(): InFlight | undefined {
    const next = this.peekNext();
    if (next === undefined || next.atMs > this.nowMs) return undefined;
    return this.fifo !== undefined ? this.fifo.shift() : heapPop(this.heap);
  }

  private peekNext(): InFlight | undefined {
    return this.fifo !== undefined ? this.fifo.peek() : this.heap[0];
  }

  private nextTimeMs(): number | undefined {
    let next = this.peekNext()?.atMs ?? Infinity;
    for (const ep of this.endpoints) {
      const t = ep.pollTimeoutMs();
      if (t !== undefined && t < next) next = t;
    }
    return next === Infinity ? undefined : next;
  }
}

function before(a: InFlight, b: InFlight): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

function heapPush(h: InFlight[], x: InFlight): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function heapPop(h: InFlight[]): InFlight | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last !== undefined) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}

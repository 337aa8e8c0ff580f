// The Endpoint through its public API only (no mocks): demultiplexing, unreliable datagrams, answers to segments
// for no connection, robustness against junk, backpressure, the sequence-number wrap, stats, refused and timed-out
// opens, abort, half-close and keepalive. Everything runs in virtual time and is seeded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Endpoint, type Connection, type EndpointEvent, type EndpointOptions, type Remote, type TraceEvent } from '../../src/core/index.js';
import { ACK, FIN, PSH, RST, SYN, decodeDatagram, encodeSegmentDatagram, encodeUnreliableDatagram, sealDatagram, type TcpSegment } from '../../src/core/wire/index.js';
import { MemoryPair } from '../../src/sim/memory-pair.js';
import { bulkTransfer, patternBytes } from '../../src/sim/bulk.js';

// ---------------------------------------------------------------------------------------------------------------
// A routing harness: endpoints at UDP addresses, a fixed one-way delay, datagrams delivered to the endpoint at the
// transmit's remote address (MemoryPair hands every datagram to the other side whatever its address, which would
// misroute answers to spoofed sources). `silent` drops everything; `inject` hands a datagram in directly.

interface InFlight {
  atMs: number;
  to: number;
  from: Remote;
  bytes: Uint8Array;
}

class Net {
  nowMs = 0;
  readonly endpoints: Endpoint[];
  readonly addresses: Remote[];
  /** Drop every datagram on the link (both ways) while true. */
  silent = false;
  /** Datagrams to an address no endpoint has. */
  blackholed = 0;
  dropped = 0;
  delivered = 0;
  /** Every datagram put on the link, for mutation. */
  readonly captured: Uint8Array[] = [];
  private readonly queue: InFlight[] = [];

  constructor(options: Array<Partial<EndpointOptions>>, readonly delayMs = 5, seed = 1) {
    this.addresses = options.map((_, i) => ({ address: `198.18.0.${i + 1}`, port: 4000 + i }));
    this.endpoints = options.map((o, i) => new Endpoint({ seed: seed * 16 + i, ...o }));
  }

  indexOf(remote: Remote): number {
    return this.addresses.findIndex((a) => a.address === remote.address && a.port === remote.port);
  }

  /** Deliver a datagram to endpoint `to` now, as if from `from`. */
  inject(to: number, from: Remote, bytes: Uint8Array): void {
    this.endpoints[to]!.handleDatagram(this.nowMs, from, bytes);
  }

  drain(onEvent: (side: number, ev: EndpointEvent) => void): void {
    let busy = true;
    while (busy) {
      busy = false;
      this.endpoints.forEach((ep, side) => {
        for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) {
          busy = true;
          onEvent(side, ev);
        }
        for (let t = ep.pollTransmit(this.nowMs); t !== undefined; t = ep.pollTransmit(this.nowMs)) {
          busy = true;
          this.captured.push(t.bytes);
          const to = this.indexOf(t.remote);
          if (to < 0) this.blackholed++;
          else if (this.silent) this.dropped++;
          else this.queue.push({ atMs: this.nowMs + this.delayMs, to, from: this.addresses[side]!, bytes: t.bytes });
        }
      });
    }
  }

  /** Run until done() or virtual time would pass limitMs; onStep runs after each advance of time. */
  run(onEvent: (side: number, ev: EndpointEvent) => void, done: () => boolean, limitMs: number, onStep?: () => void): boolean {
    for (;;) {
      this.drain(onEvent);
      if (done()) return true;
      let next = this.queue.length > 0 ? this.queue[0]!.atMs : Infinity;
      for (const ep of this.endpoints) {
        const t = ep.pollTimeoutMs();
        if (t !== undefined && t < next) next = t;
      }
      if (next === Infinity || next > limitMs) return done();
      this.nowMs = Math.max(this.nowMs, next);
      // A constant delay keeps the queue in time order. One datagram at a time, each followed by a drain, as a
      // socket driver does.
      while (this.queue.length > 0 && this.queue[0]!.atMs <= this.nowMs) {
        const d = this.queue.shift()!;
        this.delivered++;
        this.endpoints[d.to]!.handleDatagram(this.nowMs, d.from, d.bytes);
        this.drain(onEvent);
      }
      for (const ep of this.endpoints) {
        const t = ep.pollTimeoutMs();
        if (t !== undefined && t <= this.nowMs) ep.handleTimeout(this.nowMs);
      }
      onStep?.();
    }
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Per-connection application state: writes `data`, reads everything, shuts down when its writes are done. */
class App {
  readonly received: Uint8Array[] = [];
  written = 0;
  ended = false;
  closed = false;
  error: string | undefined;
  readonly events: string[] = [];
  constructor(
    readonly conn: Connection,
    readonly data: Uint8Array,
    readonly shutdownWhenDone = true,
  ) {}
  pump(): void {
    while (this.written < this.data.length) {
      const n = this.conn.write(this.data.subarray(this.written, Math.min(this.data.length, this.written + 32_768)));
      this.written += n;
      if (n === 0) return;
    }
    if (this.shutdownWhenDone) this.conn.shutdown();
  }
  readAll(): void {
    for (let c = this.conn.read(); c.length > 0; c = this.conn.read()) this.received.push(c);
  }
  get receivedBytes(): Uint8Array {
    return concat(this.received);
  }
  on(ev: EndpointEvent): void {
    this.events.push(ev.type);
    switch (ev.type) {
      case 'connected':
      case 'accepted':
      case 'writable':
        this.pump();
        break;
      case 'readable':
        this.readAll();
        break;
      case 'end':
        this.ended = true;
        break;
      case 'closed':
        this.closed = true;
        if (ev.error) this.error = ev.error.code;
        break;
    }
  }
}

/** Establish one connection over a MemoryPair and return both ends (not yet writing anything). */
function establish(pair: MemoryPair, port = 5000, connectOpts = {}): { a: Connection; b: Connection; events: Array<[0 | 1, EndpointEvent]> } {
  const [ea, eb] = pair.endpoints;
  eb.listen({ port });
  const a = ea.connect(pair.nowMs, pair.addresses[1], { port, ...connectOpts });
  let b: Connection | undefined;
  let connected = false;
  const events: Array<[0 | 1, EndpointEvent]> = [];
  pair.run(
    (side, ev) => {
      events.push([side, ev]);
      if (ev.type === 'accepted') b = ev.connection;
      if (ev.type === 'connected') connected = true;
    },
    () => connected && b !== undefined,
    60_000,
  );
  assert.ok(connected && b !== undefined, 'handshake completed');
  return { a, b: b!, events };
}

function segment(fields: Partial<TcpSegment>): TcpSegment {
  return { srcPort: 1234, dstPort: 80, seq: 0, ack: 0, flags: 0, window: 1000, checksum: 0, urgentPointer: 0, options: {}, payload: new Uint8Array(0), ...fields };
}

function sumValues(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------------------------

describe('Endpoint: demultiplexing by TCP ports', () => {
  it('five connections between the same two UDP addresses each deliver their own data intact, both ways', () => {
    const pair = new MemoryPair(3, [{}, {}], { delayMs: 5 });
    const [ea, eb] = pair.endpoints;
    eb.listen(); // any TCP port
    const ports = [5000, 5000, 5000, 6000, 7000];
    const aApps = ports.map((port, i) => new App(ea.connect(pair.nowMs, pair.addresses[1], { port }), patternBytes(100 + i, 20_000 + 7_919 * i)));
    const bApps: App[] = [];
    const appOf = new Map<Connection, App>(aApps.map((x) => [x.conn, x]));
    assert.equal(new Set(aApps.map((x) => x.conn.localPort)).size, 5, 'distinct ephemeral ports');
    assert.equal(ea.stats().connections, 5);
    pair.run(
      (side, ev) => {
        if (side === 1 && ev.type === 'accepted') {
          // B answers each connection with bytes derived from its ports, so a mix-up shows.
          const c = ev.connection;
          const app = new App(c, patternBytes(c.localPort * 65536 + c.remotePort, 15_000 + (c.remotePort % 1000)));
          appOf.set(c, app);
          bApps.push(app);
        }
        const app = 'connection' in ev ? appOf.get(ev.connection) : undefined;
        assert.ok(app, `event ${ev.type} for a known connection`);
        app.on(ev);
      },
      () => bApps.length === 5 && [...aApps, ...bApps].every((x) => x.closed),
      600_000,
    );
    assert.equal(bApps.length, 5);
    for (const a of aApps) {
      const peers = bApps.filter((b) => b.conn.remotePort === a.conn.localPort && b.conn.localPort === a.conn.remotePort);
      assert.equal(peers.length, 1, `one peer for local port ${a.conn.localPort}`);
      const b = peers[0]!;
      assert.equal(a.error, undefined);
      assert.equal(b.error, undefined);
      assert.equal(sha(b.receivedBytes), sha(a.data), `B got A's bytes on ${a.conn.localPort}->${a.conn.remotePort}`);
      assert.equal(sha(a.receivedBytes), sha(b.data), `A got B's bytes on ${a.conn.localPort}->${a.conn.remotePort}`);
      assert.ok(a.ended && b.ended);
    }
  });
});

describe('Endpoint: unreliable datagrams', () => {
  it('sendDatagram arrives as a datagram event with equal bytes on the peer connection, in both directions', () => {
    const pair = new MemoryPair(5, [{}, {}], { delayMs: 5 });
    const { a, b } = establish(pair);
    // A second connection between the same addresses must not receive them.
    const other = pair.endpoints[0].connect(pair.nowMs, pair.addresses[1], { port: 5000 });
    const max = a.maxDatagramPayloadBytes;
    assert.equal(max, 1232 - 2 - 4 - 4);
    const sizes = [0, 1, 100, 1000, max];
    const fromA = sizes.map((n, i) => patternBytes(500 + i, n));
    const fromB = sizes.map((n, i) => patternBytes(600 + i, n));
    const gotAtB: Array<[Connection, Uint8Array]> = [];
    const gotAtA: Array<[Connection, Uint8Array]> = [];
    let otherUp = false;
    pair.run(
      (side, ev) => {
        if (ev.type === 'connected' && ev.connection === other) otherUp = true;
      },
      () => otherUp,
      60_000,
    );
    for (let i = 0; i < sizes.length; i++) {
      assert.equal(a.sendDatagram(fromA[i]!), true);
      assert.equal(b.sendDatagram(fromB[i]!), true);
    }
    // The bytes are copied at the call: changing the caller's array afterwards changes nothing.
    fromA[2]!.fill(0);
    const expectedA2 = patternBytes(502, 100);
    pair.run(
      (side, ev) => {
        if (ev.type === 'datagram') (side === 1 ? gotAtB : gotAtA).push([ev.connection, ev.bytes]);
      },
      () => gotAtA.length + gotAtB.length >= 2 * sizes.length,
      pair.nowMs + 1000,
    );
    assert.equal(gotAtB.length, sizes.length);
    assert.equal(gotAtA.length, sizes.length);
    gotAtB.forEach(([c, bytes], i) => {
      assert.equal(c, b);
      assert.deepEqual(Uint8Array.from(bytes), i === 2 ? expectedA2 : Uint8Array.from(fromA[i]!));
    });
    gotAtA.forEach(([c, bytes], i) => {
      assert.equal(c, a);
      assert.deepEqual(Uint8Array.from(bytes), Uint8Array.from(fromB[i]!));
    });
    assert.equal(a.stats().datagramsSent, sizes.length);
    assert.equal(b.stats().datagramsReceived, sizes.length);
  });

  it('a datagram larger than the maximum throws RangeError at the call; before the handshake it is refused', () => {
    const pair = new MemoryPair(6, [{}, {}], { delayMs: 5 });
    const early = pair.endpoints[0].connect(0, pair.addresses[1], { port: 5000 });
    assert.equal(early.state, 'SYN-SENT');
    assert.equal(early.sendDatagram(new Uint8Array(10)), false);
    assert.throws(() => early.sendDatagram(new Uint8Array(early.maxDatagramPayloadBytes + 1)), RangeError);
    const { a } = establish(new MemoryPair(7, [{}, {}], { delayMs: 5 }));
    assert.throws(() => a.sendDatagram(new Uint8Array(a.maxDatagramPayloadBytes + 1)), RangeError);
    assert.throws(() => a.sendDatagram(new Uint8Array(65_536)), RangeError);
    assert.equal(a.sendDatagram(new Uint8Array(a.maxDatagramPayloadBytes)), true);
  });

  it(
    'a datagram sent as soon as the client is connected is reported on a connection the server application already has',
    () => {
      const pair = new MemoryPair(8, [{}, {}], { delayMs: 5 });
      const [ea, eb] = pair.endpoints;
      eb.listen({ port: 5000 });
      const a = ea.connect(0, pair.addresses[1], { port: 5000 });
      const serverEvents: string[] = [];
      let got = false;
      pair.run(
        (side, ev) => {
          if (side === 0 && ev.type === 'connected') assert.equal(a.sendDatagram(Uint8Array.of(1, 2, 3)), true);
          if (side === 1) serverEvents.push(ev.type);
          if (side === 1 && ev.type === 'datagram') got = true;
        },
        () => got && serverEvents.includes('accepted'),
        10_000,
      );
      assert.ok(got);
      assert.deepEqual(serverEvents.slice(0, 2), ['accepted', 'datagram']);
    },
  );
});

describe('Endpoint: segments for no connection', () => {
  const from: Remote = { address: '192.0.2.7', port: 9999 };

  it('a SYN to no listener is answered with RST|ACK acknowledging it, and counted', () => {
    const ep = new Endpoint({ seed: 1 });
    ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ srcPort: 1234, dstPort: 80, seq: 1000, flags: SYN })));
    const t = ep.pollTransmit(0);
    assert.ok(t, 'an answer');
    assert.deepEqual(t.remote, from);
    const d = decodeDatagram(t.bytes);
    assert.ok(d.ok && d.value.kind === 'segment');
    const r = d.value.segment;
    assert.equal(r.flags, RST | ACK);
    assert.equal(r.srcPort, 80);
    assert.equal(r.dstPort, 1234);
    assert.equal(r.seq, 0);
    assert.equal(r.ack, 1001); // SYN occupies one sequence number
    assert.equal(r.payload.length, 0);
    assert.equal(ep.pollTransmit(0), undefined);
    const st = ep.stats();
    assert.equal(st.drops['no-connection'], 1);
    assert.equal(st.resetsSent, 1);
    assert.equal(st.datagramsReceived, 1);
    assert.equal(st.datagramsSent, 1);
    assert.equal(st.connections, 0);
  });

  it('a segment with ACK gets RST with SEQ = its ACK; data and FIN are counted in the acknowledgment otherwise', () => {
    const ep = new Endpoint({ seed: 2 });
    ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ seq: 5, ack: 0xfffffff0, flags: ACK | PSH, payload: new Uint8Array(10) })));
    let d = decodeDatagram(ep.pollTransmit(0)!.bytes);
    assert.ok(d.ok && d.value.kind === 'segment');
    assert.equal(d.value.segment.flags, RST);
    assert.equal(d.value.segment.seq, 0xfffffff0);
    ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ seq: 0xfffffffa, flags: FIN | PSH, payload: new Uint8Array(10) })));
    d = decodeDatagram(ep.pollTransmit(0)!.bytes);
    assert.ok(d.ok && d.value.kind === 'segment');
    assert.equal(d.value.segment.flags, RST | ACK);
    assert.equal(d.value.segment.ack, 5); // 0xfffffffa + 10 + FIN, wrapped
    assert.equal(ep.stats().drops['no-connection'], 2);
  });

  it('a non-SYN segment to a listening port is reset and counted apart', () => {
    const ep = new Endpoint({ seed: 3 });
    ep.listen({ port: 80 });
    ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ dstPort: 80, seq: 1, ack: 77, flags: ACK })));
    const d = decodeDatagram(ep.pollTransmit(0)!.bytes);
    assert.ok(d.ok && d.value.kind === 'segment');
    assert.equal(d.value.segment.flags, RST);
    assert.equal(d.value.segment.seq, 77);
    assert.equal(ep.stats().drops['not-syn-to-listener'], 1);
    assert.equal(ep.stats().connections, 0);
  });

  it('a RST to no connection gets no answer, only a count', () => {
    const ep = new Endpoint({ seed: 4 });
    ep.listen({ port: 80 });
    for (const flags of [RST, RST | ACK, RST | SYN]) {
      ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ dstPort: 80, seq: 1, ack: 2, flags })));
      assert.equal(ep.pollTransmit(0), undefined);
    }
    const st = ep.stats();
    assert.equal(st.drops['rst-no-connection'], 3);
    assert.equal(st.resetsSent, 0);
    assert.equal(st.datagramsSent, 0);
    assert.equal(st.connections, 0);
  });

  it('past the listen backlog SYNs get SYN cookies and no state; no half-open connection is ever evicted', () => {
    const ep = new Endpoint({ seed: 6 });
    ep.listen({ port: 80, backlog: 2 });
    for (let i = 0; i < 4; i++) ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ srcPort: 1000 + i, dstPort: 80, seq: 42, flags: SYN })));
    const answers: number[] = [];
    for (let t = ep.pollTransmit(0); t !== undefined; t = ep.pollTransmit(0)) {
      const d = decodeDatagram(t.bytes);
      assert.ok(d.ok && d.value.kind === 'segment');
      assert.equal(d.value.segment.flags, SYN | ACK);
      assert.equal(d.value.segment.ack, 43);
      answers.push(d.value.segment.dstPort);
    }
    // Every SYN is answered: the first two keep state, the others are cookies; the first two are never dropped.
    assert.deepEqual(answers.sort(), [1000, 1001, 1002, 1003]);
    assert.equal(ep.stats().synCookiesSent, 2);
    assert.equal(ep.stats().connections, 2);
    assert.equal(ep.pollEvent(), undefined, 'half-open connections are not announced');
  });

  it("with synCookies 'never', SYNs past the backlog are dropped and counted, and the half-open ones kept", () => {
    const ep = new Endpoint({ seed: 6 });
    ep.listen({ port: 80, backlog: 2, synCookies: 'never' });
    for (let i = 0; i < 4; i++) ep.handleDatagram(0, from, encodeSegmentDatagram(segment({ srcPort: 1000 + i, dstPort: 80, seq: 42, flags: SYN })));
    const answers: number[] = [];
    for (let t = ep.pollTransmit(0); t !== undefined; t = ep.pollTransmit(0)) answers.push((decodeDatagram(t.bytes) as { value: { segment: TcpSegment } }).value.segment.dstPort);
    assert.deepEqual(answers.sort(), [1000, 1001]);
    assert.equal(ep.stats().drops['backlog-full'], 2);
    assert.equal(ep.stats().connections, 2);
  });

  it('an unreliable datagram for no connection is dropped silently and counted', () => {
    const ep = new Endpoint({ seed: 5 });
    ep.handleDatagram(0, from, encodeUnreliableDatagram(1, 2, new Uint8Array(5)));
    assert.equal(ep.pollTransmit(0), undefined);
    assert.equal(ep.pollEvent(), undefined);
    assert.equal(ep.stats().drops['datagram-no-connection'], 1);
  });
});

describe('Endpoint: robustness against junk', () => {
  type Junk =
    | { kind: 'random'; bytes: Uint8Array; spoof: boolean }
    | { kind: 'flip'; pick: number; pos: number; bit: number }
    | { kind: 'truncate'; pick: number; cut: number }
    | { kind: 'reseal'; pick: number; edits: Array<[number, number]>; spoof: number }
    | { kind: 'forged'; toB: boolean; flags: number; seqOffset: number; ack: number; window: number; ts: number | undefined; payload: Uint8Array }
    | { kind: 'dgram'; toB: boolean; payload: Uint8Array }
    | { kind: 'spoofSeg'; spoof: number; toB: boolean; seg: TcpSegment };

  const junk: fc.Arbitrary<Junk> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 1500 }), spoof: fc.boolean() }) },
    // Valid datagrams with a version/type prefix and random rest: gets past the first checks.
    {
      weight: 1,
      arbitrary: fc
        .record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 4, maxLength: 200 }), spoof: fc.boolean() })
        .map((j) => {
          j.bytes[0] = 1;
          j.bytes[1] = j.bytes[1]! & 1;
          return j;
        }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), pick: fc.nat(), pos: fc.nat(), bit: fc.nat(7) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pick: fc.nat(), cut: fc.nat() }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('reseal' as const),
        pick: fc.nat(),
        edits: fc.array(fc.tuple(fc.nat(60), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        spoof: fc.nat(3),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('forged' as const),
        toB: fc.boolean(),
        flags: fc.nat(255),
        // Far outside any window (windows here are at most 1 MiB), ahead of or behind RCV.NXT.
        seqOffset: fc.integer({ min: 0x40000000, max: 0xc0000000 }),
        ack: fc.nat(0xffffffff),
        window: fc.nat(65535),
        ts: fc.option(fc.nat(0xffffffff), { nil: undefined }),
        payload: fc.uint8Array({ maxLength: 300 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dgram' as const), toB: fc.boolean(), payload: fc.uint8Array({ maxLength: 400 }) }) },
    // Well-formed segments with any flags and options from addresses with no live connection: they reach the
    // listener (half-open connections, backlog) and those half-open connections.
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('spoofSeg' as const),
        spoof: fc.nat(3),
        toB: fc.boolean(),
        seg: fc.record({
          srcPort: fc.oneof(fc.constantFrom(1111, 2222), fc.integer({ min: 1, max: 65535 })),
          dstPort: fc.oneof(fc.constant(5000), fc.integer({ min: 1, max: 65535 })),
          seq: fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.nat(0xffffffff)),
          ack: fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.nat(0xffffffff)),
          flags: fc.oneof(fc.constantFrom(SYN, ACK, SYN | ACK, RST, RST | ACK, FIN | ACK, ACK | PSH), fc.nat(255)),
          window: fc.nat(65535),
          checksum: fc.constant(0),
          urgentPointer: fc.nat(65535),
          options: fc.record(
            {
              mss: fc.nat(65535),
              windowScale: fc.nat(255),
              sackPermitted: fc.boolean(),
              timestamp: fc.record({ value: fc.nat(0xffffffff), echo: fc.nat(0xffffffff) }),
              sack: fc.array(fc.record({ left: fc.nat(0xffffffff), right: fc.nat(0xffffffff) }), { minLength: 1, maxLength: 3 }),
            },
            { requiredKeys: [] },
          ),
          payload: fc.uint8Array({ maxLength: 200 }),
        }),
      }),
    },
  );

  const SPOOFED: Remote[] = [
    { address: '203.0.113.9', port: 4000 },
    { address: '203.0.113.9', port: 4001 },
    { address: '198.18.0.1', port: 4444 }, // A's address, another UDP port
    { address: '2001:db8::1', port: 4000 },
  ];
  const CONN_DROPS = ['paws', 'out-of-window', 'rst-out-of-window', 'missing-timestamp'];

  it('thousands of random and mutated datagrams never throw, are counted by reason, and a transfer alongside stays intact', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(junk, { minLength: 750, maxLength: 1000 }), fc.integer({ min: 1, max: 1000 }), (inputs, seed) => {
        // Keepalive on A keeps virtual time moving while the inputs go in; neither side shuts down before that.
        const net = new Net([{ keepaliveIdleMs: 20, keepaliveIntervalMs: 20 }, {}], 5, seed);
        const [ea, eb] = net.endpoints as [Endpoint, Endpoint];
        eb.listen({ port: 5000 });
        const A = new App(ea.connect(0, net.addresses[1]!, { port: 5000 }), patternBytes(seed, 150_000), false);
        let aShut = false;
        let B: App | undefined;
        const expectedDatagrams = new Map<Connection, Uint8Array[]>();
        const gotDatagrams = new Map<Connection, Uint8Array[]>();
        const expectedDrops: Record<string, number> = {};
        const onEvent = (side: number, ev: EndpointEvent) => {
          if (ev.type === 'datagram') {
            const l = gotDatagrams.get(ev.connection) ?? [];
            l.push(Uint8Array.from(ev.bytes));
            gotDatagrams.set(ev.connection, l);
            return;
          }
          if (side === 0) {
            assert.equal(ev.connection, A.conn);
            A.on(ev);
          } else if (ev.connection.remote.address === net.addresses[0]!.address && ev.connection.remote.port === net.addresses[0]!.port) {
            if (ev.type === 'accepted') B = new App(ev.connection, patternBytes(seed + 1, 120_000), false);
            B!.on(ev);
            if (ev.type === 'end') ev.connection.shutdown();
          }
        };
        let next = 0;
        const injectOne = (j: Junk) => {
          const cap = net.captured;
          const pick = (k: number) => (cap.length > 0 ? cap[k % cap.length]! : undefined);
          const toSide = (k: number) => k & 1;
          let to: number;
          let from: Remote;
          let bytes: Uint8Array;
          switch (j.kind) {
            case 'random':
              to = j.bytes.length & 1;
              from = j.spoof ? SPOOFED[0]! : net.addresses[1 - to]!;
              bytes = j.bytes;
              break;
            case 'flip': {
              const src = pick(j.pick);
              if (!src) return;
              bytes = Uint8Array.from(src);
              bytes[j.pos % bytes.length]! ^= 1 << j.bit;
              to = toSide(j.pick);
              from = net.addresses[1 - to]!;
              break;
            }
            case 'truncate': {
              const src = pick(j.pick);
              if (!src) return;
              bytes = Uint8Array.from(src.subarray(0, j.cut % src.length));
              to = toSide(j.pick);
              from = net.addresses[1 - to]!;
              break;
            }
            case 'reseal': {
              // Mutated past the CRC, so it reaches the TCP logic, from an address with no live connection.
              const src = pick(j.pick);
              if (!src || src.length < 8) return;
              bytes = Uint8Array.from(src);
              for (const [pos, v] of j.edits) bytes[pos % (bytes.length - 4)] = v;
              sealDatagram(bytes);
              to = toSide(j.pick);
              from = SPOOFED[j.spoof]!;
              break;
            }
            case 'spoofSeg': {
              try {
                bytes = encodeSegmentDatagram(j.seg);
              } catch (e) {
                // More options than fit in 40 bytes: a test-side construction error, not an input.
                assert.ok(e instanceof RangeError);
                return;
              }
              to = j.toB ? 1 : 0;
              from = SPOOFED[j.spoof]!;
              break;
            }
            case 'forged':
            case 'dgram': {
              // Aimed at a live connection (right address, right ports).
              const target = j.toB ? B?.conn : A.conn;
              if (!target || target.state !== 'ESTABLISHED') return;
              to = j.toB ? 1 : 0;
              from = net.addresses[1 - to]!;
              if (j.kind === 'dgram') {
                bytes = encodeUnreliableDatagram(target.remotePort, target.localPort, j.payload);
                const l = expectedDatagrams.get(target) ?? [];
                l.push(Uint8Array.from(j.payload));
                expectedDatagrams.set(target, l);
                net.inject(to, from, bytes);
                total++;
                return;
              }
              bytes = encodeSegmentDatagram(
                segment({
                  srcPort: target.remotePort,
                  dstPort: target.localPort,
                  seq: (target.rcvNxt + j.seqOffset) >>> 0,
                  ack: j.ack,
                  flags: j.flags,
                  window: j.window,
                  options: j.ts === undefined ? {} : { timestamp: { value: j.ts, echo: 0 } },
                  payload: j.payload,
                }),
              );
              const before = target.stats().drops;
              net.inject(to, from, bytes);
              total++;
              const after = target.stats().drops;
              // Exactly one of the early checks (PAWS, the sequence check) drops it; nothing else happens.
              const delta = CONN_DROPS.reduce((acc, r) => acc + (after[r] ?? 0) - (before[r] ?? 0), 0);
              assert.equal(delta, 1, `forged ${JSON.stringify({ ...j, payload: j.payload.length })} counted once`);
              assert.equal(target.state, 'ESTABLISHED');
              return;
            }
          }
          const ep = net.endpoints[to]!;
          const decoded = decodeDatagram(bytes);
          // A mutation without a new CRC must not decode; if by a 2^-32 chance it did, it is not junk: skip it.
          if (decoded.ok && j.kind !== 'reseal' && j.kind !== 'spoofSeg') return;
          const before = ep.stats();
          net.inject(to, from, bytes);
          total++;
          const after = ep.stats();
          assert.equal(after.datagramsReceived, before.datagramsReceived + 1);
          if (!decoded.ok) {
            expectedDrops[`${to}:${decoded.reason}`] = (expectedDrops[`${to}:${decoded.reason}`] ?? 0) + 1;
            assert.equal((after.drops[decoded.reason] ?? 0) - (before.drops[decoded.reason] ?? 0), 1, `counted as ${decoded.reason}`);
            assert.equal(sumValues(after.drops) - sumValues(before.drops), 1, 'counted once');
          }
        };
        const ok = net.run(
          onEvent,
          () => A.closed && B !== undefined && B.closed,
          600_000,
          () => {
            // A few inputs every time step while the transfer runs; A shuts down once all are in.
            for (let k = 0; k < 4 && next < inputs.length; k++) injectOne(inputs[next++]!);
            if (next >= inputs.length && A.written === A.data.length && !aShut) {
              aShut = true;
              A.conn.shutdown();
            }
          },
        );
        assert.equal(next, inputs.length, 'every input went in');
        assert.ok(ok, 'transfer finished');
        assert.ok(B);
        assert.equal(A.error, undefined);
        assert.equal(B.error, undefined);
        assert.equal(sha(B.receivedBytes), sha(A.data), 'A -> B intact');
        assert.equal(sha(A.receivedBytes), sha(B.data), 'B -> A intact');
        // Decode failures are counted by reason, and the real traffic produced none.
        for (const side of [0, 1]) {
          const drops = net.endpoints[side]!.stats().drops;
          for (const reason of ['short', 'bad-version', 'bad-type', 'bad-data-offset', 'bad-option-length', 'bad-crc', 'bad-port']) {
            assert.equal(drops[reason] ?? 0, expectedDrops[`${side}:${reason}`] ?? 0, `side ${side} ${reason}`);
          }
        }
        // Forged unreliable datagrams on the live 4-tuple are delivered to that connection, bytes intact.
        for (const [conn, list] of expectedDatagrams) assert.deepEqual(gotDatagrams.get(conn) ?? [], list);
      }),
      { seed: 0xbad, numRuns: 4, endOnFailure: true },
    );
    assert.ok(total > 2500, `fed ${total} datagrams`);
  });

  it('random bytes straight into an endpoint with live connections never throw and are all counted', () => {
    const net = new Net([{}, {}], 5, 9);
    const [ea, eb] = net.endpoints as [Endpoint, Endpoint];
    eb.listen();
    for (let i = 0; i < 3; i++) ea.connect(0, net.addresses[1]!, { port: 5000 + i });
    let up = 0;
    net.run((_s, ev) => void ((ev.type === 'connected' || ev.type === 'accepted') && up++), () => up === 6, 10_000);
    assert.equal(up, 6);
    const before = eb.stats();
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(...[net.addresses[0]!, ...SPOOFED]), (bytes, from) => {
        eb.handleDatagram(net.nowMs, from, bytes);
        n++;
      }),
      { seed: 77, numRuns: 3000 },
    );
    const after = eb.stats();
    assert.equal(after.datagramsReceived - before.datagramsReceived, n);
    assert.equal(sumValues(after.drops) - sumValues(before.drops), n, 'every one dropped and counted');
    assert.equal(after.connections, 3);
    for (const c of eb.connections()) assert.equal(c.state, 'ESTABLISHED');
  });
});

describe('Endpoint: backpressure', () => {
  it('write() takes less than asked with a small send buffer; writable follows the peer acknowledging', () => {
    const pair = new MemoryPair(11, [{ sendBufferBytes: 4096 }, {}], { delayMs: 5 });
    const { a, b } = establish(pair);
    const data = patternBytes(4242, 100_000);
    const first = a.write(data);
    assert.equal(first, 4096, 'the buffer takes exactly its size');
    assert.equal(a.writableBytes, 0);
    assert.equal(a.write(data.subarray(first)), 0, 'a full buffer takes nothing');
    let written = first;
    let writables = 0;
    const got: Uint8Array[] = [];
    let sawWritableBeforeAck = false;
    pair.run(
      (side, ev) => {
        if (side === 0 && ev.type === 'writable') {
          writables++;
          // Space exists only because the peer acknowledged something.
          const st = a.stats();
          if (st.sndUna === st.iss + 1 || a.writableBytes === 0) sawWritableBeforeAck = true;
          assert.ok(b.stats().bytesReceived > 0);
          while (written < data.length) {
            const n = a.write(data.subarray(written));
            assert.ok(n <= 4096);
            written += n;
            if (n === 0) break;
          }
          if (written === data.length) a.shutdown();
        }
        if (side === 1 && ev.type === 'readable') for (let c = b.read(); c.length > 0; c = b.read()) got.push(c);
      },
      () => written === data.length && concat(got).length === data.length,
      120_000,
    );
    assert.equal(sawWritableBeforeAck, false);
    assert.ok(writables >= 2, `several writable events (${writables})`);
    assert.deepEqual(concat(got), data);
  });

  it('no writable event when a write was never refused', () => {
    const pair = new MemoryPair(12, [{ sendBufferBytes: 4096 }, {}], { delayMs: 5 });
    const { a, b } = establish(pair);
    assert.equal(a.write(new Uint8Array(1000)), 1000);
    let writable = 0;
    let read = 0;
    pair.run(
      (side, ev) => {
        if (side === 0 && ev.type === 'writable') writable++;
        if (side === 1 && ev.type === 'readable') read += b.read().length;
      },
      () => read === 1000 && a.stats().sndUna === a.stats().sndMax,
      10_000,
    );
    assert.equal(writable, 0);
  });
});

describe('Endpoint: sequence numbers across 2^32', () => {
  it('a transfer with both ISNs at 0xFFFFFF00 crosses the wrap and arrives intact', () => {
    const pair = new MemoryPair(13, [{ fixedIsn: 0xffffff00 }, { fixedIsn: 0xffffff00 }], { delayMs: 5, jitterMs: 3, lossRate: 0.01 });
    const r = bulkTransfer(pair, [300_000, 200_000], 600_000);
    assert.deepEqual(r.errors, []);
    assert.ok(r.done, `done at ${r.nowMs}`);
    assert.equal(r.receivedBytes[0], 300_000);
    assert.equal(r.receivedBytes[1], 200_000);
    assert.equal(r.receivedDigest[0], r.sentDigest[0]);
    assert.equal(r.receivedDigest[1], r.sentDigest[1]);
    const [a, b] = r.connections;
    const sa = a!.stats();
    const sb = b!.stats();
    assert.equal(sa.iss, 0xffffff00);
    assert.equal(sb.iss, 0xffffff00);
    assert.equal(sa.irs, 0xffffff00);
    // SYN + 300000 bytes + FIN, modulo 2^32
    assert.equal(sa.sndUna, (0xffffff00 + 1 + 300_000 + 1) % 2 ** 32);
    assert.equal(sb.rcvNxt, sa.sndUna);
    assert.equal(sb.sndUna, (0xffffff00 + 1 + 200_000 + 1) % 2 ** 32);
  });
});

describe('Endpoint: stats', () => {
  it('reports sensible counters after a transfer', () => {
    const delayMs = 25;
    const pair = new MemoryPair(14, [{}, { delayedAckMs: 0 }], { delayMs });
    const [ea, eb] = pair.endpoints;
    const { a, b } = establish(pair);
    assert.equal(a.stats().state, 'ESTABLISHED');
    assert.equal(b.stats().state, 'ESTABLISHED');
    const data = patternBytes(77, 200_000);
    const A = new App(a, data);
    const B = new App(b, new Uint8Array(0), false);
    A.pump();
    let midway: ReturnType<Connection['stats']> | undefined;
    pair.run(
      (side, ev) => {
        if (side === 1 && ev.type === 'end') b.shutdown();
        (side === 0 ? A : B).on(ev);
        if (side === 1 && ev.type === 'readable' && midway === undefined && B.receivedBytes.length > 50_000) midway = a.stats();
      },
      () => A.closed && B.closed,
      120_000,
    );
    assert.deepEqual(B.receivedBytes, data);
    assert.equal(midway?.state, 'FIN-WAIT-1', 'A shut down after writing everything');
    const sa = a.stats();
    const sb = b.stats();
    assert.equal(sa.state, 'TIME-WAIT'); // the active closer
    assert.equal(sb.state, 'CLOSED');
    assert.ok(sa.bytesSent >= data.length, `bytesSent ${sa.bytesSent}`);
    assert.equal(sa.bytesSent, data.length, 'a clean link needs no retransmission');
    assert.equal(sa.bytesRetransmitted, 0);
    assert.ok(sa.segmentsSent >= Math.ceil(data.length / sa.mssBytes), `segmentsSent ${sa.segmentsSent}`);
    assert.equal(sb.bytesReceived, data.length);
    assert.equal(sb.bytesRead, data.length);
    assert.ok(sb.segmentsReceived >= Math.ceil(data.length / sa.mssBytes));
    // RTT is 2 * 25 ms on this link and the receiver acknowledges at once.
    assert.ok(Math.abs(sa.srttMs - 2 * delayMs) <= 5, `srtt ${sa.srttMs}`);
    assert.ok(sa.rtoMs >= 200 && sa.rtoMs <= 1000, `rto ${sa.rtoMs}`);
    assert.equal(sa.inFlightBytes, 0);
    assert.equal(sa.sendBufferedBytes, 0);
    assert.equal(sa.timeouts, 0);
    assert.equal(sa.sndUna, sa.sndMax);
    assert.equal(sa.localPort, sb.remotePort);
    assert.equal(sa.remotePort, 5000);
    assert.equal(sa.profile, 'tcp');
    // Endpoint counters: a lossless link delivers everything that was sent.
    const ta = ea.stats();
    const tb = eb.stats();
    assert.equal(ta.datagramsSent, pair.delivered[1]);
    assert.equal(tb.datagramsSent, pair.delivered[0]);
    assert.equal(ta.datagramsReceived, tb.datagramsSent);
    assert.ok(ta.datagramsSent >= sa.segmentsSent);
    assert.equal(ta.connections, 1, 'TIME-WAIT still holds the connection');
    assert.equal(tb.connections, 0);
    assert.deepEqual(ta.drops, {});
    assert.deepEqual(tb.drops, {});
    // After 2 MSL the TIME-WAIT connection is gone.
    pair.run(() => {}, () => ea.stats().connections === 0, pair.nowMs + 2 * 30_000 + 1);
    assert.equal(ea.stats().connections, 0);
    assert.equal(a.state, 'CLOSED');
  });
});

describe('Endpoint: failed opens', () => {
  it('connect to a port where nothing listens: closed with ECONNREFUSED after one round trip', () => {
    const pair = new MemoryPair(15, [{}, {}], { delayMs: 5 });
    const [ea, eb] = pair.endpoints;
    eb.listen({ port: 5000 });
    const c = ea.connect(0, pair.addresses[1], { port: 6000 });
    const events: string[] = [];
    let closedAt = -1;
    let code: string | undefined;
    pair.run(
      (side, ev) => {
        if (side !== 0) return;
        events.push(ev.type);
        if (ev.type === 'closed') {
          closedAt = pair.nowMs;
          code = ev.error?.code;
          assert.equal(ev.connection, c);
        }
      },
      () => closedAt >= 0,
      60_000,
    );
    assert.deepEqual(events, ['closed']);
    assert.equal(code, 'ECONNREFUSED');
    assert.equal(closedAt, 10);
    assert.equal(c.state, 'CLOSED');
    assert.equal(c.error?.code, 'ECONNREFUSED');
    assert.equal(ea.stats().connections, 0);
    assert.equal(eb.stats().drops['no-connection'], 1);
    assert.throws(() => c.write(new Uint8Array(1)));
  });

  for (const synRetries of [6, 3]) {
    it(`connect to a silent peer: ETIMEDOUT after ${synRetries} SYN retries, RTO 1 s doubling (capped at maxRto)`, () => {
      const pair = new MemoryPair(16, [{}, {}], { delayMs: 5, lossRate: 1 });
      const [ea] = pair.endpoints;
      const c = ea.connect(0, pair.addresses[1], { port: 5000, synRetries });
      let closedAt = -1;
      let code: string | undefined;
      pair.run(
        (_side, ev) => {
          if (ev.type === 'closed') {
            closedAt = pair.nowMs;
            code = ev.error?.code;
          }
        },
        () => closedAt >= 0,
        1_000_000,
      );
      // The SYN and each retry wait an RTO: 1, 2, 4, ... s, each capped at maxRto (60 s).
      let expected = 0;
      for (let i = 0; i <= synRetries; i++) expected += Math.min(1000 * 2 ** i, 60_000);
      assert.equal(code, 'ETIMEDOUT');
      assert.ok(Math.abs(closedAt - expected) <= expected * 0.01, `closed at ${closedAt} ms, expected ${expected} ms`);
      assert.equal(pair.dropped[1], synRetries + 1, 'the SYN and its retries');
      assert.equal(c.stats().timeouts, synRetries + 1);
      assert.equal(ea.stats().connections, 0);
    });
  }
});

describe('Endpoint: trace', () => {
  it(
    'state changes are traced with the virtual time at which they happen (application calls: the latest time the core saw)',
    () => {
      const seen: Array<{ to: string; atMs: number; nowMs: number }> = [];
      let pair: MemoryPair | undefined;
      const trace = (e: TraceEvent) => {
        if (e.type === 'state') seen.push({ to: e.to, atMs: e.atMs, nowMs: pair!.nowMs });
      };
      // A SYN that times out (CLOSED from the retransmission timer) ...
      pair = new MemoryPair(30, [{ trace }, {}], { delayMs: 5, lossRate: 1 });
      pair.endpoints[0].connect(0, pair.addresses[1], { port: 5000, synRetries: 1 });
      pair.run(() => {}, () => false, 60_000);
      // ... and a shutdown long after the last segment arrived.
      pair = new MemoryPair(31, [{ trace }, {}], { delayMs: 5 });
      const { a } = establish(pair);
      pair.run(() => {}, () => false, 5_000);
      a.shutdown();
      pair.run(() => {}, () => a.state === 'TIME-WAIT', 10_000);
      assert.ok(seen.some((s) => s.to === 'CLOSED') && seen.some((s) => s.to === 'FIN-WAIT-1'));
      // shutdown() carries no time (the API has none): its transition is traced at the latest time the core saw,
      // which is the last input before the call; every other transition at its own time.
      for (const s of seen) {
        if (s.to === 'FIN-WAIT-1') assert.ok(s.atMs <= s.nowMs && s.atMs > 0, `transition to ${s.to} traced at ${s.atMs}, happened at ${s.nowMs}`);
        else assert.equal(s.atMs, s.nowMs, `transition to ${s.to} traced at ${s.atMs}, happened at ${s.nowMs}`);
      }
    },
  );
});

describe('Endpoint: abort', () => {
  it('abort() resets the peer: closed with ECONNRESET there; the aborting side is closed without error', () => {
    const pair = new MemoryPair(17, [{}, {}], { delayMs: 5 });
    const [ea, eb] = pair.endpoints;
    const { a, b } = establish(pair);
    a.write(patternBytes(1, 5000));
    // Quiet: everything acknowledged, no delayed ACK pending (so only the abort's own RST can reset B).
    pair.run(
      () => {},
      () => b.readableBytes === 5000 && a.stats().sndUna === a.stats().sndMax && Object.keys(b.stats().timers).length === 0,
      10_000,
    );
    const resetsBefore = ea.stats().resetsSent;
    const abortAt = pair.nowMs;
    a.abort();
    assert.equal(a.state, 'CLOSED');
    // The RST is queued at once, with SEQ = SND.NXT and ACK = RCV.NXT.
    const t = ea.pollTransmit(pair.nowMs);
    assert.ok(t, 'a RST leaves');
    const d = decodeDatagram(t.bytes);
    assert.ok(d.ok && d.value.kind === 'segment');
    assert.equal(d.value.segment.flags, RST | ACK);
    assert.equal(d.value.segment.seq, b.rcvNxt);
    assert.equal(ea.stats().resetsSent, resetsBefore + 1);
    let bClosedAt = -1;
    eb.handleDatagram(pair.nowMs + 5, pair.addresses[0], t.bytes);
    if (b.state === 'CLOSED') bClosedAt = pair.nowMs + 5;
    assert.equal(bClosedAt, abortAt + 5, 'B is reset by that RST');
    const events: Array<[number, string, string | undefined]> = [];
    pair.run(
      (side, ev) => events.push([side, ev.type, ev.type === 'closed' ? ev.error?.code : undefined]),
      () => events.some(([s, t]) => s === 1 && t === 'closed'),
      10_000,
    );
    assert.deepEqual(events, [
      [0, 'closed', undefined],
      [1, 'closed', 'ECONNRESET'],
    ]);
    assert.equal(b.state, 'CLOSED');
    assert.equal(b.error?.code, 'ECONNRESET');
    assert.equal(ea.stats().connections, 0);
    assert.equal(eb.stats().connections, 0);
    assert.throws(() => a.write(new Uint8Array(1)));
    assert.throws(() => b.write(new Uint8Array(1)), (e: Error & { code?: string }) => e.code === 'ECONNRESET');
  });
});

describe('Endpoint: half-close', () => {
  it('after A shuts down, B still sends and A reads it; then B shuts down; both see end and closed', () => {
    const pair = new MemoryPair(18, [{}, {}], { delayMs: 5 });
    const { a, b } = establish(pair);
    const order: string[] = [];
    const fromB = patternBytes(99, 80_000);
    let bWritten = 0;
    const gotA: Uint8Array[] = [];
    const aEvents: string[] = [];
    const bEvents: string[] = [];
    const aStates = new Set<string>();
    a.shutdown();
    assert.throws(() => a.write(new Uint8Array(1)), (e: Error & { code?: string }) => e.code === 'EPIPE');
    const pumpB = () => {
      while (bWritten < fromB.length) {
        const n = b.write(fromB.subarray(bWritten));
        bWritten += n;
        if (n === 0) return;
      }
      order.push('B shutdown');
      b.shutdown();
    };
    pair.run(
      (side, ev) => {
        (side === 0 ? aEvents : bEvents).push(ev.type);
        if (side === 1 && ev.type === 'end') {
          order.push('B end');
          assert.equal(b.state, 'CLOSE-WAIT');
          pumpB();
        }
        if (side === 1 && ev.type === 'writable') pumpB();
        if (side === 0 && ev.type === 'readable') {
          assert.ok(order.includes('B end'), 'B sends only after it saw A end');
          aStates.add(a.state);
          for (let c = a.read(); c.length > 0; c = a.read()) gotA.push(c);
        }
        if (side === 0 && ev.type === 'end') order.push('A end');
      },
      () => aEvents.includes('closed') && bEvents.includes('closed'),
      60_000,
    );
    assert.deepEqual(concat(gotA), fromB);
    // A read in FIN-WAIT-2 (its FIN acknowledged), the last bytes possibly together with B's FIN (TIME-WAIT).
    assert.ok(aStates.has('FIN-WAIT-2'), `A read in ${[...aStates].join(', ')}`);
    for (const st of aStates) assert.ok(st === 'FIN-WAIT-2' || st === 'TIME-WAIT', `A read in ${st}`);
    assert.deepEqual(order, ['B end', 'B shutdown', 'A end']);
    assert.ok(aEvents.includes('end') && aEvents.includes('closed'));
    assert.ok(bEvents.includes('end') && bEvents.includes('closed'));
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    assert.equal(a.state, 'TIME-WAIT');
    assert.equal(b.state, 'CLOSED');
  });

  it(
    "'closed' is the last event a connection reports ('end' comes before it)",
    () => {
      const pair = new MemoryPair(19, [{}, {}], { delayMs: 5 });
      const { a, b } = establish(pair);
      const aEvents: string[] = [];
      const bEvents: string[] = [];
      a.shutdown();
      pair.run(
        (side, ev) => {
          (side === 0 ? aEvents : bEvents).push(ev.type);
          if (side === 1 && ev.type === 'end') b.shutdown();
        },
        () => aEvents.includes('closed') && aEvents.includes('end') && bEvents.includes('closed'),
        60_000,
      );
      assert.equal(aEvents.at(-1), 'closed', `A's events: ${aEvents.join(', ')}`);
      assert.equal(bEvents.at(-1), 'closed', `B's events: ${bEvents.join(', ')}`);
    },
  );
});

describe('Endpoint: keepalive', () => {
  const idle = 10_000;
  const interval = 1_000;
  const probes = 4;

  function keepalivePair(seed: number): { net: Net; a: Connection; b: Connection; lastActivity: () => number } {
    let last = 0;
    const trace = (e: TraceEvent) => {
      // RFC 1122 4.2.3.6: idleness is measured from the last segment received from the peer.
      if (e.type === 'receive' && e.connectionId !== undefined) last = e.atMs;
    };
    const net = new Net([{ keepaliveIdleMs: idle, keepaliveIntervalMs: interval, keepaliveProbes: probes, trace }, {}], 5, seed);
    const [ea, eb] = net.endpoints as [Endpoint, Endpoint];
    eb.listen({ port: 5000 });
    const a = ea.connect(0, net.addresses[1]!, { port: 5000 });
    let b: Connection | undefined;
    net.run((_s, ev) => void (ev.type === 'accepted' && (b = ev.connection)), () => b !== undefined && a.state === 'ESTABLISHED', 10_000);
    assert.ok(b);
    // Some traffic both ways, then quiet.
    a.write(new Uint8Array(3000));
    b.write(new Uint8Array(2000));
    net.run(
      () => {},
      () => b!.readableBytes === 3000 && a.readableBytes === 2000 && a.stats().inFlightBytes === 0 && b!.stats().inFlightBytes === 0 && !('delayedAck' in a.stats().timers) && !('delayedAck' in b!.stats().timers),
      20_000,
    );
    a.read();
    b.read();
    net.drain(() => {});
    return { net, a, b, lastActivity: () => last };
  }

  /** Make the link silent after some traffic; returns when A failed, and when it last heard from B. */
  function runSilent(seed: number): { closedAt: number; code: string | undefined; quietFrom: number; a: Connection; net: Net } {
    const { net, a, lastActivity } = keepalivePair(seed);
    net.silent = true;
    let closedAt = -1;
    let code: string | undefined;
    net.run(
      (side, ev) => {
        if (side === 0 && ev.type === 'closed') {
          closedAt = net.nowMs;
          code = ev.error?.code;
        }
      },
      () => closedAt >= 0,
      net.nowMs + 10 * idle,
    );
    // Segments already on the link still arrive after it went silent: the last one heard counts.
    return { closedAt, code, quietFrom: lastActivity(), a, net };
  }

  it('a silent link fails the connection with ETIMEDOUT after the idle time and the unanswered probes', () => {
    const { closedAt, code, quietFrom, a, net } = runSilent(21);
    assert.equal(code, 'ETIMEDOUT');
    assert.equal(a.error?.code, 'ETIMEDOUT');
    assert.equal(a.stats().keepalivesSent, probes);
    assert.equal(net.dropped, probes, 'only the probes went out');
    // Never before keepaliveIdleMs + probes * interval of silence, and not a whole idle period later either.
    assert.ok(closedAt >= quietFrom + idle + probes * interval, `closed at ${closedAt}, quiet from ${quietFrom}`);
    assert.ok(closedAt <= quietFrom + 2 * idle + probes * interval, `closed at ${closedAt}, quiet from ${quietFrom}`);
  });

  it(
    'a silent link fails the connection exactly keepaliveIdleMs + probes * interval after the last segment received',
    () => {
      const { closedAt, code, quietFrom } = runSilent(21);
      assert.equal(code, 'ETIMEDOUT');
      assert.equal(closedAt, quietFrom + idle + probes * interval, `last activity at ${quietFrom}`);
    },
  );

  it('on a live link the probes are answered and the connection stays up', () => {
    const { net, a, b } = keepalivePair(22);
    const start = net.nowMs;
    net.run(() => {}, () => false, start + 10 * idle);
    assert.equal(a.state, 'ESTABLISHED');
    assert.equal(b.state, 'ESTABLISHED');
    const ka = a.stats().keepalivesSent;
    // About one probe per idle period, each answered at once (so never more than probes in a row).
    assert.ok(ka >= 8 && ka <= 10, `keepalives sent: ${ka}`);
    assert.ok(b.stats().drops['out-of-window']! >= ka, 'B saw each probe (SEG.SEQ = SND.NXT - 1) and answered it');
    assert.equal(a.error, undefined);
  });
});

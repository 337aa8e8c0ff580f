// The capture module without external tools: pcapng written and read back, classic pcap read, the TCP and UDP
// views (real checksums), typed errors for truncated and foreign files, JSON-lines traces, and the dissection
// that finds the same segments in both views.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CaptureFormatError,
  CaptureRecorder,
  MemorySink,
  PcapngWriter,
  TraceFormatError,
  addressBytes,
  dissectCapture,
  formatAddress,
  internetChecksum,
  parseIp,
  readCapture,
  readPcap,
  readPcapng,
  readTraceJsonl,
  tcpView,
  traceToJsonl,
  transportChecksumOk,
  udpView,
} from '../../src/capture/index.js';
import { wire, type TraceEvent } from '../../src/core/index.js';
import { simLossyTransfer } from '../support/capture.js';

const { ACK, FIN, PSH, SYN, decodeDatagram, encodeSegmentDatagram, encodeUnreliableDatagram } = wire;
type TcpSegment = wire.TcpSegment;

function segment(over: Partial<TcpSegment> = {}): TcpSegment {
  return {
    srcPort: 49152,
    dstPort: 7777,
    seq: 1000,
    ack: 2000,
    flags: ACK | PSH,
    window: 512,
    checksum: 0,
    urgentPointer: 0,
    options: { timestamp: { value: 5, echo: 6 }, sack: [{ left: 3000, right: 4000 }] },
    payload: new TextEncoder().encode('hello, stevens'),
    ...over,
  };
}

const A4 = { address: '192.0.2.1', port: 4000 };
const B4 = { address: '192.0.2.2', port: 7777 };
const A6 = { address: '2001:db8::1', port: 4000 };
const B6 = { address: '2001:db8::2', port: 7777 };

/** A classic pcap file by hand: little- or big-endian, micro- or nanosecond magic. */
function pcapFile(packets: { sec: number; frac: number; bytes: Uint8Array }[], opts: { le: boolean; nano: boolean; linkType: number }): Uint8Array {
  const total = 24 + packets.reduce((n, p) => n + 16 + p.bytes.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, opts.le);
  v.setUint16(4, 2, opts.le);
  v.setUint16(6, 4, opts.le);
  v.setUint32(16, 65535, opts.le);
  v.setUint32(20, opts.linkType, opts.le);
  let at = 24;
  for (const p of packets) {
    v.setUint32(at, p.sec, opts.le);
    v.setUint32(at + 4, p.frac, opts.le);
    v.setUint32(at + 8, p.bytes.length, opts.le);
    v.setUint32(at + 12, p.bytes.length, opts.le);
    out.set(p.bytes, at + 16);
    at += 16 + p.bytes.length;
  }
  return out;
}

describe('pcapng writer and reader', () => {
  it('round-trips interfaces, nanosecond times (bigint and ms), bytes and comments', () => {
    const sink = new MemorySink();
    const w = new PcapngWriter(sink, { comment: 'a test section' });
    const i0 = w.addInterface({ linkType: 101, name: 'stevens-tcp' });
    const i1 = w.addInterface({ linkType: 1, name: 'eth', description: 'second' });
    w.writePacket(i0, 1_700_000_000_123_456_789n, Uint8Array.of(0x45, 1, 2), 'dropped (loss)');
    w.writePacket(i1, 12.345678, Uint8Array.of(9, 8, 7, 6, 5));
    w.writePacket(i0, 0, new Uint8Array(0), 'ünïcode ✓');
    w.close();
    const f = readPcapng(sink.bytes());
    assert.equal(f.format, 'pcapng');
    assert.deepEqual(
      f.interfaces.map((i) => [i.linkType, i.name, i.ticksPerSecond]),
      [
        [101, 'stevens-tcp', 1_000_000_000n],
        [1, 'eth', 1_000_000_000n],
      ],
    );
    assert.equal(f.packets.length, 3);
    assert.equal(f.packets[0]!.timeNs, 1_700_000_000_123_456_789n);
    assert.deepEqual([...f.packets[0]!.bytes], [0x45, 1, 2]);
    assert.deepEqual(f.packets[0]!.comments, ['dropped (loss)']);
    assert.equal(f.packets[1]!.interfaceId, 1);
    assert.equal(f.packets[1]!.timeNs, 12_345_678n);
    assert.deepEqual(f.packets[1]!.comments, []);
    assert.deepEqual(f.packets[2]!.comments, ['ünïcode ✓']);
    assert.equal(readCapture(sink.bytes()).packets.length, 3);
  });

  it('rejects writes to an undeclared interface, negative times and writes after close', () => {
    const w = new PcapngWriter(new MemorySink());
    assert.throws(() => w.writePacket(0, 0, new Uint8Array(1)), /no interface 0/);
    const i = w.addInterface({ linkType: 101 });
    assert.throws(() => w.writePacket(i, -1n, new Uint8Array(1)), /negative/);
    w.close();
    assert.throws(() => w.writePacket(i, 0, new Uint8Array(1)), /closed/);
  });

  it('reads classic pcap in both byte orders, with micro- and nanosecond times', () => {
    const pkt = udpView(encodeSegmentDatagram(segment()), A4, B4);
    for (const le of [true, false]) {
      for (const nano of [false, true]) {
        const f = readPcap(pcapFile([{ sec: 10, frac: 250, bytes: pkt }], { le, nano, linkType: 101 }));
        assert.equal(f.format, 'pcap');
        assert.equal(f.interfaces[0]!.linkType, 101);
        assert.equal(f.packets[0]!.timeNs, 10_000_000_000n + (nano ? 250n : 250_000n));
        assert.deepEqual(f.packets[0]!.bytes, pkt);
        const d = dissectCapture(readCapture(pcapFile([{ sec: 1, frac: 0, bytes: pkt }], { le, nano, linkType: 101 })));
        assert.equal(d.segments.length, 1);
        assert.equal(d.segments[0]!.segment.seq, 1000);
      }
    }
  });

  it('names the offset of a truncated or foreign file with a typed error', () => {
    const sink = new MemorySink();
    const rec = new CaptureRecorder(sink);
    rec.record(1, A4, B4, encodeSegmentDatagram(segment()));
    rec.record(2, A4, B4, encodeSegmentDatagram(segment({ seq: 1014 })));
    rec.close();
    const good = sink.bytes();
    const cut = good.subarray(0, good.length - 10);
    assert.throws(
      () => readCapture(cut),
      (e: unknown) => e instanceof CaptureFormatError && /truncated pcapng block/.test(e.message) && e.offset > 0 && e.message.includes(`at offset ${e.offset}`),
    );
    assert.throws(
      () => readCapture(new TextEncoder().encode('{"type":"send"}\n')),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === 0 && /not a pcap or pcapng file \(magic 0x7b227479\) at offset 0/.test(e.message),
    );
    assert.throws(() => readCapture(new Uint8Array(2)), CaptureFormatError);
    const pcap = pcapFile([{ sec: 1, frac: 0, bytes: new Uint8Array(40) }], { le: true, nano: false, linkType: 101 });
    assert.throws(
      () => readPcap(pcap.subarray(0, 50)),
      (e: unknown) => e instanceof CaptureFormatError && e.offset === 24 && /truncated pcap record/.test(e.message),
    );
  });

  it('never throws anything but CaptureFormatError, on any cut of a capture or any bytes', () => {
    const sink = new MemorySink();
    const rec = new CaptureRecorder(sink, { view: 'udp', comment: 'fuzz' });
    for (let i = 0; i < 4; i++) rec.record(i, A6, B6, encodeSegmentDatagram(segment({ seq: i })), i % 2 ? 'c' : undefined);
    rec.close();
    const good = sink.bytes();
    const pcap = pcapFile([{ sec: 1, frac: 0, bytes: good.subarray(0, 60) }], { le: false, nano: true, linkType: 1 });
    const check = (b: Uint8Array) => {
      try {
        dissectCapture(readCapture(b));
      } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
      }
    };
    for (let n = 0; n <= good.length; n++) check(good.subarray(0, n));
    for (let n = 0; n <= pcap.length; n++) check(pcap.subarray(0, n));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(good.length), (noise, at) => {
        check(noise);
        const mixed = good.slice();
        mixed.set(noise.subarray(0, Math.max(0, good.length - at)), at);
        check(mixed);
      }),
      { numRuns: 300 },
    );
  });
});

describe('TCP and UDP views', () => {
  for (const [name, a, b] of [
    ['IPv4', A4, B4],
    ['IPv6', A6, B6],
  ] as const) {
    it(`${name}: real IP header and transport checksums, TCP header and options byte for byte`, () => {
      const d = encodeSegmentDatagram(segment());
      const tcp = tcpView(d, a, b)!;
      const ip = parseIp(tcp)!;
      assert.equal(ip.protocol, 6);
      assert.equal(ip.src, a.address);
      assert.equal(ip.dst, b.address);
      if (name === 'IPv4') assert.equal(internetChecksum(tcp, 0, 20), 0, 'IPv4 header checksum');
      assert.ok(transportChecksumOk(addressBytes(a.address), addressBytes(b.address), 6, ip.payload), 'TCP checksum');
      // Everything but the checksum field is the segment stevens sent.
      const body = d.subarray(2, d.length - 4);
      assert.deepEqual([...ip.payload.subarray(0, 16)], [...body.subarray(0, 16)]);
      assert.deepEqual([...ip.payload.subarray(18)], [...body.subarray(18)]);

      const udp = udpView(d, a, b);
      const u = parseIp(udp)!;
      assert.equal(u.protocol, 17);
      assert.equal((u.payload[0]! << 8) | u.payload[1]!, a.port);
      assert.equal((u.payload[2]! << 8) | u.payload[3]!, b.port);
      assert.ok(transportChecksumOk(addressBytes(a.address), addressBytes(b.address), 17, u.payload), 'UDP checksum');
      assert.deepEqual(u.payload.subarray(8), d);
    });
  }

  it('no TCP view for unreliable or damaged datagrams; the recorder writes those as UDP with a comment', () => {
    const dgram = encodeUnreliableDatagram(49152, 7777, Uint8Array.of(1, 2, 3));
    assert.equal(tcpView(dgram, A4, B4), undefined);
    const bad = encodeSegmentDatagram(segment());
    bad[30] ^= 1;
    assert.equal(tcpView(bad, A4, B4), undefined);
    const sink = new MemorySink();
    const rec = new CaptureRecorder(sink);
    rec.record(0, A4, B4, dgram);
    rec.record(1, A4, B4, bad);
    rec.record(2, A4, B4, encodeSegmentDatagram(segment()));
    rec.close();
    const f = readCapture(sink.bytes());
    assert.deepEqual(
      f.packets.map((p) => [parseIp(p.bytes)!.protocol, p.comments.join()]),
      [
        [17, 'stevens unreliable datagram'],
        [17, 'invalid stevens datagram (bad-crc)'],
        [6, ''],
      ],
    );
    assert.equal(rec.writtenAsUdp, 2);
    const d = dissectCapture(f);
    assert.equal(d.datagrams.length, 1);
    assert.equal(d.datagrams[0]!.payloadBytes, 3);
    assert.equal(d.segments.length, 1);
    assert.equal(d.skipped, 1);
  });

  it('parses and prints addresses (IPv6 compression, mapped IPv4, zone ids)', () => {
    for (const [text, printed] of [
      ['2001:db8::1', '2001:db8::1'],
      ['::1', '::1'],
      ['::', '::'],
      ['fe80::1%lo', 'fe80::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:192.0.2.7', '192.0.2.7'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ]) {
      assert.equal(formatAddress(addressBytes(text!)), printed, text);
    }
    for (const bad of ['1.2.3', '256.1.1.1', '1:2:3', '1::2::3', 'host.example', '1:2:3:4:5:6:7:8:9']) assert.throws(() => addressBytes(bad), TypeError, bad);
  });

  it('a simulated lossy run has the same segments in its TCP view and its UDP view', () => {
    const r = simLossyTransfer({ seed: 7, bytes: 60_000 });
    assert.ok(r.done);
    const tcp = dissectCapture(readCapture(r.captures['client-tcp']!));
    const udp = dissectCapture(readCapture(r.captures['client-udp']!));
    assert.equal(tcp.skipped, 0);
    assert.equal(udp.skipped, 0);
    const summary = (s: (typeof tcp.segments)[number]) => [s.timeNs, s.src.address, s.src.port, s.dst.port, s.segment.seq, s.segment.ack, s.segment.flags, s.segment.payload.length];
    assert.deepEqual(tcp.segments.map(summary), udp.segments.map(summary));
    assert.ok(tcp.segments.every((s) => s.carrier === 'tcp') && udp.segments.every((s) => s.carrier === 'stevens-udp'));
    // The simulator's drop reasons travel as comments.
    assert.ok(readCapture(r.captures['client-tcp']!).packets.some((p) => p.comments.includes('sim: dropped (loss)')));
    // Every datagram the client sent or received is there, in order.
    assert.equal(tcp.segments.length, r.clientPackets.length);
    tcp.segments.forEach((s, i) => {
      const d = decodeDatagram(r.clientPackets[i]!.bytes);
      assert.ok(d.ok && d.value.kind === 'segment');
      assert.equal(s.segment.seq, d.value.segment.seq);
      assert.equal(s.segment.flags, d.value.segment.flags);
    });
    const synCount = tcp.segments.filter((s) => s.segment.flags & SYN).length;
    const finCount = tcp.segments.filter((s) => s.segment.flags & FIN).length;
    assert.ok(synCount >= 2 && finCount >= 2);
  });
});

describe('JSON-lines traces', () => {
  it('round-trips events with an endpoint label; Infinity becomes null', () => {
    const events: TraceEvent[] = [
      { type: 'state', atMs: 0, connectionId: 1, from: 'CLOSED', to: 'SYN-SENT' },
      { type: 'send', atMs: 1.5, connectionId: 1, seq: 7, ack: 0, flags: SYN, lengthBytes: 0, windowBytes: 65535, retransmit: false },
      { type: 'cwnd', atMs: 2, connectionId: 1, cwndBytes: 14480, ssthreshBytes: Infinity },
      { type: 'drop', atMs: 3, reason: 'bad-crc', remote: { address: '::1', port: 9 } },
    ];
    const text = traceToJsonl(events, 'client');
    assert.equal(text.split('\n').length, 5);
    const back = readTraceJsonl(text);
    assert.equal(back.length, 4);
    assert.equal(back[0]!.endpoint, 'client');
    assert.deepEqual({ ...back[1], endpoint: undefined }, { ...events[1], endpoint: undefined });
    assert.equal((back[2] as { ssthreshBytes: unknown }).ssthreshBytes, null);
  });

  it('names the line of a bad record', () => {
    assert.throws(() => readTraceJsonl('{"type":"rto","atMs":1,"connectionId":1,"rtoMs":2,"backoffs":0}\n\nnot json\n'), (e: unknown) => e instanceof TraceFormatError && e.line === 3);
    assert.throws(() => readTraceJsonl('{"type":"nope","atMs":1}'), /trace line 1: unknown event type "nope"/);
    assert.throws(() => readTraceJsonl('{"type":"send","connectionId":1}'), /trace line 1: atMs must be a finite number/);
  });
});

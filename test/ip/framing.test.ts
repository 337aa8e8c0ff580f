// Raw-IP framing: the core's segments as genuine IPv4/IPv6 + TCP packets and back; bad packets are typed drops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { internetChecksum } from '../../src/ip/checksum.js';
import { bytesToIpv6, ipv6ToBytes } from '../../src/ip/address.js';
import { datagramToIp, ipToDatagram, IPV4_HEADER_BYTES } from '../../src/ip/framing.js';
import { wire } from '../../src/core/index.js';

const { decodeDatagram, encodeSegmentDatagram, encodeUnreliableDatagram, ACK, PSH, SYN } = wire;

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));

function segmentDatagram(payloadBytes: number): Uint8Array {
  return encodeSegmentDatagram({
    srcPort: 40000,
    dstPort: 80,
    seq: 0xfffffff0,
    ack: 12345,
    flags: ACK | PSH,
    window: 501,
    checksum: 0,
    urgentPointer: 0,
    options: { timestamp: { value: 7, echo: 9 }, sack: [{ left: 100, right: 200 }] },
    payload: new Uint8Array(payloadBytes).map((_, i) => i & 0xff),
  });
}

describe('Internet checksum (RFC 1071)', () => {
  it("matches RFC 1071's worked example", () => {
    // Section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2; the checksum is its complement, 220d.
    assert.equal(internetChecksum(hex('0001 f203 f4f5 f6f7')), 0x220d);
  });
  it('is 0 over data that carries its own checksum, odd lengths included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), (data) => {
        const b = new Uint8Array(data.length + (data.length % 2) + 2);
        b.set(data);
        const c = internetChecksum(b);
        b[b.length - 2] = c >> 8;
        b[b.length - 1] = c & 0xff;
        assert.equal(internetChecksum(b), 0);
      }),
    );
  });
});

describe('IPv6 address text', () => {
  it('round-trips canonical forms', () => {
    for (const a of ['::1', 'fd00:5::2', '2001:db8::7', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::', '::ffff:c612:2']) {
      assert.equal(bytesToIpv6(ipv6ToBytes(a), 0), a);
    }
    assert.equal(bytesToIpv6(ipv6ToBytes('::ffff:198.18.0.2'), 0), '::ffff:c612:2');
  });
});

describe('raw-IP framing', () => {
  for (const [src, dst] of [
    ['198.18.0.2', '198.18.0.1'],
    ['fd00:5::2', 'fd00:5::1'],
  ] as const) {
    it(`a segment to ${src.includes(':') ? 'IPv6' : 'IPv4'} and back is the same segment, with valid checksums`, () => {
      for (const n of [0, 1, 100, 1181]) {
        const d = segmentDatagram(n);
        const r = datagramToIp(d, src, dst, 77);
        assert.ok(r.ok);
        const back = ipToDatagram(r.value);
        assert.ok(back.ok, back.ok ? '' : back.reason);
        assert.equal(back.value.src, src);
        assert.equal(back.value.dst, dst);
        assert.deepEqual([...back.value.datagram], [...d]);
        if (!src.includes(':')) {
          assert.equal(r.value[0], 0x45);
          assert.equal((r.value[2]! << 8) | r.value[3]!, r.value.length);
          assert.equal(internetChecksum(r.value, 0, IPV4_HEADER_BYTES), 0, 'IPv4 header checksum');
        } else {
          assert.equal(r.value[0]! >> 4, 6);
          assert.equal((r.value[4]! << 8) | r.value[5]!, r.value.length - 40);
        }
      }
    });
  }

  it('unreliable stevens datagrams have no IP form', () => {
    const r = datagramToIp(encodeUnreliableDatagram(1, 2, new Uint8Array(3)), '198.18.0.2', '198.18.0.1');
    assert.deepEqual(r, { ok: false, reason: 'not-a-segment' });
  });

  it('bad packets are typed drops: checksums, protocol, fragments, lengths, version', () => {
    const good = (datagramToIp(segmentDatagram(50), '198.18.0.2', '198.18.0.1') as { value: Uint8Array }).value;
    const mut = (f: (b: Uint8Array) => void) => {
      const b = good.slice();
      f(b);
      return ipToDatagram(b);
    };
    assert.deepEqual(mut((b) => (b[40] = b[40]! ^ 1)), { ok: false, reason: 'tcp-checksum' });
    assert.deepEqual(mut((b) => (b[8] = 63)), { ok: false, reason: 'ip-header-checksum' });
    const reseal = (b: Uint8Array) => {
      b[10] = 0;
      b[11] = 0;
      const c = internetChecksum(b, 0, 20);
      b[10] = c >> 8;
      b[11] = c & 0xff;
    };
    assert.deepEqual(mut((b) => ((b[9] = 17), reseal(b))), { ok: false, reason: 'ip-not-tcp' });
    assert.deepEqual(mut((b) => ((b[6] = 0x20), reseal(b))), { ok: false, reason: 'ip-fragment' });
    assert.deepEqual(mut((b) => ((b[7] = 8), reseal(b))), { ok: false, reason: 'ip-fragment' });
    assert.deepEqual(mut((b) => ((b[3] = 0xff), (b[2] = 0xff), reseal(b))), { ok: false, reason: 'ip-total-length' });
    assert.deepEqual(mut((b) => ((b[0] = 0x44), reseal(b))), { ok: false, reason: 'ip-header-length' });
    assert.deepEqual(ipToDatagram(good.subarray(0, 10)), { ok: false, reason: 'ip-short' });
    assert.deepEqual(mut((b) => (b[0] = 0x55)), { ok: false, reason: 'ip-version' });
    const v6 = (datagramToIp(segmentDatagram(10), 'fd00:5::2', 'fd00:5::1') as { value: Uint8Array }).value;
    const f6 = v6.slice();
    f6[6] = 44;
    assert.deepEqual(ipToDatagram(f6), { ok: false, reason: 'ip-fragment' });
  });

  it('random and mutated packets never throw', () => {
    const good = (datagramToIp(segmentDatagram(30), 'fd00:5::2', 'fd00:5::1') as { value: Uint8Array }).value;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat(7), (junk, pos, bit) => {
        ipToDatagram(junk);
        const b = good.slice();
        b[pos % b.length] = b[pos % b.length]! ^ (1 << bit);
        const r = ipToDatagram(b);
        if (r.ok) assert.ok(decodeDatagram(r.value.datagram).ok);
      }),
      { numRuns: 2000 },
    );
  });

  it('a SYN from the kernel decodes into the segment the core expects', () => {
    // Linux's SYN to 198.18.0.2:7 from 198.18.0.1:45678 with its usual options, built by hand.
    const syn = encodeSegmentDatagram({ srcPort: 45678, dstPort: 7, seq: 1, ack: 0, flags: SYN, window: 64240, checksum: 0, urgentPointer: 0, options: { mss: 1460, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 }, payload: new Uint8Array(0) });
    const ip = datagramToIp(syn, '198.18.0.1', '198.18.0.2');
    assert.ok(ip.ok);
    const back = ipToDatagram(ip.value);
    assert.ok(back.ok);
    const d = decodeDatagram(back.value.datagram);
    assert.ok(d.ok && d.value.kind === 'segment');
    assert.equal(d.value.segment.options.mss, 1460);
    assert.equal(d.value.segment.options.windowScale, 7);
  });
});

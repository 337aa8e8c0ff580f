import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  ACK,
  CRC_BYTES,
  DATAGRAM_HEADER_BYTES,
  ENCAP_HEADER_BYTES,
  FIN,
  PSH,
  SYN,
  TCP_HEADER_BYTES,
  allocSegmentDatagram,
  canonicalOptionList,
  crc32,
  decodeDatagram,
  decodeOptionList,
  decodeTcpHeader,
  encodeOptionList,
  encodeSegmentDatagram,
  encodeTcpHeader,
  encodeUnreliableDatagram,
  maxSackBlocks,
  optionsFromList,
  optionsLength,
  sealDatagram,
  type DecodeError,
  type SackBlock,
  type TcpOption,
  type TcpOptions,
  type TcpSegment,
} from '../../src/core/wire/index.js';
import { ENCAP_OVERHEAD_BYTES } from '../../src/core/config.js';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Plain Uint8Array copy (Buffer views and Uint8Arrays do not compare equal under deepStrictEqual). */
function u8(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b);
}

/** A bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320), independent of zlib, to check the codec against. */
function referenceCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function sealed(bodyWithHeader: Uint8Array): Uint8Array {
  const out = new Uint8Array(bodyWithHeader.length + 4);
  out.set(bodyWithHeader);
  const c = referenceCrc32(bodyWithHeader);
  out[out.length - 4] = c >>> 24;
  out[out.length - 3] = (c >>> 16) & 0xff;
  out[out.length - 2] = (c >>> 8) & 0xff;
  out[out.length - 1] = c & 0xff;
  return out;
}

function baseSegment(over: Partial<TcpSegment> = {}): TcpSegment {
  return {
    srcPort: 4660,
    dstPort: 80,
    seq: 0x01020304,
    ack: 0xa0b0c0d0,
    flags: ACK | PSH,
    window: 0xffff,
    checksum: 0,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
    ...over,
  };
}

function expectError(r: { ok: boolean; reason?: DecodeError }, reason: DecodeError): void {
  assert.equal(r.ok, false);
  assert.equal(r.reason, reason);
}

/** The options a receiver sees after the canonical layout of `opts` on a segment with or without SYN (written
 * independently of the codec from the rules in the brief). */
function projected(opts: TcpOptions, syn: boolean): TcpOptions {
  const out: TcpOptions = {};
  if (syn) {
    if (opts.mss !== undefined) out.mss = opts.mss;
    if (opts.windowScale !== undefined) out.windowScale = opts.windowScale;
    if (opts.sackPermitted === true) out.sackPermitted = true;
    if (opts.timestamp !== undefined) out.timestamp = { ...opts.timestamp };
  } else {
    if (opts.timestamp !== undefined) out.timestamp = { ...opts.timestamp };
    if (opts.sack !== undefined && opts.sack.length > 0) out.sack = opts.sack.map((b) => ({ ...b }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const u8a = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const port = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const block: fc.Arbitrary<SackBlock> = fc.record({ left: u32, right: u32 }, { noNullPrototype: true });

const tcpOptionsArb: fc.Arbitrary<TcpOptions> = fc
  .record(
    {
      mss: u16,
      windowScale: u8a,
      sackPermitted: fc.constant(true),
      timestamp: fc.record({ value: u32, echo: u32 }, { noNullPrototype: true }),
      sack: fc.array(block, { minLength: 1, maxLength: 4 }),
    },
    { requiredKeys: [], noNullPrototype: true },
  )
  .map((o) => {
    if (o.sack !== undefined && o.sack.length > maxSackBlocks(o)) o.sack = o.sack.slice(0, maxSackBlocks(o));
    return o;
  });

const segmentArb: fc.Arbitrary<TcpSegment> = fc.record({
  srcPort: port,
  dstPort: port,
  seq: u32,
  ack: u32,
  flags: u8a,
  window: u16,
  checksum: u16,
  urgentPointer: u16,
  options: tcpOptionsArb,
  payload: fc.uint8Array({ maxLength: 1300 }),
}, { noNullPrototype: true });

const knownCodes = new Set([0, 1, 2, 3, 4, 5, 8]);
const optionArb: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  u16.map<TcpOption>((value) => ({ kind: 'mss', value })),
  u8a.map<TcpOption>((shift) => ({ kind: 'wscale', shift })),
  fc.constant<TcpOption>({ kind: 'sackOK' }),
  fc.record({ value: u32, echo: u32 }).map<TcpOption>(({ value, echo }) => ({ kind: 'ts', value, echo })),
  fc.array(block, { minLength: 1, maxLength: 4 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc
    .record({ code: u8a.filter((c) => !knownCodes.has(c)), data: fc.uint8Array({ maxLength: 8 }) })
    .map<TcpOption>(({ code, data }) => ({ kind: 'unknown', code, data })),
);

function listBytes(list: TcpOption[]): number {
  let n = 0;
  for (const o of list) {
    if (o.kind === 'eol' || o.kind === 'nop') n += 1;
    else if (o.kind === 'mss') n += 4;
    else if (o.kind === 'wscale') n += 3;
    else if (o.kind === 'sackOK') n += 2;
    else if (o.kind === 'ts') n += 10;
    else if (o.kind === 'sack') n += 2 + 8 * o.blocks.length;
    else n += 2 + o.data.length;
  }
  return n;
}

const optionListArb = fc.array(optionArb, { maxLength: 12 }).filter((l) => listBytes(l) <= 40);

// ---------------------------------------------------------------------------------------------------------------

describe('crc32', () => {
  it('matches the CRC-32 check value', () => {
    const ascii = new TextEncoder().encode('123456789');
    assert.equal(crc32(ascii), 0xcbf43926);
    assert.equal(referenceCrc32(ascii), 0xcbf43926);
  });

  it('covers only [start, end)', () => {
    const ascii = new TextEncoder().encode('xx123456789yyy');
    assert.equal(crc32(ascii, 2, 11), 0xcbf43926);
    assert.equal(crc32(ascii.subarray(1), 1, 10), 0xcbf43926);
  });

  it('agrees with a bitwise reference', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => crc32(b) === referenceCrc32(b)),
      { numRuns: 200 },
    );
  });

  it('gives zlib\'s answer for any range, on both sides of the short-input table path', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 160 }), fc.nat(160), fc.nat(160), (b, x, y) => {
        const start = Math.min(x, y, b.length);
        const end = Math.min(Math.max(x, y), b.length);
        return crc32(b, start, end) === zlibCrc32(b.subarray(start, end)) >>> 0;
      }),
      { numRuns: 500 },
    );
  });
});

describe('known byte vectors', () => {
  it('encodes a 20-byte header', () => {
    const out = new Uint8Array(20);
    assert.equal(encodeTcpHeader(baseSegment(), out, 0), 20);
    // ports 0x1234 0x0050, seq, ack, data offset 5 (0x50), ACK|PSH (0x18), window ffff, checksum 0, urgent 0
    assert.deepEqual(out, hex('1234 0050 01020304 a0b0c0d0 50 18 ffff 0000 0000'));
  });

  it('encodes at an offset and carries checksum, urgent pointer and high sequence numbers', () => {
    const out = new Uint8Array(23).fill(0xee);
    const seg = baseSegment({ srcPort: 65535, dstPort: 1, seq: 0xfffffffe, ack: 0x80000000, flags: 0xff, window: 0x0102, checksum: 0xbeef, urgentPointer: 0x0a0b });
    assert.equal(encodeTcpHeader(seg, out, 2), 20);
    assert.deepEqual(out, hex('eeee ffff 0001 fffffffe 80000000 50 ff 0102 beef 0a0b ee'));
    const r = decodeTcpHeader(out, 2, 22);
    assert.ok(r.ok);
    assert.equal(r.value.seq, 0xfffffffe);
    assert.equal(r.value.ack, 0x80000000);
    assert.equal(r.value.checksum, 0xbeef);
    assert.equal(r.value.urgentPointer, 0x0a0b);
    assert.equal(r.value.flags, 0xff);
    assert.equal(r.value.payload.length, 0);
    assert.equal(r.value.rawOptions?.length, 0);
  });

  const single: [string, TcpOption, string][] = [
    ['EOL', { kind: 'eol' }, '00 000000'],
    ['NOP', { kind: 'nop' }, '01 000000'],
    ['MSS 1460', { kind: 'mss', value: 1460 }, '02 04 05b4'],
    ['window scale 7', { kind: 'wscale', shift: 7 }, '03 03 07 00'],
    ['SACK-permitted', { kind: 'sackOK' }, '04 02 0000'],
    ['timestamps', { kind: 'ts', value: 0x11223344, echo: 0x55667788 }, '08 0a 11223344 55667788 0000'],
    ['SACK, 1 block', { kind: 'sack', blocks: [{ left: 0x01020304, right: 0x05060708 }] }, '05 0a 01020304 05060708 0000'],
    [
      'SACK, 2 blocks',
      { kind: 'sack', blocks: [{ left: 0x01020304, right: 0x05060708 }, { left: 0xfffffff0, right: 0x00000010 }] },
      '05 12 01020304 05060708 fffffff0 00000010 0000',
    ],
    ['unknown kind 30', { kind: 'unknown', code: 30, data: hex('abcd') }, '1e 04 abcd'],
  ];
  for (const [name, opt, bytes] of single) {
    it(`option ${name}`, () => {
      const enc = encodeOptionList([opt]);
      assert.deepEqual(enc, hex(bytes));
      const dec = decodeOptionList(enc);
      assert.ok(dec.ok);
      // padding after the option shows up as one EOL (an EOL ends the list)
      const expected = enc.length === listBytes([opt]) || opt.kind === 'eol' ? [opt] : [opt, { kind: 'eol' }];
      assert.deepEqual(dec.value, expected);
    });
  }

  it('SYN layout: mss 1206, sackOK, TS val 1 ecr 0, nop, wscale 7', () => {
    const opts: TcpOptions = { mss: 1206, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 };
    const expected = hex('020404b6 0402 080a 00000001 00000000 01 030307');
    assert.equal(expected.length, 20);
    assert.deepEqual(encodeOptionList(canonicalOptionList(opts, true)), expected);
    assert.equal(optionsLength(opts, true), 20);
    const out = new Uint8Array(40);
    const seg = baseSegment({ flags: SYN, seq: 0, ack: 0, window: 65535, options: opts });
    assert.equal(encodeTcpHeader(seg, out, 0), 40);
    assert.deepEqual(out, hex('1234 0050 00000000 00000000 a0 02 ffff 0000 0000 020404b6 0402 080a 00000001 00000000 01 030307'));
  });

  it('a known datagram carries its CRC-32 big-endian at the end', () => {
    // type 1: ports 1000 and 2000, payload "hi"
    const dg = encodeUnreliableDatagram(1000, 2000, new TextEncoder().encode('hi'));
    assert.deepEqual(u8(dg), hex('01 01 03e8 07d0 6869 18db1f29'));
    // type 0: the 20-byte header above, no payload
    const sd = encodeSegmentDatagram(baseSegment());
    assert.deepEqual(u8(sd), hex('01 00 1234 0050 01020304 a0b0c0d0 50 18 ffff 0000 0000 ddf4139d'));
    assert.equal(sd.length, TCP_HEADER_BYTES + ENCAP_OVERHEAD_BYTES);
    assert.equal(ENCAP_HEADER_BYTES + CRC_BYTES, ENCAP_OVERHEAD_BYTES);
  });
});

describe('canonical option layouts (Linux order)', () => {
  const ts = { value: 0x0a0b0c0d, echo: 7 };
  const synCases: [string, TcpOptions, string][] = [
    ['all four', { mss: 1460, sackPermitted: true, timestamp: ts, windowScale: 7 }, 'mss sackOK ts nop wscale'],
    ['sackOK, no ts', { mss: 1460, sackPermitted: true, windowScale: 7 }, 'mss nop nop sackOK nop wscale'],
    ['ts, no sackOK', { mss: 1460, timestamp: ts, windowScale: 7 }, 'mss nop nop ts nop wscale'],
    ['neither', { mss: 1460, windowScale: 7 }, 'mss nop wscale'],
    ['no wscale, all else', { mss: 1460, sackPermitted: true, timestamp: ts }, 'mss sackOK ts'],
    ['no wscale, sackOK only', { mss: 1460, sackPermitted: true }, 'mss nop nop sackOK'],
    ['no wscale, ts only', { mss: 1460, timestamp: ts }, 'mss nop nop ts'],
    ['mss only', { mss: 1460 }, 'mss'],
    ['sack blocks are not sent on a SYN', { mss: 1460, sack: [{ left: 1, right: 2 }] }, 'mss'],
    ['nothing', {}, ''],
  ];
  const dataCases: [string, TcpOptions, string][] = [
    ['ts', { timestamp: ts }, 'nop nop ts'],
    ['ts and sack', { timestamp: ts, sack: [{ left: 1, right: 2 }, { left: 5, right: 9 }] }, 'nop nop ts nop nop sack'],
    ['sack only', { sack: [{ left: 1, right: 2 }] }, 'nop nop sack'],
    ['SYN-only options are dropped', { mss: 1460, windowScale: 3, sackPermitted: true, timestamp: ts }, 'nop nop ts'],
    ['empty sack is absent', { sack: [] }, ''],
  ];
  for (const [syn, cases] of [
    [true, synCases],
    [false, dataCases],
  ] as const) {
    for (const [name, opts, layout] of cases) {
      it(`${syn ? 'SYN' : 'non-SYN'}: ${name}`, () => {
        const list = canonicalOptionList(opts, syn);
        assert.equal(list.map((o) => o.kind).join(' '), layout);
        const bytes = encodeOptionList(list);
        assert.equal(listBytes(list) % 4, 0, 'no padding needed');
        assert.equal(optionsLength(opts, syn), bytes.length);
        // the header encoder writes the same bytes without building the list
        const seg = baseSegment({ flags: syn ? SYN : ACK, options: opts });
        const out = new Uint8Array(60);
        const hl = encodeTcpHeader(seg, out, 0);
        assert.equal(hl, 20 + bytes.length);
        assert.deepEqual(out.subarray(20, hl), bytes);
        const r = decodeTcpHeader(out, 0, hl);
        assert.ok(r.ok);
        assert.deepEqual(r.value.options, projected(opts, syn));
      });
    }
  }

  it('byte layouts of the three-option SYN variants', () => {
    assert.deepEqual(encodeOptionList(canonicalOptionList({ mss: 1460, sackPermitted: true, windowScale: 7 }, true)), hex('020405b4 01010402 01030307'));
    assert.deepEqual(encodeOptionList(canonicalOptionList({ mss: 536, windowScale: 14 }, true)), hex('02040218 0103030e'));
    assert.deepEqual(
      encodeOptionList(canonicalOptionList({ timestamp: { value: 2, echo: 3 }, sack: [{ left: 4, right: 5 }] }, false)),
      hex('0101080a 00000002 00000003 0101050a 00000004 00000005'),
    );
  });

  it('maxSackBlocks fills the 40-byte option space', () => {
    assert.equal(maxSackBlocks({}), 4);
    assert.equal(maxSackBlocks(false), 4);
    assert.equal(maxSackBlocks({ timestamp: ts }), 3);
    assert.equal(maxSackBlocks(true), 3);
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => ({ left: i * 10, right: i * 10 + 5 }));
    assert.equal(optionsLength({ sack: blocks(4) }, false), 36);
    assert.equal(optionsLength({ timestamp: ts, sack: blocks(3) }, false), 40);
    assert.ok(optionsLength({ timestamp: ts, sack: blocks(4) }, false) > 40);
    assert.throws(() => encodeTcpHeader(baseSegment({ options: { timestamp: ts, sack: blocks(4) } }), new Uint8Array(80), 0), RangeError);
    assert.throws(() => encodeOptionList([{ kind: 'sack', blocks: blocks(5) }]), RangeError);
  });
});

describe('round trips', () => {
  it('segments through encodeSegmentDatagram / decodeDatagram', () => {
    fc.assert(
      fc.property(segmentArb, (seg) => {
        const syn = (seg.flags & SYN) !== 0;
        const bytes = encodeSegmentDatagram(seg);
        const hl = 20 + optionsLength(seg.options, syn);
        assert.equal(bytes.length, ENCAP_HEADER_BYTES + hl + seg.payload.length + CRC_BYTES);
        const r = decodeDatagram(bytes);
        assert.ok(r.ok);
        assert.equal(r.value.kind, 'segment');
        if (r.value.kind !== 'segment') return;
        const { payload, rawOptions, options, ...fields } = r.value.segment;
        const { payload: p0, options: o0, ...fields0 } = seg;
        assert.deepEqual(fields, fields0);
        assert.deepEqual(options, projected(o0, syn));
        assert.deepEqual(u8(payload), p0);
        assert.equal(rawOptions?.length, hl - 20);
        assert.equal(payload.buffer, bytes.buffer, 'payload is a view');
      }),
      { numRuns: 300 },
    );
  });

  it('segments with arbitrary option layouts given as optionBytes', () => {
    fc.assert(
      fc.property(segmentArb, optionListArb, (seg, list) => {
        const optionBytes = encodeOptionList(list);
        const bytes = encodeSegmentDatagram({ ...seg, optionBytes });
        const r = decodeDatagram(bytes);
        assert.ok(r.ok);
        if (r.value.kind !== 'segment') return assert.fail('not a segment');
        assert.deepEqual(u8(r.value.segment.rawOptions!), optionBytes);
        assert.deepEqual(r.value.segment.options, optionsFromList(list));
        assert.deepEqual(u8(r.value.segment.payload), seg.payload);
      }),
      { numRuns: 200 },
    );
  });

  it('alloc + write payload + seal equals encodeSegmentDatagram', () => {
    fc.assert(
      fc.property(segmentArb, (seg) => {
        const bytes = allocSegmentDatagram(seg, seg.payload.length);
        bytes.set(seg.payload, bytes.length - CRC_BYTES - seg.payload.length);
        sealDatagram(bytes);
        assert.deepEqual(u8(bytes), u8(encodeSegmentDatagram(seg)));
      }),
      { numRuns: 100 },
    );
  });

  it('unreliable datagrams', () => {
    fc.assert(
      fc.property(port, port, fc.uint8Array({ maxLength: 1300 }), (src, dst, payload) => {
        const bytes = encodeUnreliableDatagram(src, dst, payload);
        assert.equal(bytes.length, ENCAP_HEADER_BYTES + DATAGRAM_HEADER_BYTES + payload.length + CRC_BYTES);
        const r = decodeDatagram(bytes);
        assert.ok(r.ok);
        if (r.value.kind !== 'datagram') return assert.fail('not a datagram');
        assert.equal(r.value.srcPort, src);
        assert.equal(r.value.dstPort, dst);
        assert.deepEqual(u8(r.value.payload), payload);
      }),
      { numRuns: 200 },
    );
  });

  it('option lists through encodeOptionList / decodeOptionList', () => {
    fc.assert(
      fc.property(optionListArb, (list) => {
        const bytes = encodeOptionList(list);
        const n = listBytes(list);
        assert.equal(bytes.length, (n + 3) & ~3);
        const r = decodeOptionList(bytes);
        assert.ok(r.ok);
        // the zero padding reads back as one EOL
        assert.deepEqual(r.value, n % 4 === 0 ? list : [...list, { kind: 'eol' }]);
      }),
      { numRuns: 300 },
    );
  });

  it('structured options through the canonical layout', () => {
    fc.assert(
      fc.property(tcpOptionsArb, fc.boolean(), (opts, syn) => {
        const list = canonicalOptionList(opts, syn);
        const bytes = encodeOptionList(list);
        assert.equal(bytes.length, optionsLength(opts, syn));
        assert.equal(listBytes(list), bytes.length);
        const r = decodeOptionList(bytes);
        assert.ok(r.ok);
        assert.deepEqual(r.value, list);
        assert.deepEqual(optionsFromList(r.value), projected(opts, syn));
      }),
      { numRuns: 300 },
    );
  });
});

describe('decode errors', () => {
  const good = () => encodeSegmentDatagram(baseSegment({ payload: hex('010203') }));

  it('short: under 6 bytes, or a body too small for its kind', () => {
    for (let n = 0; n < 6; n++) expectError(decodeDatagram(good().subarray(0, n)), 'short');
    expectError(decodeDatagram(sealed(hex('0100'))), 'short'); // segment, empty body
    expectError(decodeDatagram(sealed(hex('0100 1234 0050 01020304 a0b0c0d0 50 18 ffff 0000 00'))), 'short'); // 19 bytes
    expectError(decodeDatagram(sealed(hex('0101 0001 00'))), 'short'); // datagram, 3-byte body
    expectError(decodeTcpHeader(new Uint8Array(19), 0, 19), 'short');
  });

  it('bad-version', () => {
    const b = good();
    b[0] = 2;
    expectError(decodeDatagram(b), 'bad-version');
    expectError(decodeDatagram(sealed(hex('0001 0001 0002'))), 'bad-version');
  });

  it('bad-type', () => {
    expectError(decodeDatagram(sealed(hex('0102 0001 0002'))), 'bad-type');
    expectError(decodeDatagram(sealed(hex('01ff 0001 0002'))), 'bad-type');
  });

  it('bad-crc', () => {
    const b = good();
    b[b.length - 1] ^= 1;
    expectError(decodeDatagram(b), 'bad-crc');
    const c = good();
    c[10] ^= 0x80;
    expectError(decodeDatagram(c), 'bad-crc');
  });

  it('bad-data-offset', () => {
    // data offset 4
    expectError(decodeDatagram(sealed(hex('0100 1234 0050 01020304 a0b0c0d0 40 18 ffff 0000 0000'))), 'bad-data-offset');
    // data offset 0
    expectError(decodeDatagram(sealed(hex('0100 1234 0050 01020304 a0b0c0d0 00 18 ffff 0000 0000'))), 'bad-data-offset');
    // data offset 6 with only the 20-byte header
    expectError(decodeDatagram(sealed(hex('0100 1234 0050 01020304 a0b0c0d0 60 18 ffff 0000 0000'))), 'bad-data-offset');
    // data offset 15, 8 bytes present after the fixed header
    expectError(decodeTcpHeader(hex('1234 0050 01020304 a0b0c0d0 f0 18 ffff 0000 0000 0101010101010101'), 0, 28), 'bad-data-offset');
  });

  it('bad-option-length', () => {
    const hdr = (opts: string) => {
      const o = hex(opts);
      const words = 5 + o.length / 4;
      return sealed(hex(`0100 1234 0050 01020304 a0b0c0d0 ${(words << 4).toString(16)} 18 ffff 0000 0000 ${opts}`));
    };
    const badOptions = [
      '01010101 010101 02', // kind with no room for its length byte
      '1e01 0000', // length 1
      '1e00 0000', // length 0
      '1e09 0000', // runs past the end
      '0205 05b4 00000000', // MSS with length 5
      '0203 0500', // MSS with length 3
      '0304 0700', // window scale with length 4
      '0403 0000', // SACK-permitted with length 3
      '080b 00000001 00000000 00 00', // timestamps with length 11
      '0502 0000', // SACK with no blocks
      '050b 01020304 05060708 000000000000', // SACK with 9 bytes of blocks
      '0506 01020304 0000', // SACK with 4 bytes of blocks
    ];
    for (const o of badOptions) {
      expectError(decodeDatagram(hdr(o)), 'bad-option-length');
      expectError(decodeOptionList(hex(o)), 'bad-option-length');
    }
    // after an EOL nothing is read, so garbage there is fine
    const r = decodeDatagram(hdr('00 01ff02'));
    assert.ok(r.ok);
    assert.deepEqual(decodeOptionList(hex('00 01ff02')), { ok: true, value: [{ kind: 'eol' }] });
    // unknown kinds with a sane length are skipped
    const u = decodeDatagram(hdr('1e04abcd 020405b4'));
    assert.ok(u.ok && u.value.kind === 'segment');
    if (u.ok && u.value.kind === 'segment') assert.deepEqual(u.value.segment.options, { mss: 1460 });
  });

  it('bad-port', () => {
    expectError(decodeDatagram(encodeSegmentDatagram(baseSegment({ srcPort: 0 }))), 'bad-port');
    expectError(decodeDatagram(encodeSegmentDatagram(baseSegment({ dstPort: 0 }))), 'bad-port');
    expectError(decodeDatagram(encodeUnreliableDatagram(0, 5, hex('00'))), 'bad-port');
    expectError(decodeDatagram(encodeUnreliableDatagram(5, 0, hex(''))), 'bad-port');
    assert.ok(decodeDatagram(encodeUnreliableDatagram(5, 6, hex(''))).ok);
  });

  it('encoder misuse throws RangeError', () => {
    assert.throws(() => encodeTcpHeader({ ...baseSegment(), optionBytes: new Uint8Array(3) }, new Uint8Array(60), 0), RangeError);
    assert.throws(() => encodeTcpHeader({ ...baseSegment(), optionBytes: new Uint8Array(44) }, new Uint8Array(80), 0), RangeError);
    assert.throws(() => encodeTcpHeader(baseSegment(), new Uint8Array(19), 0), RangeError);
    assert.throws(() => encodeTcpHeader(baseSegment(), new Uint8Array(30), 11), RangeError);
    assert.throws(() => encodeOptionList(Array.from({ length: 41 }, () => ({ kind: 'nop' }) as TcpOption)), RangeError);
    assert.throws(() => encodeOptionList([{ kind: 'sack', blocks: [] }]), RangeError);
    assert.equal(encodeOptionList(Array.from({ length: 40 }, () => ({ kind: 'nop' }) as TcpOption)).length, 40);
  });
});

describe('hostile input', () => {
  /** The reason decodeDatagram must give for bytes whose CRC does not match (checks are ordered). */
  function reasonForCorrupt(b: Uint8Array): DecodeError {
    if (b.length < 6) return 'short';
    if (b[0] !== 1) return 'bad-version';
    if (b[1] !== 0 && b[1] !== 1) return 'bad-type';
    return 'bad-crc';
  }

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        const r = decodeDatagram(b);
        if (!r.ok) assert.equal(r.reason, reasonForCorrupt(b));
        decodeOptionList(b);
        decodeTcpHeader(b, 0, b.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeTcpHeader on random ranges of random bytes never throws', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 90 }).chain((b) =>
          fc.tuple(fc.constant(b), fc.integer({ min: 0, max: b.length }), fc.integer({ min: 0, max: b.length })),
        ),
        ([b, x, y]) => {
          const [start, end] = x <= y ? [x, y] : [y, x];
          const r = decodeTcpHeader(b, start, end);
          if (r.ok) assert.equal(start + 20 + r.value.rawOptions!.length + r.value.payload.length, end);
          else if (end - start < 20) assert.equal(r.reason, 'short');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random sealed bodies never throw, and decode consistently', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.uint8Array({ maxLength: 100 }), (type, body) => {
        const b = sealed(Uint8Array.from([1, type, ...body]));
        const r = decodeDatagram(b);
        if (r.ok && r.value.kind === 'segment') {
          const s = r.value.segment;
          assert.equal(2 + 20 + s.rawOptions!.length + s.payload.length + 4, b.length);
          const list = decodeOptionList(s.rawOptions!);
          assert.ok(list.ok);
          assert.deepEqual(s.options, optionsFromList(list.value));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random option bytes: the fast decoder and the list decoder agree', () => {
    const words = fc.integer({ min: 0, max: 10 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));
    // bias towards known kinds and plausible lengths so that both success and failure are common
    const plausible = fc
      .array(fc.oneof(fc.constantFrom(0, 1, 1, 2, 3, 4, 5, 8, 30), fc.constantFrom(2, 3, 4, 10, 18, 26), u8a), { maxLength: 40 })
      .map((a) => Uint8Array.from(a.slice(0, a.length & ~3)));
    fc.assert(
      fc.property(fc.oneof(words, plausible), (opt) => {
        const hdr = new Uint8Array(20 + opt.length);
        encodeTcpHeader({ ...baseSegment(), optionBytes: opt }, hdr, 0);
        const fast = decodeTcpHeader(hdr, 0, hdr.length);
        const list = decodeOptionList(opt);
        assert.equal(fast.ok, list.ok);
        if (fast.ok && list.ok) assert.deepEqual(fast.value.options, optionsFromList(list.value));
        if (!fast.ok) assert.equal(fast.reason, 'bad-option-length');
      }),
      { numRuns: 2000 },
    );
  });

  const validDatagram = fc.oneof(
    segmentArb.map((s) => encodeSegmentDatagram({ ...s, payload: s.payload.subarray(0, 200) })),
    fc.tuple(port, port, fc.uint8Array({ maxLength: 200 })).map(([a, b, p]) => encodeUnreliableDatagram(a, b, p)),
  );

  it('bit flips are rejected', () => {
    fc.assert(
      fc.property(
        validDatagram.chain((d) => fc.tuple(fc.constant(d), fc.uniqueArray(fc.integer({ min: 0, max: d.length * 8 - 1 }), { minLength: 1, maxLength: 3 }))),
        ([d, bits]) => {
          const m = Uint8Array.from(d);
          for (const bit of bits) m[bit >>> 3] ^= 1 << (bit & 7);
          const r = decodeDatagram(m);
          assert.equal(r.ok, false);
          assert.equal(r.ok ? undefined : r.reason, reasonForCorrupt(m));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('truncation and extension are rejected', () => {
    fc.assert(
      fc.property(
        validDatagram.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.oneof(
              fc.integer({ min: 0, max: d.length - 1 }).map((n) => d.subarray(0, n)),
              fc.uint8Array({ minLength: 1, maxLength: 16 }).map((x) => Uint8Array.from([...d, ...x])),
            ),
          ),
        ),
        ([d, m]) => {
          const r = decodeDatagram(m);
          const same = m.length === d.length && m.every((x, i) => x === d[i]);
          if (same) return assert.ok(r.ok);
          assert.equal(r.ok, false);
          assert.equal(r.ok ? undefined : r.reason, reasonForCorrupt(m));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

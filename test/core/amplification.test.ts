// No amplification: towards an address that has not completed a handshake, an endpoint never sends more bytes than
// it received from it, over the whole retry schedule (SYN-ACK retransmissions included). One spoofed datagram of
// each kind goes in; every timer then runs out (10 minutes of virtual time); out/in <= 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint, wire } from '../../src/core/index.js';

const { ACK, FIN, RST, SYN, encodeSegmentDatagram, encodeUnreliableDatagram } = wire;
const VICTIM = { address: '203.0.113.9', port: 5555 };

function seg(flags: number, options: wire.TcpOptions = {}, payload = new Uint8Array(0)): Uint8Array {
  return encodeSegmentDatagram({ srcPort: 40000, dstPort: 7, seq: 123456, ack: 987654, flags, window: 65535, checksum: 0, urgentPointer: 0, options, payload });
}

const FULL: wire.TcpOptions = { mss: 1460, sackPermitted: true, timestamp: { value: 77, echo: 0 }, windowScale: 7 };

const INPUTS: Array<[string, Uint8Array]> = [
  ['SYN without options', seg(SYN)],
  ['SYN with full options', seg(SYN, FULL)],
  ['SYN with MSS only', seg(SYN, { mss: 1400 })],
  ['SYN with timestamps only', seg(SYN, { timestamp: { value: 5, echo: 0 } })],
  ['ACK', seg(ACK)],
  ['FIN', seg(FIN | ACK)],
  ['data', seg(ACK, {}, new Uint8Array(10))],
  ['RST', seg(RST)],
  ['datagram to no connection', encodeUnreliableDatagram(40000, 7, new Uint8Array(20))],
  ['junk', new Uint8Array([1, 0, 9, 9, 9, 9, 9, 9])],
];

function ratio(bytes: Uint8Array, synCookies: 'auto' | 'always' | 'never', repeats = 1): { inBytes: number; outBytes: number } {
  const ep = new Endpoint({ seed: 3 });
  ep.listen({ port: 7, synCookies });
  let now = 0;
  let outBytes = 0;
  let inBytes = 0;
  const drain = () => {
    for (let t = ep.pollTransmit(now); t; t = ep.pollTransmit(now)) {
      assert.deepEqual(t.remote, VICTIM);
      outBytes += t.bytes.length;
    }
  };
  for (let i = 0; i < repeats; i++) {
    ep.handleDatagram(now, VICTIM, bytes);
    inBytes += bytes.length;
    drain();
    now += 1000;
  }
  // Every timer runs out: SYN-ACK retransmissions, then the half-open connection's end.
  for (let guard = 0; guard < 10_000; guard++) {
    const d = ep.pollTimeoutMs();
    if (d === undefined || d > 600_000) break;
    now = Math.max(now, d);
    ep.handleTimeout(now);
    drain();
  }
  return { inBytes, outBytes };
}

for (const mode of ['auto', 'always'] as const) {
  for (const [name, bytes] of INPUTS) {
    test(`${name} (cookies ${mode}): bytes out / bytes in <= 1.0 over the whole retry schedule`, () => {
      const r = ratio(bytes, mode);
      assert.ok(r.outBytes <= r.inBytes, `${r.outBytes} out for ${r.inBytes} in`);
    });
  }
}

test('a SYN answered at all gets exactly one SYN-ACK of at most its size; its retransmissions wait for the peer', () => {
  const once = ratio(seg(SYN, FULL), 'auto');
  assert.equal(once.outBytes, once.inBytes, 'one SYN-ACK, as large as the SYN with the same options');
  // The peer's SYN retransmissions drive the exchange: one SYN-ACK each, never more.
  const thrice = ratio(seg(SYN, FULL), 'auto', 3);
  assert.equal(thrice.outBytes, thrice.inBytes);
});

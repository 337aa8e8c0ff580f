// Each SYN cookie path (RFC 4987): the SYN-ACK carries a cookie and the endpoint keeps nothing; the ACK that
// returns it builds the connection with the options the SYN offered (window scale and SACK through the
// timestamp's low bits; without timestamps neither); a stale cookie, a forged one and one for another 4-tuple are
// refused; a cookie SYN-ACK is never larger than its SYN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint, wire } from '../../src/core/index.js';

const { ACK, SYN, decodeDatagram, encodeSegmentDatagram } = wire;
const C = { address: '198.18.0.2', port: 40000 };

function synAckFor(server: Endpoint, nowMs: number, options: wire.TcpOptions, bytesOut: { n: number } = { n: 0 }): wire.TcpSegment {
  const syn = encodeSegmentDatagram({ srcPort: 5555, dstPort: 7, seq: 1000, ack: 0, flags: SYN, window: 65535, checksum: 0, urgentPointer: 0, options, payload: new Uint8Array(0) });
  server.handleDatagram(nowMs, C, syn);
  const t = server.pollTransmit(nowMs)!;
  bytesOut.n = t.bytes.length;
  assert.ok(t.bytes.length <= syn.length, `SYN-ACK ${t.bytes.length} bytes for a ${syn.length}-byte SYN`);
  const d = decodeDatagram(t.bytes);
  assert.ok(d.ok && d.value.kind === 'segment');
  return d.value.segment;
}

function ackFor(synAck: wire.TcpSegment, ts: boolean, payload = new Uint8Array(0), ackDelta = 0): Uint8Array {
  const options: wire.TcpOptions = ts && synAck.options.timestamp ? { timestamp: { value: 2000, echo: synAck.options.timestamp.value } } : {};
  return encodeSegmentDatagram({ srcPort: 5555, dstPort: 7, seq: 1001, ack: (synAck.seq + 1 + ackDelta) >>> 0, flags: ACK, window: 1000, checksum: 0, urgentPointer: 0, options, payload });
}

for (const ts of [true, false]) {
  test(`a cookie connection (timestamps ${ts ? 'on' : 'off'}) is built from the returned cookie with the right options`, () => {
    const server = new Endpoint({ seed: 1 });
    server.listen({ port: 7, synCookies: 'always' });
    const full: wire.TcpOptions = { mss: 1400, sackPermitted: true, windowScale: 7, ...(ts ? { timestamp: { value: 1500, echo: 0 } } : {}) };
    const synAck = synAckFor(server, 10, full);
    assert.equal(synAck.flags, SYN | ACK);
    assert.equal(server.stats().connections, 0, 'no state kept for the SYN');
    assert.equal(server.stats().synCookiesSent, 1);
    server.handleDatagram(60, C, ackFor(synAck, ts, new TextEncoder().encode('hi')));
    const ev = server.pollEvent();
    assert.equal(ev?.type, 'accepted');
    const s = ev!.connection.stats();
    assert.equal(s.state, 'ESTABLISHED');
    assert.equal(s.iss, synAck.seq);
    assert.equal(s.irs, 1000);
    assert.equal(s.peerMssBytes, 1380, 'the MSS rounded down to the cookie table');
    assert.equal(s.timestamps, ts);
    assert.equal(s.sackPermitted, ts, 'SACK-permitted rides in the timestamp');
    assert.equal(s.sendWindowShift, ts ? 7 : 0, 'the window scale rides in the timestamp');
    assert.equal(server.pollEvent()?.type, 'readable');
    assert.equal(new TextDecoder().decode(ev!.connection.read()), 'hi', 'data on the third segment is delivered');
    assert.equal(server.stats().synCookiesAccepted, 1);
  });
}

test('a stale cookie (three ticks later), a forged one, and one returned from another port are refused', () => {
  const server = new Endpoint({ seed: 1 });
  server.listen({ port: 7, synCookies: 'always' });
  const synAck = synAckFor(server, 0, { mss: 1206 });
  // Forged: one bit off.
  server.handleDatagram(10, C, ackFor(synAck, false, new Uint8Array(0), 64));
  // Another UDP source port.
  server.handleDatagram(10, { address: C.address, port: C.port + 1 }, ackFor(synAck, false));
  assert.equal(server.stats().connections, 0);
  assert.equal(server.stats().drops['bad-cookie'], 2);
  // Within two ticks (64 s each) it is still good; the refused ones were answered with (rate-limited) RSTs.
  for (let t = server.pollTransmit(10); t; t = server.pollTransmit(10)) assert.ok(decodeDatagram(t.bytes).ok);
  const again = synAckFor(server, 1000, { mss: 1206 });
  // Cookies are still being sent at 199 s (so returned ones are looked at), but this one is from 1 s.
  synAckFor(server, 199_000, { mss: 1206 });
  server.handleDatagram(200_000, C, ackFor(again, false));
  assert.equal(server.stats().connections, 0, 'a cookie three ticks old is stale');
  assert.equal(server.stats().drops['bad-cookie'], 3);
});

test("without a cookie sent recently, an ACK for no connection is not taken for one ('auto' below the backlog)", () => {
  const server = new Endpoint({ seed: 1 });
  server.listen({ port: 7 });
  const cookieServer = new Endpoint({ seed: 1 });
  cookieServer.listen({ port: 7, synCookies: 'always' });
  const synAck = synAckFor(cookieServer, 0, { mss: 1206 });
  server.handleDatagram(10, C, ackFor(synAck, false));
  assert.equal(server.stats().connections, 0);
  assert.equal(server.stats().drops['bad-cookie'] ?? 0, 0, 'not even looked at');
  assert.equal(server.stats().drops['not-syn-to-listener'], 1);
});

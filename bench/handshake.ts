// Handshakes per second a server endpoint completes with SYN cookies on ('always') and off ('never', state kept),
// measured in the same run, and the cost of answering one flood SYN (a cookie SYN-ACK, no state).
import { loadavg } from 'node:os';
import { Endpoint, wire } from '../src/core/index.js';
import { printTable } from './table.js';

const { SYN, encodeSegmentDatagram } = wire;

function handshakesPerS(synCookies: 'always' | 'never', n: number): number {
  const server = new Endpoint({ seed: 1 });
  server.listen({ port: 7, synCookies, backlog: n + 1 });
  const client = new Endpoint({ seed: 2 });
  const S = { address: '198.18.0.1', port: 7777 };
  const C = { address: '198.18.0.2', port: 40000 };
  const t0 = performance.now();
  let now = 0;
  for (let i = 0; i < n; i++) client.connect(now, S, { port: 7 });
  let accepted = 0;
  for (let round = 0; round < 4 && accepted < n; round++) {
    for (let t = client.pollTransmit(now); t; t = client.pollTransmit(now)) server.handleDatagram(now, C, t.bytes);
    for (let t = server.pollTransmit(now); t; t = server.pollTransmit(now)) client.handleDatagram(now, S, t.bytes);
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) if (ev.type === 'accepted') accepted++;
    now += 1;
  }
  for (let ev = client.pollEvent(); ev; ev = client.pollEvent());
  const s = (performance.now() - t0) / 1000;
  if (accepted !== n) throw new Error(`${accepted} of ${n} handshakes completed`);
  return n / s;
}

function floodSynUs(n: number): number {
  const server = new Endpoint({ seed: 1 });
  server.listen({ port: 7, synCookies: 'always' });
  const syns = Array.from({ length: 1024 }, (_, i) => encodeSegmentDatagram({ srcPort: 1024 + i, dstPort: 7, seq: i * 7919, ack: 0, flags: SYN, window: 64240, checksum: 0, urgentPointer: 0, options: { mss: 1460, sackPermitted: true, timestamp: { value: i, echo: 0 }, windowScale: 7 }, payload: new Uint8Array(0) }));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    server.handleDatagram(i / 20, { address: `198.51.100.${i & 0xff}`, port: 1024 + (i & 0x3ff) }, syns[i & 1023]!);
    server.pollTransmit(i / 20);
  }
  return ((performance.now() - t0) * 1000) / n;
}

export function runHandshakeBench(quick: boolean): void {
  const n = quick ? 2000 : 10_000;
  handshakesPerS('never', 500);
  handshakesPerS('always', 500);
  const off = handshakesPerS('never', n);
  const on = handshakesPerS('always', n);
  floodSynUs(20_000);
  const us = floodSynUs(quick ? 20_000 : 100_000);
  printTable(`Handshake: a server endpoint completing ${n} handshakes in memory (load ${loadavg()[0]!.toFixed(2)})`, ['what', 'handshakes/s', 'ratio to cookies off'], [
    ['SYN cookies off (state per SYN)', off, 1],
    ["SYN cookies 'always' (no state until the ACK)", on, on / off],
  ]);
  printTable('Handshake: one flood SYN answered with a cookie SYN-ACK (no state kept)', ['what', 'us per SYN'], [['decode, MAC, SYN-ACK, seal', us]]);
}

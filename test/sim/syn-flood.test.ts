// Under a SYN flood from spoofed addresses (virtual time, 100 ms RTT), honest connections opened every 50 ms all
// complete and echo their data: past the backlog the server answers with SYN cookies and keeps no state, and it
// never drops a half-open connection whose SYN-ACK it already sent. Without cookies the same flood locks them
// out (so the test can fail). The server's state stays bounded: about 0 bytes per flooding SYN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoint, type Connection } from '../../src/core/index.js';
import { Adversary, Simulator } from '../../src/sim/index.js';

interface FloodResult {
  opened: number;
  echoed: number;
  failed: number;
  maxServerConnections: number;
  cookiesSent: number;
  cookiesAccepted: number;
  floodSyns: number;
  bytesToSpoofed: number;
}

function flood(ratePerS: number, synCookies: 'auto' | 'never', durationMs = 8000): FloodResult {
  const sim = new Simulator({ seed: 9 });
  const server = new Endpoint({ seed: 1 });
  server.listen({ port: 7, synCookies });
  const client = new Endpoint({ seed: 2 });
  const serverHost = sim.addHost({ name: 'server', ipv4: '198.18.0.1', port: 7777 }, server, () => {
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) {
      if (ev.type === 'readable') for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) ev.connection.write(b);
      if (ev.type === 'end') ev.connection.close();
    }
  });
  const r: FloodResult = { opened: 0, echoed: 0, failed: 0, maxServerConnections: 0, cookiesSent: 0, cookiesAccepted: 0, floodSyns: 0, bytesToSpoofed: 0 };
  const got = new Map<Connection, string>();
  const clientHost = sim.addHost({ name: 'client', ipv4: '198.18.0.2', port: 40000 }, client, () => {
    for (let ev = client.pollEvent(); ev; ev = client.pollEvent()) {
      const c = ev.connection;
      if (ev.type === 'connected') c.write(new TextEncoder().encode(`hello ${c.id}`));
      if (ev.type === 'readable') {
        const text = (got.get(c) ?? '') + new TextDecoder().decode(c.read());
        got.set(c, text);
        if (text === `hello ${c.id}`) {
          r.echoed++;
          c.shutdown();
        }
      }
      if (ev.type === 'closed' && ev.error) r.failed++;
    }
  });
  sim.connect(clientHost, serverHost, { delayMs: 50 });
  const adversary = new Adversary(sim, 5);
  adversary.synFlood({ address: '198.18.0.1', port: 7777, tcpPort: 7 }, 0, durationMs + 2000, ratePerS);
  for (let t = 500; t < durationMs; t += 50) {
    sim.at(t, (now) => {
      client.connect(now, { address: '198.18.0.1', port: 7777 }, { port: 7 });
      r.opened++;
    }, clientHost);
  }
  sim.at(0, () => {}, serverHost);
  for (let t = 0; t < durationMs + 2000; t += 100) sim.at(t, () => (r.maxServerConnections = Math.max(r.maxServerConnections, server.stats().connections)));
  sim.run(durationMs + 2000);
  const st = server.stats();
  r.cookiesSent = st.synCookiesSent;
  r.cookiesAccepted = st.synCookiesAccepted;
  r.floodSyns = adversary.stats.datagramsSent;
  r.bytesToSpoofed = sim.dropsByReason()['no-route'] ?? 0;
  return r;
}

for (const rate of [2000, 20_000]) {
  test(`a SYN flood of ${rate}/s: every honest connection completes and echoes; state stays bounded`, () => {
    const r = flood(rate, 'auto');
    assert.equal(r.opened, 150);
    assert.equal(r.echoed, r.opened, JSON.stringify(r));
    assert.equal(r.failed, 0);
    // The half-open table holds at most the backlog (128); cookies answer the rest and keep nothing.
    assert.ok(r.maxServerConnections <= 128 + 10, `at most ${r.maxServerConnections} connections held`);
    assert.ok(r.cookiesSent > r.floodSyns * 0.9, `${r.cookiesSent} cookies for ${r.floodSyns} flood SYNs`);
    assert.ok(r.cookiesAccepted > 0, 'honest clients came in through cookies');
  });
}

test('without SYN cookies the same flood keeps honest clients out (the test above can fail)', () => {
  const r = flood(2000, 'never', 3000);
  assert.ok(r.echoed < r.opened / 2, `${r.echoed} of ${r.opened} echoed`);
});

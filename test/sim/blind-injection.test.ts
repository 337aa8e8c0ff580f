// Blind injection at a live connection: 10^5 segments of each kind (RST, SYN, ACK, data) with guessed numbers,
// claiming the honest client's address and ports, while the client streams 2 MB to an echo server. The stream
// arrives intact, nobody is reset, and every reply the attack draws stays within its limit (challenge ACKs 10 a
// second, ACKs to invalid segments one per 500 ms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Endpoint, type Connection } from '../../src/core/index.js';
import { Adversary, Simulator } from '../../src/sim/index.js';

for (const timestamps of [true, false]) test(`10^5 blind segments of each kind (timestamps ${timestamps ? 'on' : 'off'}): the stream is intact and every reply is within its rate limit`, () => {
  const sim = new Simulator({ seed: 4 });
  const server = new Endpoint({ seed: 1, timestamps });
  server.listen({ port: 7 });
  const client = new Endpoint({ seed: 2, timestamps });
  let serverConn: Connection | undefined;
  const serverHost = sim.addHost({ name: 'server', ipv4: '198.18.0.1', port: 7777 }, server, () => {
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) {
      if (ev.type === 'accepted') serverConn = ev.connection;
      if (ev.type === 'readable') for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) ev.connection.write(b);
      if (ev.type === 'end') ev.connection.shutdown();
    }
  });
  const total = 2_000_000;
  const data = new Uint8Array(total).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  let written = 0;
  const echoed = createHash('sha256');
  let echoedBytes = 0;
  const errors: string[] = [];
  let conn: Connection | undefined;
  const clientHost = sim.addHost({ name: 'client', ipv4: '198.18.0.2', port: 40000 }, client, () => {
    for (let ev = client.pollEvent(); ev; ev = client.pollEvent()) {
      if (ev.type === 'connected' || ev.type === 'writable') {
        while (written < total) {
          const n = ev.connection.write(data.subarray(written, Math.min(total, written + 16384)));
          written += n;
          if (n === 0) break;
        }
        if (written === total) ev.connection.shutdown();
      }
      if (ev.type === 'readable') for (let b = ev.connection.read(); b.length > 0; b = ev.connection.read()) { echoed.update(b); echoedBytes += b.length; }
      if (ev.type === 'closed' && ev.error) errors.push(ev.error.code);
    }
  });
  // A slow link, so the transfer lasts through the whole attack (10 s).
  sim.connect(clientHost, serverHost, { delayMs: 20, rateBitsPerS: 1e6, queuePackets: 100 });
  sim.at(0, (now) => (conn = client.connect(now, { address: '198.18.0.1', port: 7777 }, { port: 7 })), clientHost);
  const adversary = new Adversary(sim, 8);
  const attackFromMs = 1000;
  const attackMs = 10_000;
  sim.at(attackFromMs - 1, () => {
    adversary.blindInjection({ address: '198.18.0.2', port: 40000 }, conn!.localPort, { address: '198.18.0.1', port: 7777 }, 7, attackFromMs, attackFromMs + attackMs, 40_000, ['rst', 'syn', 'ack', 'data']);
  });
  sim.run(120_000, () => echoedBytes === total && conn!.state === 'CLOSED');
  assert.deepEqual(errors, [], 'no reset, no timeout');
  assert.equal(echoedBytes, total);
  assert.equal(echoed.digest('hex'), createHash('sha256').update(data).digest('hex'), 'the echo is intact');
  assert.ok(adversary.stats.datagramsSent >= 4e5, `${adversary.stats.datagramsSent} blind segments`);
  const s = serverConn!.stats();
  const seconds = attackMs / 1000 + 1;
  assert.ok(s.challengeAcks <= 10 * seconds, `${s.challengeAcks} challenge ACKs in ${seconds} s`);
  assert.ok(s.invalidAcksSent <= seconds * 2 + 1, `${s.invalidAcksSent} ACKs to invalid segments in ${seconds} s`);
  const dropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
  assert.ok(dropped >= adversary.stats.datagramsSent * 0.99, `${dropped} of ${adversary.stats.datagramsSent} blind segments dropped: ${JSON.stringify(s.drops)}`);
  // With timestamps, a blind segment is dropped for its missing option (RFC 7323 3.2) before any reply is due;
  // without, the out-of-window ones want ACKs, and the limit refuses nearly all.
  if (timestamps) assert.ok((s.drops['missing-timestamp'] ?? 0) > 2.9e5, JSON.stringify(s.drops));
  else assert.ok((s.drops['invalid-ack-limited'] ?? 0) > 2.9e5, JSON.stringify(s.drops));
});

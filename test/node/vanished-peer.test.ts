// A vanished server is noticed quickly: the client's UDP socket is connected, so the kernel reports ICMP port
// unreachable on it; repeated reports (src/node/unreachable.ts) end the connection with ECONNREFUSED instead of the
// whole retransmission schedule (about 8.7 minutes for the tcp profile). A single report, or reports from a peer
// that keeps answering, change nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants } from 'node:os';
import { connect } from '../../src/node/index.js';
import { isUnreachableCode, UnreachableRule, UNREACHABLE_MIN_GAP_MS, UNREACHABLE_WINDOW_MS } from '../../src/node/unreachable.js';
import { startServe } from '../support/serve.js';

describe('the unreachable rule', () => {
  it('one report, or a burst from one flush, does not abort; three reports a round trip apart do', () => {
    const rule = new UnreachableRule();
    assert.equal(rule.report(1000, 0, 5), false);
    // A burst: the same flush's datagrams, within one round trip.
    assert.equal(rule.report(1001, 0, 5), false);
    assert.equal(rule.report(1004, 0, 5), false);
    assert.equal(rule.count, 1);
    assert.equal(rule.report(1010, 0, 5), false);
    assert.equal(rule.report(1020, 0, 5), true);
  });

  it('the gap is the smoothed RTT, at least UNREACHABLE_MIN_GAP_MS', () => {
    const slow = new UnreachableRule();
    slow.report(0, -1, 200);
    slow.report(150, -1, 200);
    assert.equal(slow.count, 1, 'within one RTT of 200 ms');
    const unknown = new UnreachableRule();
    unknown.report(0, -1, NaN);
    unknown.report(UNREACHABLE_MIN_GAP_MS - 1, -1, NaN);
    assert.equal(unknown.count, 1);
  });

  it('a peer heard from after a report starts the count again (it is alive: the reports were strays)', () => {
    const rule = new UnreachableRule();
    rule.report(0, -1, 1);
    rule.report(100, -1, 1);
    // A segment arrived at 150.
    assert.equal(rule.report(200, 150, 1), false);
    assert.equal(rule.count, 1);
    assert.equal(rule.firstAtMs, 200);
  });

  it('reports further apart than the window do not add up', () => {
    const rule = new UnreachableRule();
    rule.report(0, -1, 1);
    rule.report(UNREACHABLE_WINDOW_MS / 2, -1, 1);
    assert.equal(rule.report(UNREACHABLE_WINDOW_MS + 10, -1, 1), false);
    assert.equal(rule.count, 2);
  });

  it('only port and host unreachable count; a network gone (ENETUNREACH) is left to the user timeout', () => {
    assert.ok(isUnreachableCode('ECONNREFUSED'));
    assert.ok(isUnreachableCode('EHOSTUNREACH'));
    for (const code of ['ENETUNREACH', 'EMSGSIZE', 'EPERM', undefined]) assert.ok(!isUnreachableCode(code));
  });
});

describe('a SIGKILLed server over loopback', () => {
  for (const profile of ['tcp', 'game'] as const) {
    it(`${profile} profile: the client's next write ends in ECONNREFUSED within seconds, not the retransmission schedule`, async () => {
      const serve = await startServe();
      try {
        const client = connect({ host: '127.0.0.1', port: serve.port, profile });
        await once(client, 'connect');
        client.write(Buffer.alloc(64));
        await once(client, 'data');
        const failed = once(client, 'error') as Promise<[NodeJS.ErrnoException & { address?: string; port?: number }]>;
        const closed = new Promise((r) => client.once('close', r));
        serve.child.kill('SIGKILL');
        await once(serve.child, 'exit');
        const t0 = performance.now();
        client.write(Buffer.alloc(64));
        const [err] = await failed;
        const ms = performance.now() - t0;
        assert.equal(err.code, 'ECONNREFUSED');
        assert.equal(err.errno, -constants.errno.ECONNREFUSED);
        assert.equal(err.address, '127.0.0.1');
        assert.equal(err.port, serve.port);
        // Measured about 0.6 s (tcp: the write and two retransmissions, the RTO at its 200 ms floor) and 0.04 s
        // (game); the retransmission schedule alone takes 522 s and 5.2 s. The bound leaves room for a loaded machine.
        assert.ok(ms < 4000, `noticed after ${ms.toFixed(0)} ms`);
        await closed;
      } finally {
        await serve.stop();
      }
    });
  }
});

// Captures of stevens transfers under loss, read by tshark with IP and TCP checksum validation on: no malformed
// packet, no bad checksum, and as many retransmissions flagged as stevens itself counted. Two sources: the
// simulator (the lossy-5 profile: 5% loss each way) and real loopback sockets through the Node driver's capture
// option, with a relay that drops 5% of the datagrams.
//
// What is compared: in a capture taken on a host, every segment that host sent is there, so each retransmission
// it made is flagged by Wireshark. Wireshark's heuristics name them "Retransmission" or "Fast Retransmission",
// or "Out-Of-Order" when the retransmission left less than one initial RTT after the highest segment sent (the
// usual case in SACK recovery, where a new segment and a retransmission leave on the same ACK). A sender's own
// segments cannot be reordered before its own capture point, so for them Out-Of-Order means a retransmission
// too: the count is (tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.out_of_order)
// on segments from that host, and the test also reports the split.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type Socket } from '../../src/node/index.js';
import { wire } from '../../src/core/index.js';
import { readTraceJsonl, type TraceRecord } from '../../src/capture/index.js';
import { patternBytes } from '../../src/sim/bulk.js';
import { TSHARK, lossyRelay, simLossyTransfer, tempDir, tsharkFields } from '../support/capture.js';

const { SYN } = wire;

const CHECKS = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

interface TsharkCounts {
  packets: number;
  tcpPackets: number;
  goodTcpChecksums: number;
  badChecksums: number;
  malformed: number;
  checksumExperts: number;
  /** Flagged segments from `from`: retransmission/fast retransmission, and out-of-order. */
  retransmissions: number;
  outOfOrder: number;
}

/** Reads a capture with tshark and counts what the test checks (serverPort: payloads decoded as plain data). */
function tsharkCounts(file: string, from: { address: string; port: number }, serverPort: number): TsharkCounts {
  const rows = tsharkFields(
    file,
    ['frame.number', 'ip.src', 'ipv6.src', 'tcp.srcport', 'tcp.checksum.status', 'ip.checksum.status', '_ws.malformed', '_ws.expert.group', 'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.out_of_order'],
    [...CHECKS, '-d', `tcp.port==${serverPort},data`],
  );
  const c: TsharkCounts = { packets: rows.length, tcpPackets: 0, goodTcpChecksums: 0, badChecksums: 0, malformed: 0, checksumExperts: 0, retransmissions: 0, outOfOrder: 0 };
  for (const r of rows) {
    const [, ip4, ip6, sport, tcpSum, ipSum, malformed, groups, retx, fast, ooo] = r;
    if (sport) c.tcpPackets++;
    if (tcpSum === '1') c.goodTcpChecksums++;
    if (tcpSum === '0' || ipSum === '0') c.badChecksums++;
    if (malformed) c.malformed++;
    // PI_CHECKSUM is expert group 0x01000000.
    if ((groups ?? '').split(',').some((g) => Number(g) === 0x01000000)) c.checksumExperts++;
    const mine = (ip4 === from.address || ip6 === from.address) && Number(sport) === from.port;
    if (mine && (retx || fast)) c.retransmissions++;
    else if (mine && ooo) c.outOfOrder++;
  }
  return c;
}

/** SYN (and SYN-ACK) retransmissions: in the trace, not in stats().segmentsRetransmitted. */
function synRetransmits(trace: TraceRecord[], endpoint: string): number {
  return trace.filter((e) => e.endpoint === endpoint && e.type === 'send' && e.retransmit && e.flags & SYN).length;
}

describe('tshark reads stevens captures', { timeout: 60_000 }, () => {
  for (const ipv6 of [false, true]) {
    it(`a simulated lossy-5 transfer over ${ipv6 ? 'IPv6' : 'IPv4'}: 0 malformed, 0 bad checksums, retransmissions as stevens counted`, (t) => {
      if (TSHARK === undefined) {
        t.skip('tshark is not installed (apt-get install tshark; .ci/run installs it)');
        return;
      }
      const { dir, cleanup } = tempDir('tshark-sim');
      try {
        const r = simLossyTransfer({ seed: ipv6 ? 5 : 1, bytes: 300_000, ipv6 });
        assert.ok(r.done, 'the transfer completes');
        const [client, server] = r.hosts;
        const sides = [
          { name: 'client', capture: 'client-tcp', from: { address: client.addresses[0]!.address, port: r.stats[0].localPort }, stats: r.stats[0] },
          { name: 'server', capture: 'server-tcp', from: { address: server.addresses[0]!.address, port: r.stats[1].localPort }, stats: r.stats[1] },
        ];
        for (const s of sides) {
          const file = join(dir, `${s.capture}.pcapng`);
          writeFileSync(file, r.captures[s.capture]!);
          const c = tsharkCounts(file, s.from, 5000);
          const stevens = s.stats.segmentsRetransmitted + synRetransmits(r.trace, s.name);
          t.diagnostic(
            `${ipv6 ? 'IPv6' : 'IPv4'} ${s.name} view: ${c.packets} packets, ${c.goodTcpChecksums} good TCP checksums, ${c.malformed} malformed, ${c.badChecksums} bad checksums; ` +
              `stevens retransmitted ${stevens} (segmentsRetransmitted ${s.stats.segmentsRetransmitted}); tshark: ${c.retransmissions} retransmission/fast retransmission + ${c.outOfOrder} out-of-order`,
          );
          assert.ok(c.packets > 100);
          assert.equal(c.tcpPackets, c.packets, 'every packet is TCP');
          assert.equal(c.goodTcpChecksums, c.packets, 'every TCP checksum verified good');
          assert.equal(c.badChecksums, 0);
          assert.equal(c.checksumExperts, 0);
          assert.equal(c.malformed, 0);
          assert.equal(c.retransmissions + c.outOfOrder, stevens);
        }
        assert.ok(r.stats[0].segmentsRetransmitted > 5, 'the run did lose and retransmit');
      } finally {
        cleanup();
      }
    });
  }

  it('real loopback sockets recorded by the Node driver (capture option) through a 5% lossy relay', async (t) => {
    if (TSHARK === undefined) {
      t.skip('tshark is not installed (apt-get install tshark; .ci/run installs it)');
      return;
    }
    const { dir, cleanup } = tempDir('tshark-node');
    const closers: (() => Promise<void> | void)[] = [];
    try {
      const paths = { server: join(dir, 'server.pcapng'), client: join(dir, 'client.pcapng'), serverTrace: join(dir, 'server.jsonl'), clientTrace: join(dir, 'client.jsonl') };
      let serverSocket: Socket | undefined;
      const serverGot: Buffer[] = [];
      let serverClosed!: () => void;
      const serverDone = new Promise<void>((resolve) => (serverClosed = resolve));
      const server = createServer({ capture: { path: paths.server, view: 'tcp', tracePath: paths.serverTrace } }, (s) => {
        serverSocket = s;
        s.on('data', (d: Buffer) => serverGot.push(d));
        s.on('end', () => s.end());
        s.on('close', () => serverClosed());
        s.on('error', () => undefined);
      });
      closers.push(() => new Promise<void>((r) => server.close(() => r())));
      // On a failure: the server's connection is aborted first, so close() does not wait for it.
      closers.push(() => void serverSocket?.destroy());
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const relay = await lossyRelay(server.address()!.port, { seed: 3, lossRate: 0.05, spare: 3 });
      closers.push(() => relay.close());

      const data = patternBytes(5, 1 << 20);
      let clientCaptureClosed!: () => void;
      const clientCaptured = new Promise<void>((r) => (clientCaptureClosed = r));
      const client = connect({ host: '127.0.0.1', port: relay.port, capture: { path: paths.client, view: 'tcp', tracePath: paths.clientTrace, onClose: () => clientCaptureClosed() } });
      client.on('error', () => undefined);
      closers.push(() => void client.destroy());
      await once(client, 'connect');
      client.resume();
      client.end(data);
      await serverDone;
      const clientStats = client.stats()!;
      const serverStats = serverSocket!.stats()!;
      await once(client, 'close').catch(() => undefined);
      await clientCaptured;
      await new Promise<void>((r) => server.close(() => r()));
      closers.length = 0;
      closers.push(() => relay.close());
      assert.equal(Buffer.concat(serverGot).length, data.length);
      t.diagnostic(`relay dropped ${relay.dropped} of ${relay.forwarded + relay.dropped} datagrams`);

      const sides = [
        { name: 'client', file: paths.client, trace: paths.clientTrace, from: { address: '127.0.0.1', port: clientStats.localPort }, stats: clientStats },
        { name: 'server', file: paths.server, trace: paths.serverTrace, from: { address: '127.0.0.1', port: serverStats.localPort }, stats: serverStats },
      ];
      for (const s of sides) {
        const trace = readTraceJsonl(readFileSync(s.trace, 'utf8'));
        assert.ok(trace.length > 10, 'the trace file was written');
        const c = tsharkCounts(s.file, s.from, serverStats.localPort);
        const stevens = s.stats.segmentsRetransmitted + synRetransmits(trace, s.name);
        t.diagnostic(
          `${s.name} capture: ${c.packets} packets, ${c.goodTcpChecksums} good TCP checksums, ${c.malformed} malformed, ${c.badChecksums} bad checksums; ` +
            `stevens retransmitted ${stevens}; tshark: ${c.retransmissions} retransmission/fast retransmission + ${c.outOfOrder} out-of-order`,
        );
        assert.ok(c.packets > 50);
        assert.equal(c.goodTcpChecksums, c.packets);
        assert.equal(c.badChecksums, 0);
        assert.equal(c.checksumExperts, 0);
        assert.equal(c.malformed, 0);
        assert.equal(c.retransmissions + c.outOfOrder, stevens);
      }
      assert.ok(clientStats.segmentsRetransmitted > 0, 'the relay made the client retransmit');
    } finally {
      for (const c of closers.reverse()) await c();
      cleanup();
    }
  });
});

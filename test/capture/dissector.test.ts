// wireshark/stevens.lua under tshark: the UDP view of a lossy simulated transfer decodes into the TCP segments
// stevens sent (seq, ack, flags, SACK blocks, compared with the wire codec's decoding of the same datagrams), the
// TCP analysis works through it, an unreliable datagram is shown as such, and a corrupted datagram is flagged.
// Then the same on a real tcpdump of stevens' UDP port on loopback (classic pcap, Ethernet framing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wire } from '../../src/core/index.js';
import { CaptureRecorder, MemorySink, dissectCapture, readCapture } from '../../src/capture/index.js';
import { connect, createServer } from '../../src/node/index.js';
import { main } from '../../src/cli/main.js';
import { patternBytes } from '../../src/sim/bulk.js';
import { TSHARK, simLossyTransfer, tempDir, tsharkFields } from '../support/capture.js';
import { which } from '../../src/node/which.js';

const { SYN, decodeDatagram, encodeUnreliableDatagram } = wire;

const LUA = fileURLToPath(new URL('../../../wireshark/stevens.lua', import.meta.url));
const FIELDS = [
  'frame.number',
  'stevens.type',
  'stevens.crc_bad',
  'stevens.crc_bad.expert',
  'tcp.seq',
  'tcp.ack',
  'tcp.flags',
  'tcp.options.sack_le',
  'tcp.options.sack_re',
  'tcp.analysis.retransmission',
  'tcp.analysis.fast_retransmission',
  'tcp.analysis.out_of_order',
  'stevens.datagram.length',
  'ip.src',
];

interface Row {
  type: string;
  crcBad: string;
  crcExpert: string;
  seq: string;
  ack: string;
  flags: string;
  sackLe: string;
  sackRe: string;
  flagged: boolean;
  dgramLength: string;
  src: string;
}

function dissect(file: string, extra: string[]): Row[] {
  return tsharkFields(file, FIELDS, ['-X', `lua_script:${LUA}`, '-o', 'tcp.relative_sequence_numbers:FALSE', ...extra]).map((r) => ({
    type: r[1] ?? '',
    crcBad: r[2] ?? '',
    crcExpert: r[3] ?? '',
    seq: r[4] ?? '',
    ack: r[5] ?? '',
    flags: r[6] ?? '',
    sackLe: r[7] ?? '',
    sackRe: r[8] ?? '',
    flagged: !!(r[9] || r[10] || r[11]),
    dgramLength: r[12] ?? '',
    src: r[13] ?? '',
  }));
}

/** What tshark should show for a datagram, from the wire codec. */
function expected(bytes: Uint8Array): Omit<Row, 'flagged' | 'crcExpert' | 'src' | 'crcBad' | 'type' | 'dgramLength'> | undefined {
  const d = decodeDatagram(bytes);
  if (!d.ok || d.value.kind !== 'segment') return undefined;
  const s = d.value.segment;
  return {
    seq: String(s.seq),
    ack: String(s.ack),
    flags: `0x${s.flags.toString(16).padStart(4, '0')}`,
    sackLe: (s.options.sack ?? []).map((b) => b.left).join(','),
    sackRe: (s.options.sack ?? []).map((b) => b.right).join(','),
  };
}

describe('the Lua dissector', { timeout: 60_000 }, () => {
  it('decodes a simulated lossy transfer as stevens sent it, flags a corrupted datagram, shows an unreliable one', (t) => {
    if (TSHARK === undefined) {
      t.skip('tshark is not installed (apt-get install tshark; .ci/run installs it)');
      return;
    }
    const { dir, cleanup } = tempDir('lua');
    try {
      const r = simLossyTransfer({ seed: 2, bytes: 200_000 });
      assert.ok(r.done);
      const packets = r.clientPackets.map((p) => ({ ...p }));
      const last = packets[packets.length - 1]!;
      const [client, server] = [packets[0]!.from, packets[0]!.to];
      // An unreliable datagram, and a copy of a data segment with one payload bit flipped (CRC left as it was).
      packets.push({ atMs: last.atMs + 1, from: client, to: server, bytes: encodeUnreliableDatagram(r.stats[0].localPort, 5000, Uint8Array.of(1, 2, 3, 4, 5)), dropped: false });
      const data = packets.find((p) => p.bytes.length > 1000)!;
      const corrupted = data.bytes.slice();
      corrupted[100] ^= 0x10;
      packets.push({ atMs: last.atMs + 2, from: client, to: server, bytes: corrupted, dropped: false });
      const sink = new MemorySink();
      const rec = new CaptureRecorder(sink, { view: 'udp' });
      for (const p of packets) rec.record(p.atMs, p.from, p.to, p.bytes);
      rec.close();
      const file = join(dir, 'udp-view.pcapng');
      writeFileSync(file, sink.bytes());

      // The stevens port set by preference (the server's UDP port): every datagram is decoded.
      const rows = dissect(file, ['-o', `stevens.port:${server.port}`]);
      assert.equal(rows.length, packets.length);
      let segments = 0;
      let sackRows = 0;
      packets.forEach((p, i) => {
        const want = expected(p.bytes);
        const row = rows[i]!;
        if (want === undefined) return;
        segments++;
        if (want.sackLe !== '') sackRows++;
        assert.deepEqual({ seq: row.seq, ack: row.ack, flags: row.flags, sackLe: row.sackLe, sackRe: row.sackRe }, want, `frame ${i + 1}`);
        assert.equal(row.crcBad, '0');
        assert.equal(row.type, '0');
      });
      const dgram = rows[rows.length - 2]!;
      assert.equal(dgram.type, '1');
      assert.equal(dgram.dgramLength, '5');
      assert.equal(dgram.seq, '', 'an unreliable datagram is not handed to TCP');
      const bad = rows[rows.length - 1]!;
      assert.equal(bad.crcBad, '1', 'the corrupted datagram is flagged');
      assert.notEqual(bad.crcExpert, '', 'with an expert info');
      assert.equal(bad.seq, '', 'and not handed to TCP');
      assert.ok(sackRows > 10, 'SACK blocks were compared');

      // Wireshark's TCP analysis runs on the decoded segments: the client's retransmissions are all flagged.
      const flagged = rows.filter((row, i) => row.flagged && packets[i]!.from.port === client.port && packets[i]!.from.address === client.address).length;
      const synRetx = r.trace.filter((e) => e.endpoint === 'client' && e.type === 'send' && e.retransmit && e.flags & SYN).length;
      t.diagnostic(`${segments} segments compared field by field (${sackRows} with SACK blocks); client retransmissions: stevens ${r.stats[0].segmentsRetransmitted + synRetx}, tshark via stevens.lua ${flagged}`);
      assert.equal(flagged, r.stats[0].segmentsRetransmitted + synRetx);

      // Without the preference the heuristic finds every valid datagram (the corrupted one stays plain UDP).
      const heur = dissect(file, []);
      assert.equal(heur.filter((row) => row.type !== '').length, packets.length - 1);
      assert.equal(heur[heur.length - 1]!.type, '');
    } finally {
      cleanup();
    }
  });

  it('decodes a real tcpdump of a stevens port on loopback; the capture reads back and plots', async (t) => {
    if (TSHARK === undefined) {
      t.skip('tshark is not installed (apt-get install tshark; .ci/run installs it)');
      return;
    }
    const tcpdump = which('tcpdump');
    if (tcpdump === undefined || process.getuid?.() !== 0) {
      t.skip(tcpdump === undefined ? 'tcpdump is not installed' : 'capturing on loopback needs root');
      return;
    }
    const { dir, cleanup } = tempDir('tcpdump');
    const file = join(dir, 'stevens.pcap');
    let dump: ReturnType<typeof spawn> | undefined;
    const server = createServer({}, (s) => {
      s.on('error', () => undefined);
      s.on('datagram', (d: Buffer) => s.sendDatagram(d));
      s.pipe(s);
    });
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = server.address()!.port;
      dump = spawn(tcpdump, ['-i', 'lo', '-U', '-n', '-w', file, 'udp', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const started = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        dump!.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('listening on')) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        dump!.once('exit', () => resolve(false));
      });
      if (!started) {
        t.skip(`tcpdump could not capture on lo: ${stderr.trim().split('\n').pop()}`);
        return;
      }
      const data = patternBytes(8, 200_000);
      const client = connect({ host: '127.0.0.1', port });
      client.on('error', () => undefined);
      await once(client, 'connect');
      client.sendDatagram(Uint8Array.of(7, 7, 7));
      const echoed: Buffer[] = [];
      client.on('data', (d: Buffer) => echoed.push(d));
      client.end(data);
      await once(client, 'end');
      assert.equal(Buffer.concat(echoed).length, data.length);
      await new Promise((r) => setTimeout(r, 300));
      dump.kill('SIGINT');
      await once(dump, 'exit');
      dump = undefined;

      const capture = readCapture(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(file))));
      assert.equal(capture.format, 'pcap');
      const d = dissectCapture(capture);
      t.diagnostic(`tcpdump wrote ${capture.packets.length} packets (link type ${capture.interfaces[0]!.linkType}); ${d.segments.length} segments, ${d.datagrams.length} unreliable datagrams`);
      assert.ok(d.segments.length > 50);
      assert.ok(d.datagrams.length >= 1);
      const rows = dissect(file, ['-o', `stevens.port:${port}`]);
      assert.equal(rows.length, capture.packets.length);
      let i = 0;
      for (const s of d.segments) {
        const row = rows[s.index]!;
        assert.equal(row.seq, String(s.segment.seq));
        assert.equal(row.flags, `0x${s.segment.flags.toString(16).padStart(4, '0')}`);
        i++;
      }
      assert.equal(i, d.segments.length);
      assert.equal(rows.filter((r) => r.type === '1').length, d.datagrams.length);

      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), setExitCode: () => undefined };
      assert.equal(await main(['plot', file, '--list'], io), 0);
      assert.match(out.join('\n'), /pcap, stevens datagrams in UDP: 1 connection/);
    } finally {
      if (dump !== undefined) {
        dump.kill('SIGKILL');
        await once(dump, 'exit').catch(() => undefined);
      }
      await new Promise<void>((r) => server.close(() => r()));
      cleanup();
    }
  });
});

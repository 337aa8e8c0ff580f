// `stevens plot` without a browser: --list, --ascii, --connection, the default output file, and one-line errors
// for foreign, truncated and missing inputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceLine } from '../../src/capture/index.js';
import { loadPlotInput } from '../../src/plot/index.js';
import { main } from '../../src/cli/main.js';
import { simLossyTransfer, tempDir } from '../support/capture.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['plot', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => undefined });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('stevens plot on the command line', () => {
  it('lists connections, prints text plots, writes the report next to the input by default', async (t) => {
    const { dir, cleanup } = tempDir('plot-cli');
    t.after(cleanup);
    const r = simLossyTransfer({ seed: 3, bytes: 100_000 });
    const trace = join(dir, 'run.jsonl');
    writeFileSync(trace, r.trace.map((e) => traceLine(e, e.endpoint)).join('\n'));
    const wire = join(dir, 'wire.pcapng');
    writeFileSync(wire, r.captures['wire-tcp']!);
    const udp = join(dir, 'client-udp.pcapng');
    writeFileSync(udp, r.captures['client-udp']!);

    const list = await run([trace, '--list']);
    assert.equal(list.code, 0);
    assert.match(list.out, /^JSON-lines trace: 2 connections$/m);
    assert.match(list.out, /^\* +1 {2}client#1 {2}100000 bytes, \d+ segments, \d+ retransmitted/m);
    assert.match(list.out, /^ +2 {2}server#1 {2}0 bytes/m);

    const udpList = await run([udp, '--list']);
    assert.match(udpList.out, /^pcapng, stevens datagrams in UDP: 1 connection$/m);
    assert.match(udpList.out, /192\.0\.2\.1:\d+\/udp4000 -> 192\.0\.2\.2:5000\/udp5000/);

    const ascii = await run([wire, '--ascii']);
    assert.equal(ascii.code, 0);
    assert.match(ascii.out, /^connection 1 of 1: 192\.0\.2\.1:\d+ -> 192\.0\.2\.2:5000 \(pcapng, TCP packets\)$/m);
    assert.match(ascii.out, /sequence number \('\.' sent, 'R' retransmitted, '-' ACK\)/);
    assert.match(ascii.out, /R/);
    assert.match(ascii.out, /bytes in flight/);
    assert.ok(!existsSync(join(dir, 'wire.html')), '--ascii alone writes no file');

    const traceAscii = await run([trace, '--ascii', '--connection', '1']);
    assert.match(traceAscii.out, /cwnd \('\*'\) and ssthresh \('s'\)/);
    assert.match(traceAscii.out, /RTT min\/avg\/max/);

    const html = await run([trace]);
    assert.equal(html.code, 0, html.err);
    assert.match(html.out, /^wrote .*run\.html: connection 1 of 2 \(client#1\)/);
    const page = readFileSync(join(dir, 'run.html'), 'utf8');
    assert.match(page, /<script>/);
    assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+stylesheet|<img|@import|url\(http/i, 'nothing is loaded from elsewhere');
    assert.match(page, /uPlot/, 'the chart library is inlined (its licence banner included)');

    // The wire view holds both directions of the same connection: the client's data is the plotted direction.
    const input = loadPlotInput(readFileSync(wire));
    assert.equal(input.connections.length, 1);
    assert.equal(input.connections[0]!.dataBytes, 100_000);
  });

  it('fails with one line for a bad --connection, a foreign file, a truncated capture and a missing file', async (t) => {
    const { dir, cleanup } = tempDir('plot-cli-errors');
    t.after(cleanup);
    const r = simLossyTransfer({ seed: 4, bytes: 20_000 });
    const cap = join(dir, 'c.pcapng');
    writeFileSync(cap, r.captures['client-tcp']!);
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, r.captures['client-tcp']!.subarray(0, 1000));
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'hello\n');
    const badTrace = join(dir, 'bad.jsonl');
    writeFileSync(badTrace, '{"type":"send","atMs":1,"connectionId":1}\n{oops\n');

    const cases: [string[], RegExp][] = [
      [[cap, '--connection', '2'], /^stevens: --connection must be an integer in \[1, 1\], got '2'$/],
      [[foreign], /^stevens: .*notes\.txt: not a capture \(pcap, pcapng\) nor a JSON-lines trace/],
      [[cut, '--list'], /^stevens: .*cut\.pcapng: truncated pcapng block .* at offset \d+$/],
      [[join(dir, 'missing.pcap')], /^stevens: cannot read .*missing\.pcap: ENOENT$/],
      [[badTrace, '--list'], /^stevens: .*bad\.jsonl: trace line 2: not JSON/],
    ];
    for (const [args, want] of cases) {
      const res = await run(args);
      assert.equal(res.code, 1, args.join(' '));
      assert.equal(res.err.split('\n').length, 1, `one line: ${res.err}`);
      assert.match(res.err, want);
    }
  });
});

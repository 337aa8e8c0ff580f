// `stevens plot INPUT`: a capture (pcapng or pcap: TCP view, UDP view, or a raw tcpdump of stevens' UDP port) or
// a JSON-lines trace of the core's events, as a self-contained HTML report (--out), a text summary (--ascii), or
// a list of its connections (--list).
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { defaultConnection, loadPlotInput, renderAscii, renderHtml, renderList } from '../plot/index.js';
import type { CliIo } from './io.js';
import { parseIntInRange } from './options.js';

interface PlotOptions {
  out?: string;
  ascii?: boolean;
  list?: boolean;
  connection?: string;
  title?: string;
}

export function registerPlot(program: Command, io: CliIo): void {
  program
    .command('plot')
    .description('plot a capture (pcap/pcapng) or a JSON-lines trace: time-sequence graph, cwnd, RTT, goodput')
    .argument('<input>', 'capture file (pcapng or pcap) or trace file (JSON lines, one TraceEvent per line)')
    .option('--out <file>', 'write a self-contained HTML report here (default: INPUT with .html, unless --ascii or --list)')
    .option('--ascii', 'print a summary and text plots to stdout')
    .option('--list', 'list the connections in INPUT and exit')
    .option('--connection <n>', 'which connection to plot (see --list; default: the one with the most data)')
    .option('--title <text>', 'title of the HTML report', 'stevens plot')
    .action(async (inputPath: string, opts: PlotOptions) => {
      let bytes: Buffer;
      try {
        bytes = await readFile(inputPath);
      } catch (err) {
        throw new Error(`cannot read ${inputPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let input;
      try {
        input = loadPlotInput(bytes);
      } catch (err) {
        throw new Error(`${inputPath}: ${(err as Error).message}`);
      }
      if (input.connections.length === 0) throw new Error(`${inputPath}: no TCP connection found (${input.description})`);
      const chosen = opts.connection !== undefined ? parseIntInRange(opts.connection, '--connection', 1, input.connections.length) : defaultConnection(input);
      if (opts.list) {
        io.out(renderList(input, chosen).trimEnd());
        return;
      }
      const conn = input.connections[chosen - 1]!;
      if (opts.ascii) io.out(renderAscii(input, conn).trimEnd());
      const out = opts.out ?? (opts.ascii ? undefined : `${inputPath.replace(/\.(pcapng|pcap|jsonl|json|trace)$/i, '')}.html`);
      if (out !== undefined) {
        await writeFile(out, renderHtml(input, chosen, opts.title));
        io.out(`wrote ${out}: connection ${chosen} of ${input.connections.length} (${conn.label}), ${conn.dataSegments} segments, ${conn.retransmissions} retransmitted`);
      }
    });
}

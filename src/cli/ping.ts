// `stevens ping HOST[:PORT]`: round trips over the stream (or over unreliable datagrams) to an echo server,
// printed like ping, with a min/avg/max/p99 summary.
import type { Command } from 'commander';
import { connect, parseServer, type Socket } from '../node/index.js';
import type { CliIo } from './io.js';
import { parseIntInRange } from './options.js';

const HEADER_BYTES = 12;

export function registerPing(program: Command, io: CliIo): void {
  program
    .command('ping')
    .description('measure round trips to a stevens echo server (stevens serve)')
    .argument('<host>', 'HOST or HOST:PORT ([v6]:PORT for IPv6 literals); default port 7777')
    .option('--count <n>', 'probes to send', '10')
    .option('--size <bytes>', 'bytes per probe', '64')
    .option('--interval <ms>', 'time between probes', '200')
    .option('--datagram', 'probe with unreliable datagrams instead of the stream')
    .option('--timeout <ms>', 'give up connecting after this long', '5000')
    .action(async (target: string, opts: { count: string; size: string; interval: string; datagram?: boolean; timeout: string }) => {
      const count = parseIntInRange(opts.count, '--count', 1, 1_000_000);
      const size = parseIntInRange(opts.size, '--size', HEADER_BYTES, 1 << 20);
      const intervalMs = parseIntInRange(opts.interval, '--interval', 0, 3_600_000);
      const timeoutMs = parseIntInRange(opts.timeout, '--timeout', 1, 3_600_000);
      const { host, port } = parseServer(target, 7777);
      const socket = connect({ servers: [target], port, connectTimeoutMs: timeoutMs, rounds: 1, noDelay: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      if (opts.datagram && size > socket.maxDatagramBytes) throw new Error(`--size ${size} is over the datagram limit of ${socket.maxDatagramBytes} bytes`);
      io.out(`PING ${host} (${socket.remoteAddress}) port ${port}: ${size} bytes over ${opts.datagram ? 'datagrams' : 'the stream'}`);
      const rtts = await probe(socket, io, count, size, intervalMs, opts.datagram === true);
      socket.end();
      socket.destroy();
      const lost = count - rtts.length;
      io.out(`--- ${host} stevens ping statistics ---`);
      io.out(`${count} probes sent, ${rtts.length} answered, ${((lost / count) * 100).toFixed(1)}% lost`);
      if (rtts.length > 0) {
        const sorted = [...rtts].sort((a, b) => a - b);
        const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
        const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
        io.out(`rtt min/avg/max/p99 = ${f(sorted[0]!)}/${f(avg)}/${f(sorted[sorted.length - 1]!)}/${f(p99)} ms`);
      }
      if (rtts.length === 0) io.setExitCode(1);
    });
}

function f(ms: number): string {
  return ms.toFixed(3);
}

/** Send `count` probes carrying a sequence number and send time; match the echoes. */
async function probe(socket: Socket, io: CliIo, count: number, size: number, intervalMs: number, datagram: boolean): Promise<number[]> {
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  let buffered = Buffer.alloc(0);
  const onEcho = (msg: Buffer) => {
    const seq = msg.readUInt32BE(0);
    const t = sentAt.get(seq);
    if (t === undefined) return;
    sentAt.delete(seq);
    const rtt = performance.now() - t;
    rtts.push(rtt);
    io.out(`${size} bytes from ${socket.remoteAddress}: seq=${seq} time=${f(rtt)} ms`);
  };
  if (datagram) socket.on('datagram', onEcho);
  else {
    socket.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      while (buffered.length >= size) {
        onEcho(buffered.subarray(0, size));
        buffered = buffered.subarray(size);
      }
    });
  }
  for (let seq = 0; seq < count; seq++) {
    const msg = Buffer.alloc(size);
    msg.writeUInt32BE(seq, 0);
    sentAt.set(seq, performance.now());
    if (datagram) socket.sendDatagram(msg);
    else socket.write(msg);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  // Late echoes: wait up to a second more.
  for (let i = 0; i < 100 && sentAt.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return rtts;
}

// `stevens serve`: an echo server (stream and datagrams) printing one line per connection, for trying stevens by hand.
import type { Command } from 'commander';
import { createServer } from '../node/index.js';
import type { CliIo } from './io.js';
import { parsePort } from './options.js';

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run an echo server (stream and datagrams); one line per connection')
    .option('--host <host>', 'IPv4 address to bind', '0.0.0.0')
    .option('--port <port>', 'UDP port', '7777')
    .option('--ipv6', 'also serve IPv6 (a second socket, IPv6-only, on the same port)')
    .action(async (opts: { host: string; port: string; ipv6?: boolean }) => {
      const port = parsePort(opts.port, '--port');
      const server = createServer({ ipv6: opts.ipv6 ? 'separate' : false }, (socket) => {
        const who = `${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
        const started = Date.now();
        io.out(`${new Date().toISOString()} connect ${who}`);
        socket.on('datagram', (d: Buffer) => socket.sendDatagram(d));
        socket.on('error', (e: NodeJS.ErrnoException) => io.out(`${new Date().toISOString()} error ${who} ${e.code ?? e.message}`));
        socket.on('close', () => {
          const s = socket.stats();
          io.out(`${new Date().toISOString()} close ${who} after ${((Date.now() - started) / 1000).toFixed(1)} s, ${s?.bytesReceived ?? 0} bytes in, ${s?.bytesSent ?? 0} out, ${s?.segmentsRetransmitted ?? 0} retransmitted`);
        });
        socket.pipe(socket);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, opts.host, () => resolve());
      });
      for (const a of server.addresses()) io.out(`stevens echo server on ${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port} (UDP)`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

// `stevens tun`: stevens as a host at --address behind a TUN device whose kernel side is --peer, so it talks TCP
// with the Linux kernel's own stack in the current network namespace. It serves echo/discard/chargen, or connects
// (and with --send checks an echo by SHA-256). Everything it created is removed on SIGINT/SIGTERM or at the end.
import type { Command } from 'commander';
import { isIP } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { MAX_DATAGRAM_BYTES, type ConnectionStats } from '../core/index.js';
import { parseServer } from '../node/connect.js';
import { canonicalIp, ConnectionRouter, sendAndCheckEcho, serveService, SERVICE_PORTS, TunHost, type Pipe, type ServiceName } from '../tun/index.js';
import type { CliIo } from './io.js';
import { parseIntInRange, parsePort } from './options.js';

/** The largest datagram the core allows: its MSS (1452 - 26 = 1426) fits a 1500-byte TUN MTU over IPv4 and IPv6. */
const TUN_MAX_DATAGRAM_BYTES = MAX_DATAGRAM_BYTES;

interface TunOptions {
  address: string;
  peer: string;
  prefix: string;
  address6?: string;
  peer6?: string;
  prefix6: string;
  device?: string;
  serve?: string;
  port?: string;
  connect?: string;
  send?: string;
  timeout: string;
  loss?: string;
  seed?: string;
  pcap?: string;
}

/** A byte count: digits with an optional k/M/G suffix (powers of 1024). */
export function parseBytes(value: string, name: string): number {
  const m = /^(\d+)([kKmMgG]?)(i?B)?$/.exec(value);
  const mult = m ? ({ '': 1, k: 1024, m: 1 << 20, g: 1 << 30 } as Record<string, number>)[m[2]!.toLowerCase()]! : NaN;
  const n = m ? Number(m[1]) * mult : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 40) throw new Error(`${name} must be a byte count such as 1000, 64k or 20M, got '${value}'`);
  return n;
}

function parseProbability(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1 || value.trim() === '') throw new Error(`${name} must be a probability in [0, 1), got '${value}'`);
  return n;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function summary(s: ConnectionStats): string {
  return `${s.bytesReceived} bytes in, ${s.bytesSent} out, ${s.segmentsRetransmitted} retransmitted`;
}

export function registerTun(program: Command, io: CliIo): void {
  program
    .command('tun')
    .description("run stevens as a host behind a TUN device, talking TCP with this network namespace's kernel (needs root and socat)")
    .requiredOption('--address <ip>', "stevens' IPv4 address")
    .requiredOption('--peer <ip>', "the kernel's IPv4 address (the TUN device's own)")
    .option('--prefix <bits>', 'prefix length of the TUN network', '24')
    .option('--address6 <ip>', "stevens' IPv6 address (with --peer6)")
    .option('--peer6 <ip>', "the kernel's IPv6 address on the device")
    .option('--prefix6 <bits>', 'IPv6 prefix length', '64')
    .option('--device <name>', 'TUN device name (default stv<pid><n>)')
    .option('--serve <service>', 'serve echo, discard or chargen')
    .option('--port <port>', 'TCP port to serve on (default: the service: 7, 9 or 19)')
    .option('--connect <host:port>', 'connect to the kernel side (HOST:PORT, [v6]:PORT)')
    .option('--send <bytes>', 'with --connect: send this many seeded pseudo-random bytes and check the echo (SHA-256)')
    .option('--timeout <ms>', 'with --connect: give up connecting after this long', '10000')
    .option('--loss <p>', 'drop inbound packets with this probability (seeded by --seed)')
    .option('--seed <n>', 'seed of the loss rule, the data sent and the endpoint (default 1)')
    .option('--pcap <file>', 'record the TUN side as a pcap file (raw IP, link type 101)')
    .action(async (opts: TunOptions) => {
      if ((opts.serve === undefined) === (opts.connect === undefined)) throw new Error('give exactly one of --serve SERVICE or --connect HOST:PORT');
      if (opts.send !== undefined && opts.connect === undefined) throw new Error('--send goes with --connect');
      if (opts.port !== undefined && opts.serve === undefined) throw new Error('--port goes with --serve (give the port in --connect HOST:PORT)');
      let service: ServiceName | undefined;
      if (opts.serve !== undefined) {
        if (!(opts.serve in SERVICE_PORTS)) throw new Error(`--serve must be echo, discard or chargen, got '${opts.serve}'`);
        service = opts.serve as ServiceName;
      }
      const port = service === undefined ? 0 : opts.port === undefined ? SERVICE_PORTS[service] : parsePort(opts.port, '--port');
      if (service !== undefined && port === 0) throw new Error('--port must be 1-65535');
      const sendBytes = opts.send === undefined ? undefined : parseBytes(opts.send, '--send');
      const timeoutMs = parseIntInRange(opts.timeout, '--timeout', 1, 3_600_000);
      const loss = opts.loss === undefined ? 0 : parseProbability(opts.loss, '--loss');
      const seed = opts.seed === undefined ? 1 : parseIntInRange(opts.seed, '--seed', 0, 2 ** 31 - 1);
      const prefix = parseIntInRange(opts.prefix, '--prefix', 1, 31);
      const prefix6 = parseIntInRange(opts.prefix6, '--prefix6', 1, 127);
      let target: { address: string; port: number } | undefined;
      if (opts.connect !== undefined) {
        const { host, port: p } = parseServer(opts.connect, 0);
        if (isIP(host) === 0) throw new Error(`--connect needs an IP address (HOST:PORT), got '${host}'`);
        if (p < 1 || p > 65535) throw new Error(`--connect needs a port (HOST:PORT), got '${opts.connect}'`);
        if (host.includes(':') && opts.address6 === undefined) throw new Error('--connect to an IPv6 address needs --address6 and --peer6');
        target = { address: canonicalIp(host), port: p };
      }

      const host = await TunHost.open({
        address: opts.address,
        peer: opts.peer,
        prefix,
        address6: opts.address6,
        peer6: opts.peer6,
        prefix6,
        device: opts.device,
        pcapPath: opts.pcap,
        seed: opts.seed === undefined ? randomInt(2 ** 31) : seed,
        // RFC 6528: 256 bits from the OS key the ISNs and timestamp offsets (a given --seed keeps runs repeatable).
        ...(opts.seed === undefined ? { secret: randomBytes(32).toString('hex') } : {}),
        maxDatagramBytes: TUN_MAX_DATAGRAM_BYTES,
        lossInbound: loss,
        lossSeed: seed,
      });
      let stopReason: string | undefined;
      let wake: (() => void) | undefined;
      const stopped = new Promise<void>((resolve) => (wake = resolve));
      const stop = (why: string) => {
        stopReason ??= why;
        wake?.();
      };
      const onSignal = (sig: NodeJS.Signals) => stop(sig);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      host.once('exit', (why) => stop(why));
      let router: ConnectionRouter | undefined;
      try {
        const v6 = host.address6 === undefined ? '' : `, [${host.peer6}]/${prefix6}`;
        io.out(`stevens tun: device ${host.device} up: kernel at ${host.peer}/${prefix}${v6}; stevens at ${host.address}${host.address6 === undefined ? '' : ` and [${host.address6}]`}`);
        router = new ConnectionRouter(host.driver);
        if (service !== undefined) {
          host.driver.act(() => host.driver.endpoint.listen({ port }));
          serveService(router, service, (pipe) => logConnection(io, pipe));
          io.out(`stevens ${service} server on ${hostPort(host.address, port)}${host.address6 === undefined ? '' : ` and ${hostPort(host.address6, port)}`} (TCP through ${host.device})`);
          await stopped;
          if (stopReason !== 'SIGINT' && stopReason !== 'SIGTERM') throw new Error(stopReason);
        } else if (target !== undefined) {
          const pipe = router.connect(target.address, target.port);
          const connected = new Promise<void>((resolve, reject) => {
            pipe.handlers.connect = resolve;
            pipe.handlers.close = (e) => reject(new Error(`connection to ${hostPort(target.address, target.port)} failed: ${e?.code ?? 'closed'}${e ? ` (${e.message})` : ''}`));
          });
          let connectTimer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<never>((_, reject) => {
            connectTimer = setTimeout(() => reject(new Error(`connection to ${hostPort(target.address, target.port)} timed out after ${timeoutMs} ms`)), timeoutMs);
          });
          const interrupted = stopped.then(() => {
            throw new Error(stopReason === 'SIGINT' || stopReason === 'SIGTERM' ? `interrupted (${stopReason})` : stopReason);
          });
          // Raced below; a signal during the cleanup must not surface as an unhandled rejection.
          interrupted.catch(() => {});
          try {
            await Promise.race([connected, timedOut, interrupted]);
          } finally {
            clearTimeout(connectTimer);
          }
          // In nc mode stdout carries the stream: status lines go to stderr.
          const status = sendBytes === undefined ? io.err : io.out;
          status(`connected ${hostPort(host.sourceAddressFor(target.address), pipe.conn.localPort)} -> ${hostPort(target.address, target.port)}`);
          if (sendBytes !== undefined) {
            const r = await Promise.race([sendAndCheckEcho(pipe, sendBytes, seed), interrupted]);
            await Promise.race([closedOrTimeWait(pipe), new Promise((res) => setTimeout(res, 2000))]);
            const s = pipe.conn.stats();
            io.out(`sent ${r.sentBytes} bytes, received ${r.receivedBytes} back; sha256 sent ${r.sentSha256}, received ${r.receivedSha256}`);
            io.out(`${summary(s)}; mss ${s.mssBytes}, window scale ${s.sendWindowShift}/${s.receiveWindowShift}, sack ${s.sackPermitted ? 'on' : 'off'}, timestamps ${s.timestamps ? 'on' : 'off'}`);
            if (!r.match) {
              io.err('stevens: the echo differs from what was sent');
              io.setExitCode(1);
            } else io.out('echo matches');
          } else {
            await Promise.race([pipeStdio(pipe), interrupted]);
            await Promise.race([closedOrTimeWait(pipe), new Promise((res) => setTimeout(res, 2000))]);
          }
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // Connections still open (interrupted, or a server stopping) are aborted: the kernel's sockets get a RST
        // instead of retransmitting into a device that is gone.
        if (router !== undefined && router.size > 0) {
          router.abortAll();
          // A RST whose sequence number is not exactly the kernel's RCV.NXT (data of ours still in flight) draws a
          // challenge ACK (RFC 5961 3.2); the endpoint answers it with an exact RST while the driver still runs.
          await new Promise((r) => setTimeout(r, 200));
        }
        await host.close();
        const c = host.driver.counters;
        const drops = Object.entries(c.drops)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        io.out(`stevens tun: ${host.device} removed; ${c.packetsIn} packets in, ${c.packetsOut} out${loss > 0 ? `, ${c.lossDroppedIn} dropped by --loss` : ''}${drops ? `; dropped: ${drops}` : ''}${c.unreliableNotSent ? `; ${c.unreliableNotSent} unreliable datagrams not sent` : ''}`);
      }
    });
}

function logConnection(io: CliIo, pipe: Pipe): void {
  const c = pipe.conn;
  const who = hostPort(c.remote.address, c.remotePort);
  const started = Date.now();
  io.out(`${new Date().toISOString()} connect ${who}`);
  const prev = pipe.handlers.close;
  pipe.handlers.close = (e) => {
    prev?.(e);
    io.out(`${new Date().toISOString()} close ${who} after ${((Date.now() - started) / 1000).toFixed(1)} s${e ? ` (${e.code})` : ''}, ${summary(c.stats())}`);
  };
}

function closedOrTimeWait(pipe: Pipe): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const st = pipe.conn.state;
      if (pipe.closed || st === 'CLOSED' || st === 'TIME-WAIT') resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

/** nc-style: stdin to the connection (half-close at its end), the connection to stdout until the peer's FIN. */
function pipeStdio(pipe: Pipe): Promise<void> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    stdin.on('data', (d: Buffer) => {
      pipe.write(new Uint8Array(d));
      if (pipe.queuedBytes > 1 << 20) stdin.pause();
    });
    pipe.handlers.drain = () => stdin.resume();
    stdin.on('end', () => pipe.end());
    pipe.handlers.data = (chunk) => {
      if (!process.stdout.write(chunk)) {
        pipe.pause();
        process.stdout.once('drain', () => pipe.resume());
      }
    };
    pipe.handlers.end = () => {
      stdin.pause();
      resolve();
    };
    pipe.handlers.close = (e) => (e ? reject(new Error(`connection failed: ${e.code} (${e.message})`)) : resolve());
  });
}

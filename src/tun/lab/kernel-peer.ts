// The kernel's side of the conformance tests: a node:net server or client (so the Linux TCP stack) run inside the
// test's network namespace with `ip netns exec NS node dist/src/tun/lab/kernel-peer.js '<json config>'`.
// It reports as JSON lines on stdout: listening, connected, ss (the kernel's view from `ss -tni`), paused,
// resumed, reset, done (bytes and SHA-256 both ways, errors). Also used by bench/tun.ts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { RandomBytes } from '../services.js';

export interface KernelPeerConfig {
  role: 'server' | 'client';
  /** Server: address to listen on ('::' for both families). Client: the address to connect to. */
  host: string;
  port: number;
  /** Server: send back what arrives (with node's pipe: backpressure, and end() after the peer's FIN). */
  echo?: boolean;
  /** Client: bytes to send (seeded pseudo-random), then end() (half-close). */
  sendBytes?: number;
  seed?: number;
  /** Client: read this many bytes, then close (for chargen); instead of waiting for the peer's FIN. */
  readBytes?: number;
  /** Do not read for this long after the connection opens (the receive window closes), then resume. */
  pauseMs?: number;
  /** Abort with RST (socket.resetAndDestroy()) once this many bytes have arrived. */
  resetAfterBytes?: number;
  /** Run `ss -tni` for this connection once this many bytes have arrived (default 1; 0 = at connect). */
  ssAfterBytes?: number;
  /** Exit after this many connections (server; default 1). */
  connections?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as KernelPeerConfig;
/** The client's data, in 64 KiB chunks. */
const prepared: Uint8Array[] = [];

function report(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function ss(socket: net.Socket): string {
  try {
    const filter = `( sport = :${socket.localPort} and dport = :${socket.remotePort} )`;
    return execFileSync('ss', ['-tni', 'state', 'established', filter], { encoding: 'utf8' });
  } catch (err) {
    return `ss failed: ${(err as Error).message}`;
  }
}

function handle(socket: net.Socket, done: () => void): void {
  const started = performance.now();
  const receivedHash = createHash('sha256');
  const sentHash = createHash('sha256');
  let received = 0;
  let sent = 0;
  let receivedAfterEnd = 0;
  let endCalled = false;
  let gotEnd = false;
  let error: string | undefined;
  let reported = false;
  let ssDone = false;
  const ssAfter = config.ssAfterBytes ?? 1;
  let firstByteMs: number | undefined;
  let lastByteMs: number | undefined;
  report({ event: 'connected', local: `${socket.localAddress}:${socket.localPort}`, remote: `${socket.remoteAddress}:${socket.remotePort}` });
  const maybeSs = () => {
    if (!ssDone && received >= ssAfter) {
      ssDone = true;
      report({ event: 'ss', text: ss(socket) });
    }
  };
  maybeSs();
  socket.on('data', (d: Buffer) => {
    firstByteMs ??= performance.now();
    lastByteMs = performance.now();
    received += d.length;
    if (endCalled) receivedAfterEnd += d.length;
    receivedHash.update(d);
    maybeSs();
    if (config.resetAfterBytes !== undefined && received >= config.resetAfterBytes && !socket.destroyed) {
      report({ event: 'reset', received });
      socket.resetAndDestroy();
    }
    if (config.readBytes !== undefined && received >= config.readBytes && !socket.destroyed) {
      socket.destroy();
    }
  });
  socket.on('end', () => (gotEnd = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  socket.on('close', () => {
    if (reported) return;
    reported = true;
    report({
      event: 'done',
      received,
      receivedSha256: receivedHash.digest('hex'),
      sent,
      sentSha256: sentHash.digest('hex'),
      receivedAfterEnd,
      gotEnd,
      error,
      elapsedMs: performance.now() - started,
      receiveMs: firstByteMs === undefined || lastByteMs === undefined ? 0 : lastByteMs - firstByteMs,
    });
    done();
  });

  if (config.role === 'server' && config.echo) {
    // pipe(): echo with backpressure; the readable side's end (the peer's FIN) ends the writable side (our FIN).
    socket.on('data', (d: Buffer) => {
      sent += d.length;
      sentHash.update(d);
    });
    socket.pipe(socket);
  } else if (config.role === 'server') {
    socket.on('end', () => socket.end());
  }
  if (config.pauseMs !== undefined) {
    socket.pause();
    report({ event: 'paused' });
    setTimeout(() => {
      report({ event: 'resumed', ss: ss(socket) });
      socket.resume();
    }, config.pauseMs);
  }
  if (config.role === 'client' && config.sendBytes !== undefined) {
    let next = 0;
    const pump = () => {
      while (next < prepared.length) {
        const chunk = prepared[next++]!;
        sent += chunk.length;
        sentHash.update(chunk);
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!endCalled) {
        endCalled = true;
        socket.end();
      }
    };
    pump();
  }
}

if (config.role === 'server') {
  let left = config.connections ?? 1;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    handle(socket, () => {
      if (--left === 0) server.close();
    });
  });
  server.listen(config.port, config.host, () => report({ event: 'listening', port: (server.address() as net.AddressInfo).port }));
} else {
  // The data is made before connecting, so the time measured is the transfer's alone.
  if (config.sendBytes !== undefined) {
    const src = new RandomBytes(config.seed ?? 1, config.sendBytes);
    while (src.remaining > 0) prepared.push(src.next());
  }
  const socket = net.connect({ host: config.host, port: config.port, allowHalfOpen: true });
  socket.once('connect', () => handle(socket, () => {}));
  socket.once('error', (e: NodeJS.ErrnoException) => {
    if (socket.remotePort === undefined) report({ event: 'done', error: e.code ?? e.message, received: 0, sent: 0 });
  });
}

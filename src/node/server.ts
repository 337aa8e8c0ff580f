// createServer(): a listening Endpoint on UDP sockets, shaped like node:net's Server.
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Connection, ConnectionConfig, EndpointEvent, Remote, TraceEvent } from '../core/index.js';
import { NodeCapture, type CaptureOptions } from '../capture/node.js';
import type { RecordOption } from '../replay/recorder.js';
import { monotonicMs } from '../driver/clock.js';
import type { Driver } from './driver.js';
import { newDriver } from './recording.js';
import { Socket } from './socket.js';

export interface ServerOptions extends Partial<ConnectionConfig> {
  /**
   * IPv4 is always served. IPv6 is opt-in: 'separate' binds a second, IPv6-only socket on the same port (works
   * everywhere); 'dual-stack' binds one udp6 socket with ipv6Only false, which also receives IPv4 as
   * IPv4-mapped addresses (Linux and macOS; not where the OS forces IPV6_V6ONLY, e.g. OpenBSD, or Windows with
   * some settings). Events and logs always carry plain IPv4 addresses.
   */
  ipv6?: false | 'separate' | 'dual-stack';
  /** Connections from which nothing arrived for this long are dropped (RST). 0 disables. Default 30 s. */
  idleTimeoutMs?: number;
  /** Half-open connections at once (SYN-RECEIVED); past it the oldest is dropped. Default 128. */
  backlog?: number;
  /** Seed of the endpoint's PRNG (default: random from node:crypto; fix it to replay a run). */
  seed?: number;
  /**
   * Receives one line per dropped datagram that came from outside any connection (garbage, floods, strays), with
   * the plain source address; at most `logLimitPerS` lines a second, then a count of what was not logged.
   */
  log?: (line: string) => void;
  logLimitPerS?: number;
  /** Record every datagram of this server into a pcapng file (and its trace events, with tracePath). */
  capture?: CaptureOptions;
  /** Log every input of the server's endpoint for `stevens replay`: one file, or a bounded ring of chunk files. */
  record?: RecordOption;
}

export interface ServerEvents {
  listening: [];
  connection: [Socket];
  close: [];
  error: [Error];
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export class Server extends EventEmitter<ServerEvents> {
  private driver: Driver | undefined;
  private readonly sockets = new Map<Connection, Socket>();
  private idleSweep: NodeJS.Timeout | undefined;
  private closing = false;
  private bound: Remote[] = [];
  private capture: NodeCapture | undefined;

  constructor(
    private readonly options: ServerOptions = {},
    onConnection?: (socket: Socket) => void,
  ) {
    super();
    if (onConnection) this.on('connection', onConnection);
  }

  /** listen(port, host?, cb?) or listen({ port, host }, cb?). Binds IPv4 (and IPv6 when enabled). */
  listen(portOrOptions?: number | ListenOptions, hostOrCb?: string | (() => void), cb?: () => void): this {
    const opts: ListenOptions = typeof portOrOptions === 'object' ? portOrOptions : { port: portOrOptions };
    if (typeof hostOrCb === 'string') opts.host = hostOrCb;
    const done = typeof hostOrCb === 'function' ? hostOrCb : cb;
    if (done) this.once('listening', done);
    this.start(opts).catch((err: Error) => {
      void this.capture?.close().catch(() => undefined);
      this.emit('error', err);
    });
    return this;
  }

  private async start(opts: ListenOptions): Promise<void> {
    const { ipv6 = false, idleTimeoutMs: _idle, seed, log, logLimitPerS = 10, backlog, capture, record, ...config } = this.options;
    const cap = capture ? (this.capture = new NodeCapture(capture, 'server')) : undefined;
    const logTrace = log ? dropLogger(log, logLimitPerS) : undefined;
    const trace = cap?.trace && logTrace ? (ev: TraceEvent) => (cap.trace!(ev), logTrace(ev)) : (cap?.trace ?? logTrace);
    const driver = newDriver({ seed: seed ?? randomInt(2 ** 31), ...config, trace }, record, 'server');
    driver.tap = cap?.tap;
    this.driver = driver;
    driver.on('event', (ev) => this.onEvent(ev));
    driver.on('error', (err) => this.emit('error', err));
    const port = opts.port ?? 0;
    if (ipv6 === 'dual-stack') {
      this.bound.push(await driver.bind({ type: 'udp6', ipv6Only: false, address: opts.host ?? '::', port }));
    } else {
      const first = await driver.bind({ type: 'udp4', address: opts.host ?? '0.0.0.0', port });
      this.bound.push(first);
      if (ipv6 === 'separate') this.bound.push(await driver.bind({ type: 'udp6', ipv6Only: true, address: '::', port: first.port }));
    }
    // Every TCP port on this UDP socket is served.
    driver.endpoint.listen({ backlog });
    this.startIdleSweep();
    this.emit('listening');
  }

  private onEvent(ev: EndpointEvent): void {
    if (ev.type === 'accepted') {
      const socket = new Socket();
      socket.attach(this.driver!, ev.connection);
      this.sockets.set(ev.connection, socket);
      socket.handleEvent(ev);
      this.emit('connection', socket);
      return;
    }
    const socket = this.sockets.get(ev.connection);
    if (socket === undefined) return;
    socket.handleEvent(ev);
    if (ev.type === 'closed') {
      this.sockets.delete(ev.connection);
      this.maybeFinishClose();
    }
  }

  private startIdleSweep(): void {
    const idle = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idle <= 0) return;
    this.idleSweep = setInterval(() => {
      const now = monotonicMs();
      for (const [conn, socket] of this.sockets) if (now - conn.lastReceivedMs > idle) socket.destroy();
    }, Math.max(50, idle / 4));
    this.idleSweep.unref();
  }

  /** The first bound address, as node:net reports it. */
  address(): { address: string; family: string; port: number } | null {
    const a = this.bound[0];
    if (a === undefined) return null;
    return { address: a.address, family: a.address.includes(':') ? 'IPv6' : 'IPv4', port: a.port };
  }

  /** Every bound address (IPv4 and, when enabled, IPv6). */
  addresses(): Remote[] {
    return [...this.bound];
  }

  /** Number of open connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Stop accepting; 'close' follows when the last connection has closed (as node:net). */
  close(cb?: (err?: Error) => void): this {
    if (cb) this.once('close', () => cb());
    this.closing = true;
    this.driver?.endpoint.unlisten();
    this.maybeFinishClose();
    return this;
  }

  private maybeFinishClose(): void {
    if (!this.closing || this.sockets.size > 0) return;
    if (this.idleSweep !== undefined) clearInterval(this.idleSweep);
    const driver = this.driver;
    this.driver = undefined;
    this.closing = false;
    const capture = this.capture;
    this.capture = undefined;
    // The capture is complete on disk before 'close'.
    const finish = () => (capture ? capture.close().catch((err: Error) => void this.emit('error', err)) : Promise.resolve()).then(() => this.emit('close'));
    if (driver === undefined) {
      queueMicrotask(() => void finish());
      return;
    }
    driver.close().then(finish);
  }

  /** Endpoint counters (drops by reason, datagrams) and the driver's socket counters. */
  stats(): { endpoint: ReturnType<Driver['endpoint']['stats']>; driver: Driver['counters'] } | undefined {
    if (this.driver === undefined) return undefined;
    return { endpoint: this.driver.endpoint.stats(), driver: { ...this.driver.counters } };
  }
}

/** Drops become log lines with plain addresses, rate-limited so a flood cannot flood the log too. */
function dropLogger(log: (line: string) => void, limitPerS: number): (ev: TraceEvent) => void {
  let windowStart = -Infinity;
  let lines = 0;
  let suppressed = 0;
  return (ev) => {
    if (ev.type !== 'drop' || ev.connectionId !== undefined) return;
    const now = monotonicMs();
    if (now - windowStart >= 1000) {
      if (suppressed > 0) log(`drop: ${suppressed} more not logged`);
      windowStart = now;
      lines = 0;
      suppressed = 0;
    }
    if (lines >= limitPerS) {
      suppressed++;
      return;
    }
    lines++;
    const from = ev.remote ? `${ev.remote.address.includes(':') ? `[${ev.remote.address}]` : ev.remote.address}:${ev.remote.port}` : 'unknown';
    log(`drop ${ev.reason} from ${from}`);
  };
}

export function createServer(options?: ServerOptions | ((socket: Socket) => void), onConnection?: (socket: Socket) => void): Server {
  if (typeof options === 'function') return new Server({}, options);
  return new Server(options ?? {}, onConnection);
}

// createServer(): a listening Endpoint on UDP sockets, shaped like node:net's Server (README "node:net parity").
import { randomBytes, randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { Connection, ConnectionConfig, EndpointEvent, Remote, TraceEvent } from '../core/index.js';
import { NodeCapture, type CaptureOptions } from '../capture/node.js';
import type { RecordOption } from '../replay/recorder.js';
import { monotonicMs } from '../driver/clock.js';
import type { Driver } from './driver.js';
import { newDriver } from './recording.js';
import { keepaliveIdleMs } from './keepalive.js';
import { Socket } from './socket.js';

export interface ServerOptions extends Partial<ConnectionConfig> {
  /**
   * IPv4 is always served. IPv6 is opt-in: 'separate' binds a second, IPv6-only socket on the same port (works
   * everywhere); 'dual-stack' binds one udp6 socket with ipv6Only false, which also receives IPv4 as
   * IPv4-mapped addresses (Linux and macOS; not where the OS forces IPV6_V6ONLY, e.g. OpenBSD, or Windows with
   * some settings). Events and logs always carry plain IPv4 addresses. listen() on an IPv6 host serves that host.
   */
  ipv6?: false | 'separate' | 'dual-stack';
  /** Connections from which nothing arrived for this long are dropped (RST). 0 disables. Default 30 s. */
  idleTimeoutMs?: number;
  /** Half-open connections at once (SYN-RECEIVED); past it the oldest is dropped. Default 128. */
  backlog?: number;
  /** As node:net: false (the default) ends a connection's writable side when the peer ends; true leaves it open. */
  allowHalfOpen?: boolean;
  /** As node:net: keepalive probes on accepted connections (off by default), after keepAliveInitialDelay (10 s). */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
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

/** What the 'drop' event carries: the connection refused because maxConnections was reached (as node:net). */
export interface DropInfo {
  localAddress?: string;
  localPort?: number;
  localFamily?: string;
  remoteAddress: string;
  remotePort: number;
  remoteFamily: string;
}

export interface ServerEvents {
  listening: [];
  connection: [Socket];
  close: [];
  error: [Error];
  drop: [DropInfo];
  /** A socket error while serving (a send that failed towards one peer): counted, never fatal. */
  warning: [Error];
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /** Half-open connections at once (overrides the server's `backlog`). */
  backlog?: number;
  /** With an IPv6 host: serve IPv6 only (the default except on '::', which is dual-stack as in node:net). */
  ipv6Only?: boolean;
  /** As node:net: aborting it closes the server. */
  signal?: AbortSignal;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** After the last connection's stream closed, how long the server waits for the closes to finish on the wire. */
const CLOSE_LINGER_MS = 2_000;

type ServerState = 'idle' | 'starting' | 'listening' | 'closing';

function serverError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export class Server extends EventEmitter<ServerEvents> {
  private driver: Driver | undefined;
  /** Every connection the application has, until the core says it is closed (events are routed through it). */
  private readonly sockets = new Map<Connection, Socket>();
  /** Connections whose stream is still open (what getConnections() counts and close() waits for). */
  private open = 0;
  private idleSweep: NodeJS.Timeout | undefined;
  private state: ServerState = 'idle';
  private bound: Remote[] = [];
  private capture: NodeCapture | undefined;
  private refed = true;
  private finishing = false;
  /** Past this many open connections new ones are refused (RST) and a 'drop' event emitted, as node:net. */
  maxConnections: number | undefined;

  constructor(
    private readonly options: ServerOptions = {},
    onConnection?: (socket: Socket) => void,
  ) {
    super();
    if (onConnection) this.on('connection', onConnection);
  }

  /**
   * listen(port?, host?, backlog?, cb?) or listen({ port, host, backlog, ipv6Only, signal }, cb?) or listen(cb).
   * Binds IPv4 (and IPv6 when enabled, or the IPv6 host given); 'listening' follows, or one 'error'.
   */
  listen(port?: number | ListenOptions | (() => void), host?: string | number | (() => void), backlog?: number | (() => void), cb?: () => void): this {
    const args = [port, host, backlog, cb].filter((a) => a !== undefined);
    const done = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    let opts: ListenOptions;
    if (typeof args[0] === 'object' && args[0] !== null) opts = { ...(args[0] as ListenOptions) };
    else {
      opts = { port: args[0] as number | undefined };
      if (typeof args[1] === 'string') opts.host = args[1];
      const b = typeof args[1] === 'number' ? args[1] : args[2];
      if (typeof b === 'number') opts.backlog = b;
    }
    if (typeof opts.port === 'string' && /^\d+$/.test(opts.port)) opts.port = Number(opts.port);
    if (opts.port !== undefined && (typeof opts.port !== 'number' || !Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
      throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(opts.port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    if (this.state !== 'idle') throw serverError('Listen method has been called more than once without closing.', 'ERR_SERVER_ALREADY_LISTEN');
    this.state = 'starting';
    if (done) this.once('listening', done);
    const { signal } = opts;
    if (signal !== undefined) {
      if (signal.aborted) {
        process.nextTick(() => this.close());
      } else {
        const abort = () => this.close();
        signal.addEventListener('abort', abort, { once: true });
        this.once('close', () => signal.removeEventListener('abort', abort));
      }
    }
    // 'listening' is emitted outside start(): an exception of the application's listener is its own, not a failed listen.
    this.start(opts).then(() => this.emit('listening'), (err: Error) => {
      const driver = this.driver;
      this.driver = undefined;
      this.bound = [];
      void this.capture?.close().catch(() => undefined);
      this.capture = undefined;
      const wasClosing = this.state === 'closing';
      this.state = 'idle';
      void (driver?.close() ?? Promise.resolve()).then(() => {
        if (wasClosing) this.emit('close');
        else this.emit('error', err);
      });
    });
    return this;
  }

  private async start(opts: ListenOptions): Promise<void> {
    const { ipv6 = false, idleTimeoutMs: _idle, seed, log, logLimitPerS = 10, backlog, capture, record, allowHalfOpen: _half, keepAlive, keepAliveInitialDelay, ...config } = this.options;
    const host = opts.host !== undefined && isIP(opts.host) === 0 ? (await lookup(opts.host, { verbatim: true })).address : opts.host;
    this.throwIfClosed();
    const cap = capture ? (this.capture = new NodeCapture(capture, 'server')) : undefined;
    const logTrace = log ? dropLogger(log, logLimitPerS) : undefined;
    const trace = cap?.trace && logTrace ? (ev: TraceEvent) => (cap.trace!(ev), logTrace(ev)) : (cap?.trace ?? logTrace);
    const driver = newDriver({ seed: seed ?? randomInt(2 ** 31), ...(seed === undefined ? { secret: randomBytes(32).toString('hex') } : {}), ...config, trace }, record, 'server');
    driver.tap = cap?.tap;
    this.driver = driver;
    if (!this.refed) driver.unref();
    driver.on('event', (ev) => this.onEvent(ev));
    driver.on('error', (err) => this.emit('warning', err));
    const port = opts.port ?? 0;
    if (ipv6 === 'dual-stack') {
      this.bound.push(await driver.bind({ type: 'udp6', ipv6Only: false, address: host ?? '::', port }));
    } else if (host !== undefined && isIP(host) === 6) {
      this.bound.push(await driver.bind({ type: 'udp6', ipv6Only: opts.ipv6Only ?? host !== '::', address: host, port }));
    } else {
      const first = await driver.bind({ type: 'udp4', address: host ?? '0.0.0.0', port });
      this.bound.push(first);
      if (ipv6 === 'separate') this.bound.push(await driver.bind({ type: 'udp6', ipv6Only: true, address: '::', port: first.port }));
    }
    if (!this.refed) driver.unref();
    this.throwIfClosed();
    // Every TCP port on this UDP socket is served.
    const keepalive = keepAlive ? { keepaliveIdleMs: keepaliveIdleMs(true, keepAliveInitialDelay) } : {};
    driver.endpoint.listen({ backlog: opts.backlog ?? backlog, ...keepalive });
    this.startIdleSweep();
    this.state = 'listening';
  }

  /** close() was called while start() awaited. */
  private throwIfClosed(): void {
    if (this.state === 'closing') throw serverError('closed while starting', 'ERR_SERVER_NOT_RUNNING');
  }

  private onEvent(ev: EndpointEvent): void {
    if (ev.type === 'accepted') {
      const conn = ev.connection;
      if (this.state !== 'listening' || (this.maxConnections !== undefined && this.open >= this.maxConnections)) {
        // Closing, or full: refused with a RST, as node:net closes what it will not serve.
        this.driver?.act(() => conn.abort());
        if (this.state === 'listening') this.emit('drop', this.dropInfo(conn));
        return;
      }
      const socket = new Socket({ allowHalfOpen: this.options.allowHalfOpen });
      socket.attach(this.driver!, conn);
      this.sockets.set(conn, socket);
      this.open++;
      socket.once('close', () => {
        this.open--;
        this.maybeFinishClose();
      });
      socket.handleEvent(ev);
      this.emit('connection', socket);
      return;
    }
    const socket = this.sockets.get(ev.connection);
    if (socket === undefined) return;
    if (ev.type === 'closed') this.sockets.delete(ev.connection);
    socket.handleEvent(ev);
  }

  private dropInfo(conn: Connection): DropInfo {
    const local = this.bound.find((a) => a.address.includes(':') === conn.remote.address.includes(':')) ?? this.bound[0];
    const family = (a: string) => (a.includes(':') ? 'IPv6' : 'IPv4');
    return { localAddress: local?.address, localPort: local?.port, localFamily: local && family(local.address), remoteAddress: conn.remote.address, remotePort: conn.remote.port, remoteFamily: family(conn.remote.address) };
  }

  private startIdleSweep(): void {
    const idle = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idle <= 0) return;
    this.idleSweep = setInterval(() => {
      const now = monotonicMs();
      for (const [conn, socket] of this.sockets) if (!socket.destroyed && now - conn.lastReceivedMs > idle) socket.resetAndDestroy();
    }, Math.max(50, idle / 4));
    this.idleSweep.unref();
  }

  /** True once 'listening' was emitted, until close() (as node:net's server.listening). */
  get listening(): boolean {
    return this.state === 'listening';
  }

  /** The first bound address, as node:net reports it; null when not listening. */
  address(): { address: string; family: string; port: number } | null {
    const a = this.bound[0];
    if (a === undefined || this.state === 'idle') return null;
    return { address: a.address, family: a.address.includes(':') ? 'IPv6' : 'IPv4', port: a.port };
  }

  /** Every bound address (IPv4 and, when enabled, IPv6). */
  addresses(): Remote[] {
    return [...this.bound];
  }

  /** Number of open connections. */
  get connections(): number {
    return this.open;
  }

  /** The number of open connections, to a node-style callback (as node:net). */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.open;
    process.nextTick(() => cb(null, n));
    return this;
  }

  /**
   * Stop accepting; 'close' follows when every connection's stream has closed (as node:net) and their closes
   * have finished on the wire (at most 2 s more). Half-open connections not yet handed to the application are
   * reset. Not listening: the callback gets ERR_SERVER_NOT_RUNNING.
   */
  close(cb?: (err?: Error) => void): this {
    if (this.state === 'idle') {
      process.nextTick(() => {
        cb?.(serverError('Server is not running.', 'ERR_SERVER_NOT_RUNNING'));
        this.emit('close');
      });
      return this;
    }
    if (cb) this.once('close', () => cb());
    if (this.state === 'closing') return this;
    const wasStarting = this.state === 'starting';
    this.state = 'closing';
    // start() notices and tears down what it bound.
    if (wasStarting) return this;
    const driver = this.driver!;
    driver.endpoint.unlisten();
    driver.act(() => {
      for (const conn of [...driver.endpoint.connections()]) if (!this.sockets.has(conn) && conn.state !== 'TIME-WAIT') conn.abort();
    });
    this.maybeFinishClose();
    return this;
  }

  private maybeFinishClose(): void {
    if (this.state !== 'closing' || this.open > 0 || this.finishing || this.driver === undefined) return;
    this.finishing = true;
    if (this.idleSweep !== undefined) clearInterval(this.idleSweep);
    this.idleSweep = undefined;
    const driver = this.driver;
    const started = monotonicMs();
    // Closes in flight (a FIN not yet acknowledged) get a moment to finish; TIME-WAIT is not waited for.
    const closing = () => [...driver.endpoint.connections()].some((c) => c.state !== 'TIME-WAIT' && c.state !== 'CLOSED');
    const wait = () => {
      if (closing() && monotonicMs() - started < CLOSE_LINGER_MS) {
        setTimeout(wait, 20);
        return;
      }
      this.driver = undefined;
      this.bound = [];
      this.sockets.clear();
      const capture = this.capture;
      this.capture = undefined;
      // The capture is complete on disk before 'close'.
      void driver
        .close()
        .then(() => capture?.close().catch((err: Error) => void this.emit('warning', err)))
        .then(() => {
          this.state = 'idle';
          this.finishing = false;
          this.emit('close');
        });
    };
    wait();
  }

  /** Let the process exit while the server listens (node:net's unref()); ref() undoes it. */
  unref(): this {
    this.refed = false;
    this.driver?.unref();
    return this;
  }

  ref(): this {
    this.refed = true;
    this.driver?.ref();
    return this;
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

// connect(): the client's connection strategy, the way games must connect. Every address of every server
// (names resolved with getaddrinfo through dns.lookup({ all: true }), literals used as they are, IPv6 included),
// picked uniformly at random with a cryptographic source; a failed or timed-out address is removed and another
// picked; when all failed, names are resolved again after roundDelayMs, up to `rounds`; then an error as node:net
// makes it: one address tried, that attempt's error (ECONNREFUSED, ETIMEDOUT, ...); several, an AggregateError of
// every attempt's (ConnectFailedError).
import { randomBytes, randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionConfig, Connection, EndpointEvent, TraceHook } from '../core/index.js';
import { NodeCapture, type CaptureOptions } from '../capture/node.js';
import { attemptRecord, type RecordOption } from '../replay/recorder.js';
import { monotonicMs } from '../driver/clock.js';
import type { Driver } from './driver.js';
import { codeOf, netError, type NetError } from './errors.js';
import { newDriver } from './recording.js';
import { CLIENT_KEEPALIVE, keepaliveIdleMs } from './keepalive.js';
import { Socket, type SocketOptions } from './socket.js';
import { isUnreachableCode, UnreachableRule, UNREACHABLE_REPORTS_TO_ABORT } from './unreachable.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a name to every address it has; must reject (or return []) when it cannot. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** node:net's `lookup` option: dns.lookup's signature, called with { all: true }. */
export type LookupFunction = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[] | string, family?: number) => void) => void;

export interface ConnectOptions extends Partial<ConnectionConfig>, SocketOptions {
  /** One server (a name or a literal); or use `servers`. */
  host?: string;
  /** The default port (a server entry may carry its own, as `name:port` or `[v6]:port`). */
  port: number;
  /** Names and literal addresses, e.g. ['eu.example.net', '203.0.113.7', '[2001:db8::7]:4000']. */
  servers?: string[];
  /** Time one attempt may take before it counts as failed (default 5 s). */
  connectTimeoutMs?: number;
  /** How many times the whole list is resolved and tried (default 2). */
  rounds?: number;
  /** The pause before each round after the first (default 500 ms): a server starting up gets the time to. */
  roundDelayMs?: number;
  /** Injected name resolution (tests, custom DNS); default dns.lookup(name, { all: true }). */
  resolver?: Resolver;
  /** node:net's form of the same: a dns.lookup-like function (ignored when `resolver` is given). */
  lookup?: LookupFunction;
  /** Only addresses of this family (as node:net; 0: both). */
  family?: 0 | 4 | 6;
  /** Bind the client's UDP socket to this address and port (as node:net's localAddress/localPort). */
  localAddress?: string;
  localPort?: number;
  /** As node:net: keepalive on or off (default on for stevens clients, so servers' idle timeouts do not drop them). */
  keepAlive?: boolean;
  /** Silence before the first keepalive probe (default 10 s). */
  keepAliveInitialDelay?: number;
  /** As node:net: socket.setTimeout(timeout) before connecting ('timeout' after that long without activity). */
  timeout?: number;
  /** As node:net: aborting it destroys the socket with an AbortError, connected or not. */
  signal?: AbortSignal;
  /** Seed of the endpoint's PRNG (default random); the order of attempts is always cryptographically random. */
  seed?: number;
  /** Record every datagram of this socket's attempts into a pcapng file (and trace events, with tracePath). */
  capture?: CaptureOptions;
  /** Log every input of the endpoint for `stevens replay` (attempts after the first: `name.attemptN.ext`). */
  record?: RecordOption;
}

export type AttemptOutcome = 'connected' | 'refused' | 'reset' | 'timeout' | 'error' | 'resolve-failed';

export interface Attempt {
  round: number;
  /** The server entry this came from. */
  server: string;
  address?: string;
  port?: number;
  outcome: AttemptOutcome;
  /** The failure's code, as node:net would set it (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND, ...). */
  code?: string;
  error?: string;
  /** Monotonic start time and duration (ms). */
  atMs: number;
  durationMs: number;
}

/** Attempts of a failed connect(), on every error it ends with. */
export interface AttemptsList {
  attempts: Attempt[];
}

/**
 * Every attempt failed, on more than one address: as node:net's multi-address connect, an AggregateError of each
 * attempt's error (`errors`), whose `code` is the one they share (ECONNREFUSED when every address refused), or
 * ECONNFAILED when they failed in different ways. `attempts` describes each.
 */
export class ConnectFailedError extends AggregateError {
  readonly code: string;

  constructor(
    errors: Error[],
    readonly attempts: Attempt[],
  ) {
    super(errors, `could not connect after ${attempts.length} attempts: ${attempts.map(describeAttempt).join('; ')}`);
    this.name = 'ConnectFailedError';
    const codes = new Set(errors.map((e) => codeOf(e) ?? 'ECONNFAILED'));
    this.code = codes.size === 1 ? [...codes][0]! : 'ECONNFAILED';
  }
}

function describeAttempt(a: Attempt): string {
  const where = a.address !== undefined ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : a.server;
  return `${where} ${a.outcome}${a.error ? ` (${a.error})` : ''}`;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_ROUNDS = 2;
const DEFAULT_ROUND_DELAY_MS = 500;
/** How long a closed client connection's TIME-WAIT keeps its UDP socket (the kernel's TCP keeps 60 s). */
const CLIENT_TIME_WAIT_LINGER_MS = 2_000;

const systemResolver: Resolver = async (hostname) => {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function lookupResolver(fn: LookupFunction): Resolver {
  return (hostname) =>
    new Promise((resolve, reject) => {
      fn(hostname, { all: true }, (err, addresses, family) => {
        if (err) return reject(err);
        const list = typeof addresses === 'string' ? [{ address: addresses, family: family ?? isIP(addresses) }] : addresses;
        resolve(list.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })));
      });
    });
}

function invalidArg(message: string, code = 'ERR_INVALID_ARG_VALUE'): TypeError {
  return Object.assign(new TypeError(message), { code });
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new RangeError(`${what} should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
  }
  return port;
}

/**
 * A server entry: host and optional port ('name', 'name:port', '1.2.3.4:5', '::1', '[::1]:5'). A malformed one
 * ('[::1', 'host:', 'host:x', a port over 65535) is a TypeError (code ERR_INVALID_ARG_VALUE), never a name to look up.
 */
export function parseServer(entry: string, defaultPort: number): { host: string; port: number } {
  const bad = (why: string) => invalidArg(`invalid server address '${entry}': ${why}`);
  if (entry.trim() !== entry || entry === '') throw bad('empty or surrounded by spaces');
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
    if (m === null) throw bad("a '[' without its ']' (an IPv6 literal with a port is written [addr]:port)");
    if (isIP(m[1]!) !== 6) throw bad(`'${m[1]}' is not an IPv6 address`);
    host = m[1]!;
    portText = m[2];
  } else if (isIP(entry) === 6) {
    host = entry;
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon >= 0 && entry.indexOf(':') !== colon) throw bad('an IPv6 address with a port is written [addr]:port');
    host = colon >= 0 ? entry.slice(0, colon) : entry;
    portText = colon >= 0 ? entry.slice(colon + 1) : undefined;
    if (host === '') throw bad('no host');
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) throw bad(`'${portText}' is not a port (0-65535)`);
  return { host, port };
}

/** connect(options, cb?), connect(port, host?, cb?), connect(port, cb?) -> the options and the callback. */
export function normalizeConnectArgs(args: unknown[]): [ConnectOptions, (() => void) | undefined] {
  const [a, b, c] = args;
  if (a !== null && typeof a === 'object') {
    if (b !== undefined && typeof b !== 'function') throw invalidArg('the connect callback must be a function', 'ERR_INVALID_ARG_TYPE');
    return [a as ConnectOptions, b as (() => void) | undefined];
  }
  const port = typeof a === 'string' && /^\d+$/.test(a) ? Number(a) : a;
  const options: ConnectOptions = { port: checkPort(port, 'Port') };
  let cb = b;
  if (typeof b === 'string') {
    options.host = b;
    cb = c;
  } else if (b !== undefined && b !== null && typeof b !== 'function') {
    throw invalidArg('connect(port, host?, callback?): host must be a string', 'ERR_INVALID_ARG_TYPE');
  }
  if (cb !== undefined && typeof cb !== 'function') throw invalidArg('the connect callback must be a function', 'ERR_INVALID_ARG_TYPE');
  return [options, cb as (() => void) | undefined];
}

/**
 * Connect with the strategy above. Returns the Socket at once (like net.connect); 'connect' and 'ready' follow,
 * or 'error' (see ConnectFailedError). Each attempt is also emitted as 'attempt', and as node:net's
 * 'connectionAttempt', 'connectionAttemptFailed', 'connectionAttemptTimeout'; each resolved address as 'lookup'.
 */
export function connect(options: ConnectOptions, cb?: () => void): Socket;
export function connect(port: number, host?: string, cb?: () => void): Socket;
export function connect(port: number, cb?: () => void): Socket;
export function connect(...args: unknown[]): Socket {
  const [options, cb] = normalizeConnectArgs(args);
  return new Socket({ allowHalfOpen: options.allowHalfOpen }).connect(options, cb);
}

/** node:net's other name for connect(). */
export const createConnection = connect;

/** The strategy on `socket` (Socket.connect() calls this). Throws for bad arguments, as node:net does. */
export function startConnecting(socket: Socket, options: ConnectOptions): void {
  checkPort(options.port, 'options.port');
  const entries = options.servers ?? (options.host !== undefined ? [options.host] : ['127.0.0.1']);
  if (!Array.isArray(entries) || entries.length === 0) throw invalidArg('servers must be a non-empty list of names or addresses');
  for (const e of entries) parseServer(e, options.port);
  if (options.timeout !== undefined) socket.setTimeout(options.timeout);
  const { signal } = options;
  if (signal !== undefined) {
    const abort = () => socket.destroy(Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' }));
    if (signal.aborted) process.nextTick(abort);
    else {
      signal.addEventListener('abort', abort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', abort));
    }
  }
  runStrategy(socket, options, entries).catch((err: Error) => socket.destroy(err));
}

/** Stops what the strategy is waiting for when the socket is destroyed. */
class Cancellation {
  cancelled = false;
  private current: (() => void) | undefined;

  cancel(): void {
    this.cancelled = true;
    const current = this.current;
    this.current = undefined;
    current?.();
  }

  /** What a cancel must stop now (undefined: nothing). */
  onCancel(fn: (() => void) | undefined): void {
    this.current = fn;
  }

  /** A pause a cancel cuts short; it keeps the process alive unless the socket is unref()'d. */
  sleep(ms: number, socket: Socket): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        socket.untrackRefable(timer);
        this.onCancel(undefined);
        resolve();
      };
      const timer = setTimeout(done, ms);
      socket.trackRefable(timer);
      this.onCancel(done);
    });
  }
}

async function runStrategy(socket: Socket, options: ConnectOptions, entries: string[]): Promise<void> {
  const {
    host: _host,
    port,
    servers: _servers,
    connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
    rounds = DEFAULT_ROUNDS,
    roundDelayMs = DEFAULT_ROUND_DELAY_MS,
    resolver = options.lookup ? lookupResolver(options.lookup) : systemResolver,
    lookup: _lookup,
    family,
    localAddress,
    localPort,
    keepAlive,
    keepAliveInitialDelay,
    timeout: _timeout,
    signal: _signal,
    allowHalfOpen: _allowHalfOpen,
    seed,
    capture,
    record: rec,
    ...config
  } = options;
  const cancellation = new Cancellation();
  socket.setConnectCanceller(() => cancellation.cancel());
  // One capture for all attempts, closed with the socket.
  const cap = capture ? new NodeCapture(capture, 'client') : undefined;
  if (cap) socket.once('close', () => void cap.close().catch((err: Error) => socket.emit('warning', err)));
  const attempts: Attempt[] = [];
  const errors: Error[] = [];
  const record = (a: Attempt, err?: Error) => {
    attempts.push(a);
    if (err !== undefined) errors.push(err);
    socket.emit('attempt', a);
  };
  const keepalive = keepAlive !== undefined || keepAliveInitialDelay !== undefined ? { keepaliveIdleMs: keepaliveIdleMs(keepAlive ?? true, keepAliveInitialDelay) } : {};
  for (let round = 1; round <= rounds; round++) {
    if (round > 1 && roundDelayMs > 0) await cancellation.sleep(roundDelayMs, socket);
    if (cancellation.cancelled) return;
    const candidates = await resolveAll(socket, entries, port, resolver, family ?? 0, round, record);
    while (candidates.length > 0) {
      if (cancellation.cancelled) return;
      const [c] = candidates.splice(randomInt(candidates.length), 1);
      const started = monotonicMs();
      const familyNumber = c!.address.includes(':') ? 6 : 4;
      socket.emit('connectionAttempt', c!.address, c!.port, familyNumber);
      // setKeepAlive() called while connecting counts for the attempts that start after it.
      const requested = socket.keepaliveRequest !== undefined ? { keepaliveIdleMs: socket.keepaliveRequest } : {};
      const endpointOptions = { ...CLIENT_KEEPALIVE, ...config, ...keepalive, ...requested, seed: seed ?? randomInt(2 ** 31), ...(seed === undefined ? { secret: randomBytes(32).toString('hex') } : {}), trace: cap?.trace };
      const result = await tryOne(socket, cancellation, { address: c!.address, port: c!.port, localAddress, localPort }, connectTimeoutMs, endpointOptions, cap, attemptRecord(rec, attempts.length + 1));
      if (result.outcome === 'cancelled') return;
      const attempt: Attempt = { round, server: c!.server, address: c!.address, port: c!.port, outcome: result.outcome, atMs: started, durationMs: monotonicMs() - started };
      if (result.error !== undefined) {
        attempt.code = result.error.code;
        attempt.error = result.detail ?? result.error.message;
        if (result.outcome === 'timeout') socket.emit('connectionAttemptTimeout', c!.address, c!.port, familyNumber);
        else socket.emit('connectionAttemptFailed', c!.address, c!.port, familyNumber, result.error);
      }
      record(attempt, result.error);
      if (result.outcome === 'connected') return;
    }
  }
  throw failure(attempts, errors);
}

/** One address tried (or one name that did not resolve): that error, as node:net; several: all of them. */
function failure(attempts: Attempt[], errors: Error[]): Error {
  const targets = new Set(attempts.map((a) => (a.address !== undefined ? `${a.address}|${a.port}` : `name|${a.server}`)));
  if (targets.size === 1 && errors.length > 0) return Object.assign(errors[errors.length - 1]!, { attempts } satisfies AttemptsList);
  return new ConnectFailedError(errors, attempts);
}

interface Candidate {
  server: string;
  address: string;
  port: number;
}

async function resolveAll(socket: Socket, entries: string[], defaultPort: number, resolver: Resolver, family: 0 | 4 | 6, round: number, record: (a: Attempt, err?: Error) => void): Promise<Candidate[]> {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  const add = (server: string, address: string, port: number) => {
    const key = `${address}|${port}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ server, address, port });
  };
  await Promise.all(
    entries.map(async (server) => {
      const { host, port } = parseServer(server, defaultPort);
      if (isIP(host) !== 0) {
        add(server, host, port);
        return;
      }
      const started = monotonicMs();
      try {
        const addresses = (await resolver(host)).filter((a) => family === 0 || a.family === family);
        if (addresses.length === 0) throw Object.assign(netError('ENOTFOUND', 'getaddrinfo', undefined, `no ${family === 0 ? '' : `IPv${family} `}address for ${host}`), { hostname: host });
        for (const a of addresses) {
          socket.emit('lookup', null, a.address, a.family, host);
          add(server, a.address, port);
        }
      } catch (e) {
        // node's lookup errors carry code ENOTFOUND, EAI_AGAIN, ... and hostname; others become ENOTFOUND.
        const err = codeOf(e) !== undefined ? (e as NetError) : Object.assign(netError('ENOTFOUND', 'getaddrinfo', undefined, `${host}: ${(e as Error).message}`), { hostname: host, cause: e });
        socket.emit('lookup', err, undefined, undefined, host);
        record({ round, server, outcome: 'resolve-failed', code: err.code, error: (e as Error).message, atMs: started, durationMs: monotonicMs() - started }, err);
      }
    }),
  );
  return out;
}

type TryResult = { outcome: AttemptOutcome; error?: NetError; detail?: string } | { outcome: 'cancelled'; error?: undefined; detail?: undefined };

interface Target {
  address: string;
  port: number;
  localAddress?: string;
  localPort?: number;
}

const OUTCOME_OF_CODE: Record<string, AttemptOutcome> = { ECONNREFUSED: 'refused', ECONNRESET: 'reset', ETIMEDOUT: 'timeout' };

/** One attempt; on success the socket is attached synchronously, so no event of the connection is missed. */
async function tryOne(socket: Socket, cancellation: Cancellation, target: Target, timeoutMs: number, endpointOptions: Partial<ConnectionConfig> & { seed: number; trace?: TraceHook }, cap?: NodeCapture, record?: RecordOption): Promise<TryResult> {
  const { address, port } = target;
  const remote = { address, port };
  const v6 = address.includes(':');
  const driver = newDriver(endpointOptions, record, 'client');
  driver.tap = cap?.tap;
  socket.trackRefable(driver);
  const untrack = () => socket.untrackRefable(driver);
  const failed = (err: unknown): TryResult => {
    const code = codeOf(err) ?? 'ECONNFAILED';
    const message = (err as Error).message;
    // "recvmsg ECONNREFUSED" says nothing the code does not; a reason in words does.
    const detail = /^[a-z_]+ E[A-Z]+\b/.test(message) ? undefined : message;
    return { outcome: OUTCOME_OF_CODE[code] ?? 'error', error: netError(code, 'connect', remote, detail), detail: message };
  };
  try {
    await driver.bind({ type: v6 ? 'udp6' : 'udp4', address: target.localAddress ?? (v6 ? '::' : '0.0.0.0'), port: target.localPort ?? 0 });
    await driver.connectSocket(remote);
  } catch (err) {
    await driver.close();
    untrack();
    return cancellation.cancelled ? { outcome: 'cancelled' } : failed(err);
  }
  if (cancellation.cancelled) {
    await driver.close();
    untrack();
    return { outcome: 'cancelled' };
  }
  return new Promise<TryResult>((resolve) => {
    let settled = false;
    const finish = (r: TryResult) => {
      if (settled) return;
      settled = true;
      cancellation.onCancel(undefined);
      clearTimeout(timer);
      socket.untrackRefable(timer);
      driver.off('event', onEvent);
      driver.off('error', onError);
      resolve(r);
    };
    const abandon = (r: TryResult) => {
      // Settle first: the abort's own 'closed' event must not count as the outcome.
      finish(r);
      driver.act(() => {
        for (const c of driver.endpoint.connections()) c.abort();
      });
      void driver.close().then(untrack);
    };
    const onEvent = (ev: EndpointEvent) => {
      if (ev.type === 'connected') {
        finish({ outcome: 'connected' });
        adopt(socket, driver, ev.connection);
        socket.handleEvent(ev);
      } else if (ev.type === 'closed') {
        finish(ev.error ? failed(ev.error) : { outcome: 'error', error: netError('ECONNFAILED', 'connect', remote, 'closed before it was established') });
        void driver.close().then(untrack);
      }
    };
    // The socket is connected to the peer, so an ICMP port unreachable comes back as ECONNREFUSED: a dead
    // address fails at once instead of after connectTimeoutMs (RFC 5461: nothing is lost yet, another is tried).
    const onError = (err: NodeJS.ErrnoException) => abandon(failed(err));
    driver.on('event', onEvent);
    driver.on('error', onError);
    const timer = setTimeout(() => abandon({ outcome: 'timeout', error: netError('ETIMEDOUT', 'connect', remote, `no answer within ${timeoutMs} ms`), detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.trackRefable(timer);
    cancellation.onCancel(() => abandon({ outcome: 'cancelled' }));
    try {
      driver.act((now) => driver.endpoint.connect(now, remote));
    } catch (err) {
      abandon(failed(err));
    }
  });
}

/** The attempt that connected: its driver now serves the socket until the connection is gone. */
function adopt(socket: Socket, driver: Driver, conn: Connection): void {
  // TIME-WAIT (and a connection still closing after destroy()) lingers briefly to answer a retransmitted FIN,
  // without holding the process open.
  const linger = () => driver.closeWhenIdle(CLIENT_TIME_WAIT_LINGER_MS);
  socket.attach(driver, conn, linger);
  const unreachable = new UnreachableRule();
  driver.on('event', (later) => {
    socket.handleEvent(later);
    if (later.type === 'closed') linger();
  });
  driver.on('error', (err: NodeJS.ErrnoException) => {
    const code = codeOf(err);
    if (isUnreachableCode(code) && conn.state !== 'CLOSED' && unreachable.report(monotonicMs(), conn.lastReceivedMs, conn.stats().srttMs)) {
      const sinceMs = monotonicMs() - unreachable.firstAtMs!;
      socket.failWith(netError(code, err.syscall ?? 'recvmsg', conn.remote, `reported ${UNREACHABLE_REPORTS_TO_ABORT} times in ${sinceMs.toFixed(0)} ms with nothing heard from the peer`));
      return;
    }
    socket.emit('warning', err);
  });
}

// connect(): the client's connection strategy, the way games must connect. Every address of every server
// (names resolved with getaddrinfo through dns.lookup({ all: true }), literals used as they are, IPv6 included),
// picked uniformly at random with a cryptographic source; a failed or timed-out address is removed and another
// picked; when all failed, names are resolved again, up to `rounds`; then an error listing every attempt.
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionConfig, EndpointEvent, TraceHook } from '../core/index.js';
import { NodeCapture, type CaptureOptions } from '../capture/node.js';
import { attemptRecord, type RecordOption } from '../replay/recorder.js';
import { monotonicMs } from '../driver/clock.js';
import { newDriver } from './recording.js';
import { Socket } from './socket.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a name to every address it has; must reject (or return []) when it cannot. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface ConnectOptions extends Partial<ConnectionConfig> {
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
  /** Injected name resolution (tests, custom DNS); default dns.lookup(name, { all: true }). */
  resolver?: Resolver;
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
  error?: string;
  /** Monotonic start time and duration (ms). */
  atMs: number;
  durationMs: number;
}

export class ConnectFailedError extends Error {
  readonly code = 'ECONNFAILED';
  constructor(readonly attempts: Attempt[]) {
    super(`could not connect after ${attempts.length} attempts: ${attempts.map(describeAttempt).join('; ')}`);
  }
}

function describeAttempt(a: Attempt): string {
  const where = a.address !== undefined ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : a.server;
  return `${where} ${a.outcome}${a.error ? ` (${a.error})` : ''}`;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_ROUNDS = 2;
/** How long a closed client connection's TIME-WAIT keeps its UDP socket (the kernel's TCP keeps 60 s). */
const CLIENT_TIME_WAIT_LINGER_MS = 2_000;
/** Clients keep quiet connections alive so servers' idle timeouts (30 s by default) do not drop them. */
const CLIENT_KEEPALIVE = { keepaliveIdleMs: 10_000, keepaliveIntervalMs: 2_000, keepaliveProbes: 5 };

const systemResolver: Resolver = async (hostname) => {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A server entry: host and optional port ('name', 'name:port', '1.2.3.4:5', '::1', '[::1]:5'). */
export function parseServer(entry: string, defaultPort: number): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracket) return { host: bracket[1]!, port: bracket[2] !== undefined ? Number(bracket[2]) : defaultPort };
  if (isIP(entry) === 6) return { host: entry, port: defaultPort };
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(entry.slice(colon + 1))) return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
  return { host: entry, port: defaultPort };
}

/**
 * Connect with the strategy above. Returns the Socket at once (like net.connect); 'connect' follows, or
 * 'error' with a ConnectFailedError listing every attempt. Each attempt is also emitted as 'attempt'.
 */
export function connect(options: ConnectOptions, cb?: () => void): Socket {
  const socket = new Socket();
  if (cb) socket.once('connect', cb);
  runStrategy(socket, options).catch((err: Error) => socket.destroy(err));
  return socket;
}

async function runStrategy(socket: Socket, options: ConnectOptions): Promise<void> {
  const { host, port, servers, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, rounds = DEFAULT_ROUNDS, resolver = systemResolver, seed, capture, record: rec, ...config } = options;
  // One capture for all attempts, closed with the socket.
  const cap = capture ? new NodeCapture(capture, 'client') : undefined;
  if (cap) socket.once('close', () => void cap.close().catch((err: Error) => socket.emit('warning', err)));
  const entries = servers ?? (host !== undefined ? [host] : ['127.0.0.1']);
  const attempts: Attempt[] = [];
  const record = (a: Attempt) => {
    attempts.push(a);
    socket.emit('attempt', a);
  };
  for (let round = 1; round <= rounds; round++) {
    const candidates = await resolveAll(entries, port, resolver, round, record);
    while (candidates.length > 0) {
      if (socket.destroyed) return;
      const [c] = candidates.splice(randomInt(candidates.length), 1);
      const started = monotonicMs();
      const result = await tryOne(socket, c!.address, c!.port, connectTimeoutMs, { ...CLIENT_KEEPALIVE, ...config, seed: seed ?? randomInt(2 ** 31), trace: cap?.trace }, cap, attemptRecord(rec, attempts.length + 1));
      record({ round, server: c!.server, address: c!.address, port: c!.port, outcome: result.outcome, error: result.error, atMs: started, durationMs: monotonicMs() - started });
      if (result.outcome === 'connected') return;
    }
  }
  throw new ConnectFailedError(attempts);
}

interface Candidate {
  server: string;
  address: string;
  port: number;
}

async function resolveAll(entries: string[], defaultPort: number, resolver: Resolver, round: number, record: (a: Attempt) => void): Promise<Candidate[]> {
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
        const addresses = await resolver(host);
        if (addresses.length === 0) throw new Error('no addresses');
        for (const a of addresses) add(server, a.address, port);
      } catch (err) {
        record({ round, server, outcome: 'resolve-failed', error: (err as Error).message, atMs: started, durationMs: monotonicMs() - started });
      }
    }),
  );
  return out;
}

interface TryResult {
  outcome: AttemptOutcome;
  error?: string;
}

/** One attempt; on success the socket is attached synchronously, so no event of the connection is missed. */
async function tryOne(socket: Socket, address: string, port: number, timeoutMs: number, endpointOptions: Partial<ConnectionConfig> & { seed: number; trace?: TraceHook }, cap?: NodeCapture, record?: RecordOption): Promise<TryResult> {
  const v6 = address.includes(':');
  const driver = newDriver(endpointOptions, record, 'client');
  driver.tap = cap?.tap;
  try {
    await driver.bind({ type: v6 ? 'udp6' : 'udp4', address: v6 ? '::' : '0.0.0.0', port: 0 });
    await driver.connectSocket({ address, port });
  } catch (err) {
    await driver.close();
    return { outcome: 'error', error: (err as Error).message };
  }
  return new Promise<TryResult>((resolve) => {
    let settled = false;
    const finish = (r: TryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      driver.off('event', onEvent);
      driver.off('error', onError);
      resolve(r);
    };
    const fail = (r: TryResult) => {
      finish(r);
      void driver.close();
    };
    const onEvent = (ev: EndpointEvent) => {
      if (ev.type === 'connected') {
        finish({ outcome: 'connected' });
        if (socket.destroyed) {
          driver.act(() => ev.connection.abort());
          void driver.close();
          return;
        }
        socket.attach(driver, ev.connection);
        driver.on('event', (later) => {
          socket.handleEvent(later);
          // TIME-WAIT lingers briefly to answer a retransmitted FIN, without holding the process open.
          if (later.type === 'closed') driver.closeWhenIdle(CLIENT_TIME_WAIT_LINGER_MS);
        });
        driver.on('error', (err) => socket.emit('warning', err));
        socket.handleEvent(ev);
      } else if (ev.type === 'closed') {
        const code = ev.error?.code;
        fail({ outcome: code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' ? 'reset' : code === 'ETIMEDOUT' ? 'timeout' : 'error', error: ev.error?.message });
      }
    };
    // The socket is connected to the peer, so an ICMP port unreachable comes back as ECONNREFUSED: a dead
    // address fails at once instead of after connectTimeoutMs.
    const onError = (err: NodeJS.ErrnoException) => fail({ outcome: err.code === 'ECONNREFUSED' ? 'refused' : 'error', error: err.message });
    driver.on('event', onEvent);
    driver.on('error', onError);
    const timer = setTimeout(() => {
      // Settle first: the abort's own 'closed' event must not count as the outcome.
      finish({ outcome: 'timeout', error: `no answer within ${timeoutMs} ms` });
      driver.act(() => {
        for (const c of driver.endpoint.connections()) c.abort();
      });
      void driver.close();
    }, timeoutMs);
    try {
      driver.act((now) => driver.endpoint.connect(now, { address, port }));
    } catch (err) {
      fail({ outcome: 'error', error: (err as Error).message });
    }
  });
}

// Binds one Endpoint to node:dgram sockets: one socket per address family (or one dual-stack), datagrams to and
// from them, a client's socket connected to its one peer, socket errors surfaced as events (never a crash). What
// happens between the sockets and the endpoint (clock, flushes, the timer) is the shared loop, src/driver/loop.ts.
// The caller builds the endpoint (a RecordingEndpoint when recording: src/node/recording.ts) and may pass a hook
// the driver calls once it has stopped feeding it.
import { createSocket, type Socket as UdpSocket, type SocketType } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Endpoint, type EndpointEvent, type EndpointOptions, type Remote } from '../core/index.js';
import { monotonicMs } from '../driver/clock.js';
import { DriverLoop } from '../driver/loop.js';

/** PERF-NOTES: 4 MiB socket buffers keep up with a fast sender (the kernel caps them at rmem_max/wmem_max). */
const SOCKET_BUFFER_BYTES = 4 << 20;

export interface DriverSocketOptions {
  type: SocketType;
  /** For 'udp6': false makes one socket serve IPv4 too (IPv4-mapped addresses), where the OS allows it. */
  ipv6Only?: boolean;
  address?: string;
  port?: number;
}

/**
 * Sees every datagram the driver receives ('in') or hands to a socket ('out'), with the socket's bound address as
 * `local` (for captures: src/capture/node.ts). Called synchronously; must not throw.
 */
export type DriverTap = (direction: 'in' | 'out', local: Remote, remote: Remote, bytes: Uint8Array) => void;

export interface DriverEvents {
  event: [EndpointEvent];
  error: [Error];
  listening: [];
  close: [];
}

export interface DriverOptions {
  /** Called once when close() has stopped feeding the endpoint (e.g. to end a recording's log), before the sockets close. */
  onClose?: () => void;
}

/**
 * An Endpoint on one or more UDP sockets (one per address family). Events from the core are re-emitted as
 * 'event'; socket errors as 'error' with the address involved, after which the driver keeps running.
 */
export class Driver extends EventEmitter<DriverEvents> {
  readonly endpoint: Endpoint;
  private readonly loop: DriverLoop;
  private readonly onClose: (() => void) | undefined;
  private readonly sockets: UdpSocket[] = [];
  private readonly socketTypes: SocketType[] = [];
  private closing: Promise<void> | undefined;
  /** Counted, never thrown: send errors and datagrams that could not leave. */
  readonly counters = { sendErrors: 0, socketErrors: 0, datagramsIn: 0, datagramsOut: 0 };
  /** Optional observer of every datagram in and out (captures). */
  tap: DriverTap | undefined;

  /** The endpoint to drive (built by the caller: an Endpoint, a RecordingEndpoint), or the options of a new one. */
  constructor(endpoint: Endpoint | EndpointOptions, opts: DriverOptions = {}) {
    super();
    this.endpoint = endpoint instanceof Endpoint ? endpoint : new Endpoint(endpoint);
    this.onClose = opts.onClose;
    this.loop = new DriverLoop(this.endpoint, {
      send: (remote, bytes, sent) => this.send(remote, bytes, sent),
      event: (ev) => this.emit('event', ev),
    });
  }

  /** Open and bind a socket; resolves with its bound address. */
  async bind(opts: DriverSocketOptions): Promise<Remote> {
    const socket = createSocket({
      type: opts.type,
      ipv6Only: opts.ipv6Only,
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
      lookup: literalLookup,
    });
    socket.on('message', (msg, rinfo) => {
      if (this.tap !== undefined && !this.loop.closed) this.tapDatagram('in', socket, { address: unmapIpv4(rinfo.address), port: rinfo.port }, msg);
      this.onMessage(msg, rinfo.address, rinfo.port);
    });
    // A failed bind is the caller's one error (the promise), not also a socket error of a running driver.
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', fail);
      socket.bind({ port: opts.port ?? 0, address: opts.address }, () => {
        socket.off('error', fail);
        resolve();
      });
    });
    socket.on('error', (err) => this.onSocketError(err));
    this.sockets.push(socket);
    this.socketTypes.push(opts.type);
    const a = socket.address();
    return { address: a.address, port: a.port };
  }

  /** Bound addresses of every socket. */
  addresses(): Remote[] {
    return this.sockets.map((s) => {
      const a = s.address();
      return { address: a.address, port: a.port };
    });
  }

  /** Run `fn` against the endpoint at the current time, then move everything it produced. */
  act<T>(fn: (nowMs: number) => T): T {
    return this.loop.act(fn);
  }

  /** Hand events to the application, then drain sends (see DriverLoop.flush); nested calls fold in. */
  flush(): void {
    this.loop.flush();
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (this.loop.closed) return;
    this.counters.datagramsIn++;
    this.loop.datagram({ address: unmapIpv4(address), port }, msg);
  }

  private onSocketError(err: Error): void {
    this.counters.socketErrors++;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * Node reports a send's failure only to a send given a callback, and a callback costs a tick per datagram
   * (about 0.6 µs of ~7). So only the last datagram of each flush carries one (the loop gives it `sent`): a
   * lasting failure (unreachable network, refused port) still surfaces on every flush. A lone failure of an
   * earlier datagram is a loss like any other.
   */
  private send(remote: Remote, bytes: Uint8Array, sent: (() => void) | undefined): void {
    const v6 = remote.address.includes(':');
    let i = this.socketTypes.indexOf(v6 ? 'udp6' : 'udp4');
    let address = remote.address;
    if (i < 0 && !v6) {
      // A dual-stack udp6 socket reaches IPv4 peers through IPv4-mapped addresses.
      i = this.socketTypes.indexOf('udp6');
      address = `::ffff:${address}`;
    }
    const socket = this.sockets[i];
    if (socket === undefined) {
      this.counters.sendErrors++;
      sent?.();
      return;
    }
    this.counters.datagramsOut++;
    if (this.tap !== undefined) this.tapDatagram('out', socket, remote, bytes);
    const done =
      sent === undefined
        ? undefined
        : (err: Error | null) => {
            sent();
            if (err) {
              this.counters.sendErrors++;
              this.onSocketError(err);
            }
          };
    // A socket connected to this very peer sends without an address (cheaper: no lookup step per datagram).
    if (this.connectedTo !== undefined && this.connectedTo.port === remote.port && this.connectedTo.address === remote.address && socket === this.sockets[0]) socket.send(bytes, done);
    else socket.send(bytes, remote.port, address, done);
  }

  private connectedTo: Remote | undefined;

  /**
   * A client talks to one peer only: connect its (only) socket to it, so sends carry no address and datagrams
   * from anyone else are filtered by the kernel. Call after bind().
   */
  async connectSocket(remote: Remote): Promise<void> {
    const socket = this.sockets[0];
    if (socket === undefined || this.sockets.length !== 1) return;
    await new Promise<void>((resolve, reject) => {
      socket.connect(remote.port, remote.address, (err?: Error) => (err ? reject(err) : resolve()));
    });
    this.connectedTo = { address: remote.address, port: remote.port };
  }

  private tapDatagram(direction: 'in' | 'out', socket: UdpSocket, remote: Remote, bytes: Uint8Array): void {
    try {
      const a = socket.address();
      this.tap!(direction, { address: unmapIpv4(a.address), port: a.port }, remote, bytes);
    } catch {
      // An observer never breaks the connection.
    }
  }

  /** Close the sockets after the sends already queued have left (connections are not told). Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    // Set before the work starts: the loop's last flush hands events to handlers that may call close() again.
    let done!: () => void;
    this.closing = new Promise<void>((resolve) => (done = resolve));
    void this.closeNow().then(done);
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    await this.loop.close();
    try {
      this.onClose?.();
    } finally {
      await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      this.emit('close');
    }
  }

  private lingerTimer: NodeJS.Timeout | undefined;

  /**
   * Close once the endpoint holds no connection (TIME-WAIT answered retransmitted FINs), or after maxLingerMs.
   * Meanwhile the driver does not keep the process alive.
   */
  closeWhenIdle(maxLingerMs: number): void {
    if (this.loop.closed || this.closing !== undefined || this.lingerTimer !== undefined) return;
    this.unref();
    const started = monotonicMs();
    const check = () => {
      if (this.loop.closed || this.closing !== undefined) return;
      if (this.endpoint.stats().connections === 0 || monotonicMs() - started >= maxLingerMs) {
        void this.close();
        return;
      }
      this.lingerTimer = setTimeout(check, 100);
      this.lingerTimer.unref();
    };
    check();
  }

  /** Keep the process alive while the driver has sockets (the default); unref() lets it exit. */
  ref(): void {
    for (const s of this.sockets) s.ref();
  }

  unref(): void {
    for (const s of this.sockets) s.unref();
  }
}

/**
 * dgram resolves the address of every send, and dns.lookup answers even an IP literal a tick later. The driver
 * sends to literals only (peers' addresses as received, or resolved by the connection strategy): answer those at
 * once, and leave names to dns.lookup.
 */
function literalLookup(hostname: string, options: LookupOneOptions | number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

/** A dual-stack IPv6 socket reports IPv4 peers as ::ffff:a.b.c.d; logs and events carry plain IPv4. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

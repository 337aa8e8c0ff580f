// A stevens connection as a node:net-like stream.Duplex: write/pipe with backpressure, end() is a half-close
// (FIN), destroy() closes as closing a node:net socket's descriptor does (FIN, or RST when received data was
// left unread) and resetAndDestroy() aborts (RST), plus unreliable datagrams and stats(). Every member node:net's
// Socket has is here or listed, with how it differs, in README "node:net parity".
import { Duplex } from 'node:stream';
import type { Connection, ConnectionStats, EndpointEvent } from '../core/index.js';
import type { Driver } from './driver.js';
import { netError, type NetError } from './errors.js';
import { normalizeConnectArgs, startConnecting, type ConnectOptions } from './connect.js';
import { keepaliveIdleMs, warnKeepaliveLate } from './keepalive.js';

/** How much one read() takes from the core before pushing. */
const READ_CHUNK_BYTES = 64 * 1024;

export interface SocketOptions {
  /** false (the default, as node:net): when the peer ends, this side ends too. true: end() only when told. */
  allowHalfOpen?: boolean;
}

/** Something that keeps the process alive until unref()'d (a driver's sockets, a timer). */
export interface Refable {
  ref(): unknown;
  unref(): unknown;
}

/** Keepalive as setKeepAlive() set it before the connection existed: the idle time in ms, 0 for off. */
export type KeepaliveRequest = number | undefined;

export class Socket extends Duplex {
  private conn: Connection | undefined;
  private driver: Driver | undefined;
  private pendingWrite: { chunk: Uint8Array; offset: number; cb: (err?: Error | null) => void } | undefined;
  private pendingFinal: ((err?: Error | null) => void) | undefined;
  private wantRead = false;
  private peerEnded = false;
  private pushedEnd = false;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readBytes = 0;
  private dispatchedBytes = 0;
  private resetOnDestroy = false;
  /** The error a driver-level verdict (ICMP unreachable) ends the connection with, once the abort is done. */
  private failure: NetError | undefined;
  private refed = true;
  private readonly refables = new Set<Refable>();
  /** Stops a connection strategy still running (set by it). */
  private cancelConnect: (() => void) | undefined;
  /** Called once the stream is destroyed while the connection may still be closing (a client's driver lingers). */
  private onDestroyed: (() => void) | undefined;
  /** setKeepAlive() before there is a connection: applied when the connection is made. */
  keepaliveRequest: KeepaliveRequest;
  /** True while connect() runs (node:net's socket.connecting). */
  connecting = false;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: 'IPv4' | 'IPv6' | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  localFamily: 'IPv4' | 'IPv6' | undefined;

  constructor(options: SocketOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, decodeStrings: true });
  }

  /**
   * connect(port, host?, cb?), connect({ port, host, servers, ... }, cb?): run the connection strategy on this
   * socket (see connect()). 'connect' and 'ready' follow, or 'error'.
   */
  connect(options: ConnectOptions, cb?: () => void): this;
  connect(port: number, host?: string, cb?: () => void): this;
  connect(port: number, cb?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, cb] = normalizeConnectArgs(args);
    if (this.connecting) throw Object.assign(new Error('Socket is already connecting'), { code: 'ERR_SOCKET_CONNECTING' });
    if (this.conn !== undefined || this.destroyed) throw Object.assign(new Error('Socket was connected or destroyed already; make a new one'), { code: 'ERR_SOCKET_CLOSED' });
    if (cb) this.once('connect', cb);
    this.connecting = true;
    startConnecting(this, options);
    return this;
  }

  /** Bind this stream to a core connection on a driver (done by the server or the connection strategy). */
  attach(driver: Driver, conn: Connection, onDestroyed?: () => void): void {
    this.driver = driver;
    this.conn = conn;
    this.onDestroyed = onDestroyed;
    this.cancelConnect = undefined;
    this.remoteAddress = conn.remote.address;
    this.remotePort = conn.remote.port;
    this.remoteFamily = conn.remote.address.includes(':') ? 'IPv6' : 'IPv4';
    const addresses = driver.addresses();
    const local = addresses.find((a) => a.address.includes(':') === (this.remoteFamily === 'IPv6')) ?? addresses[0];
    this.localAddress = local?.address;
    this.localPort = local?.port;
    this.localFamily = local === undefined ? undefined : local.address.includes(':') ? 'IPv6' : 'IPv4';
    this.trackRefable(driver);
  }

  /** The connection strategy's hook to stop it when the socket is destroyed first. */
  setConnectCanceller(cancel: (() => void) | undefined): void {
    this.cancelConnect = cancel;
  }

  /** Something that should follow ref()/unref() (the drivers and timers of connection attempts). */
  trackRefable(r: Refable): void {
    this.refables.add(r);
    if (!this.refed) r.unref();
  }

  untrackRefable(r: Refable): void {
    this.refables.delete(r);
  }

  /** The core said something about this connection. */
  handleEvent(ev: EndpointEvent): void {
    switch (ev.type) {
      case 'accepted':
      case 'connected':
        this.connecting = false;
        this.touch();
        this.checkKeepaliveRequest();
        if (ev.type === 'connected') {
          this.emit('connect');
          this.emit('ready');
        }
        this.continueWrite();
        if (this.pendingFinal !== undefined) this.finishNow();
        break;
      case 'readable':
        this.touch();
        this.pull();
        break;
      case 'writable':
        this.continueWrite();
        break;
      case 'end':
        this.peerEnded = true;
        this.pull();
        break;
      case 'datagram':
        this.touch();
        if (!this.destroyed) this.emit('datagram', Buffer.from(ev.bytes.buffer, ev.bytes.byteOffset, ev.bytes.length));
        break;
      case 'closed':
        this.clearIdle();
        if (this.destroyed) break;
        if (ev.error || this.failure) {
          this.destroy(this.failure ?? netError(ev.error!.code, 'read', { address: this.remoteAddress, port: this.remotePort }, ev.error!.message));
        } else {
          // Closed cleanly: anything still readable was pushed; the stream ends on both sides.
          this.pull();
          if (!this.pushedEnd) {
            this.pushedEnd = true;
            this.push(null);
          }
          this.pendingFinal?.();
          this.pendingFinal = undefined;
          // Data the application has not read yet stays readable: the stream closes once it has been read.
          if (this.readableLength === 0) this.destroy();
          else this.once('end', () => this.destroy());
        }
        break;
    }
  }

  /**
   * End the connection with `err` (a verdict of the driver's, e.g. repeated ICMP port unreachable): abort it
   * (RST), then destroy the stream with that error.
   */
  failWith(err: NetError): void {
    const conn = this.conn;
    if (this.destroyed || conn === undefined || this.driver === undefined) return;
    this.failure = err;
    this.driver.act(() => conn.abort());
    // abort() of a connection already closed emits nothing: finish here.
    if (!this.destroyed) this.destroy(err);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pendingWrite = { chunk, offset: 0, cb };
    this.continueWrite();
  }

  private continueWrite(): void {
    const w = this.pendingWrite;
    if (w === undefined || this.conn === undefined || this.driver === undefined) return;
    const conn = this.conn;
    try {
      const n = this.driver.act(() => conn.write(w.offset === 0 ? w.chunk : w.chunk.subarray(w.offset)));
      w.offset += n;
      this.dispatchedBytes += n;
    } catch (err) {
      this.pendingWrite = undefined;
      w.cb(err as Error);
      return;
    }
    if (w.offset >= w.chunk.length) {
      this.pendingWrite = undefined;
      this.touch();
      w.cb();
    }
    // Otherwise the send buffer is full: the core's 'writable' event continues.
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.pendingFinal = cb;
    // Before the connection exists (end() while connecting), the FIN waits for it.
    if (this.conn !== undefined) this.finishNow();
  }

  private finishNow(): void {
    const conn = this.conn!;
    const cb = this.pendingFinal!;
    this.pendingFinal = undefined;
    this.driver!.act(() => conn.shutdown());
    cb();
  }

  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** Move readable bytes from the core into the stream while the stream wants them. */
  private pull(): void {
    const conn = this.conn;
    if (conn === undefined || this.driver === undefined || this.destroyed) return;
    let took = false;
    while (this.wantRead && conn.readableBytes > 0) {
      const bytes = conn.read(READ_CHUNK_BYTES);
      took = true;
      this.readBytes += bytes.length;
      this.wantRead = this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    }
    // Reading may open the receive window: let the driver send the update.
    if (took) this.driver.flush();
    if (this.peerEnded && conn.readableBytes === 0 && !this.pushedEnd) {
      this.pushedEnd = true;
      this.push(null);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearIdle();
    this.cancelConnect?.();
    this.cancelConnect = undefined;
    this.connecting = false;
    const conn = this.conn;
    const driver = this.driver;
    if (conn !== undefined && driver !== undefined && conn.state !== 'CLOSED' && conn.state !== 'TIME-WAIT') {
      // As closing a node:net socket's descriptor: the FIN follows what was written (the core answers with a RST
      // when received data was never read, RFC 2525 2.17); resetAndDestroy() resets.
      try {
        driver.act(() => (this.resetOnDestroy ? conn.abort() : conn.close()));
      } catch {
        // The driver is closing (its server closed): nothing more can be sent.
      }
    }
    this.pendingWrite?.cb(err ?? new Error('socket destroyed'));
    this.pendingWrite = undefined;
    this.onDestroyed?.();
    this.onDestroyed = undefined;
    cb(err);
  }

  /** Close with a RST (node:net's resetAndDestroy()). */
  resetAndDestroy(): this {
    this.resetOnDestroy = true;
    return this.destroy();
  }

  /** End, then destroy once the end has been written (node:net's destroySoon()). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Nagle's algorithm off (true, the default here as in node:net) or on. */
  setNoDelay(noDelay = true): this {
    const conn = this.conn;
    if (conn !== undefined && this.driver !== undefined) this.driver.act(() => conn.setNoDelay(noDelay));
    return this;
  }

  /**
   * Keepalive probes after `initialDelayMs` of silence (0 keeps the default, 10 s for clients). Taken into the
   * connection when it is made: before 'connect' on a client. The core cannot change a running connection's
   * keepalive yet, so a call after that emits a process warning and changes nothing (README "node:net parity").
   */
  setKeepAlive(enable = false, initialDelayMs = 0): this {
    const idleMs = keepaliveIdleMs(enable, initialDelayMs);
    if (this.conn === undefined) {
      this.keepaliveRequest = idleMs;
      return this;
    }
    if (this.conn.config.keepaliveIdleMs !== idleMs) warnKeepaliveLate();
    return this;
  }

  /** A request made while connecting went into the attempt's options (connect.ts), unless it came too late. */
  private checkKeepaliveRequest(): void {
    const want = this.keepaliveRequest;
    this.keepaliveRequest = undefined;
    if (want !== undefined && this.conn !== undefined && this.conn.config.keepaliveIdleMs !== want) warnKeepaliveLate();
  }

  /** Emit 'timeout' after `ms` without activity (0 disables), as node:net does; the socket stays open. */
  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) {
      if (ms === 0) this.off('timeout', cb);
      else this.once('timeout', cb);
    }
    this.touch();
    return this;
  }

  /** The idle timeout set by setTimeout() (undefined when none), as node:net's socket.timeout. */
  get timeout(): number | undefined {
    return this.idleMs > 0 ? this.idleMs : undefined;
  }

  private touch(): void {
    this.clearIdle();
    if (this.idleMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      // As node:net's: the idle timer alone never keeps the process alive.
      this.idleTimer.unref();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** The local address, family and port (node:net's socket.address()); {} before there is a connection. */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined || this.localPort === undefined) return {};
    return { address: this.localAddress, family: this.localFamily!, port: this.localPort };
  }

  /** Bytes received and handed to the stream. */
  get bytesRead(): number {
    return this.readBytes;
  }

  /** Bytes given to write(): those the connection took and those still waiting in the stream (as node:net). */
  get bytesWritten(): number {
    return this.dispatchedBytes + this.writableLength - (this.pendingWrite?.offset ?? 0);
  }

  /** 'opening' while connecting, then 'open', 'readOnly', 'writeOnly' or 'closed' (as node:net). */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** True until connected (and after a failed connect), as node:net's socket.pending. */
  get pending(): boolean {
    return this.conn === undefined || this.connecting;
  }

  /** Let the process exit while this socket is open (node:net's unref()); ref() undoes it. */
  unref(): this {
    this.refed = false;
    for (const r of this.refables) r.unref();
    return this;
  }

  ref(): this {
    this.refed = true;
    for (const r of this.refables) r.ref();
    return this;
  }

  /** Send an unreliable datagram on this connection; false when it could not be queued. */
  sendDatagram(data: Uint8Array): boolean {
    const conn = this.conn;
    if (conn === undefined || this.driver === undefined || this.destroyed) return false;
    return this.driver.act(() => conn.sendDatagram(data));
  }

  /** The largest payload sendDatagram accepts. */
  get maxDatagramBytes(): number {
    return this.conn?.maxDatagramPayloadBytes ?? 0;
  }

  stats(): ConnectionStats | undefined {
    return this.conn?.stats();
  }

  /** The core connection (for tools and tests). */
  get connection(): Connection | undefined {
    return this.conn;
  }
}

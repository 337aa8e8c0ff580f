// A stevens connection as a node:net-like stream.Duplex: write/pipe with backpressure, end() is a half-close
// (FIN), destroy() aborts (RST), plus unreliable datagrams and stats().
import { Duplex } from 'node:stream';
import type { Connection, ConnectionStats, EndpointEvent } from '../core/index.js';
import type { Driver } from './driver.js';

/** How much one read() takes from the core before pushing. */
const READ_CHUNK_BYTES = 64 * 1024;

export interface SocketEvents {
  connect: [];
  datagram: [Buffer];
  timeout: [];
}

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
  connecting = true;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: 'IPv4' | 'IPv6' | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;

  constructor() {
    super({ allowHalfOpen: true, decodeStrings: true });
  }

  /** Bind this stream to a core connection on a driver (done by the server or the connection strategy). */
  attach(driver: Driver, conn: Connection): void {
    this.driver = driver;
    this.conn = conn;
    this.remoteAddress = conn.remote.address;
    this.remotePort = conn.remote.port;
    this.remoteFamily = conn.remote.address.includes(':') ? 'IPv6' : 'IPv4';
    const local = driver.addresses().find((a) => a.address.includes(':') === (this.remoteFamily === 'IPv6')) ?? driver.addresses()[0];
    this.localAddress = local?.address;
    this.localPort = local?.port;
  }

  /** The core said something about this connection. */
  handleEvent(ev: EndpointEvent): void {
    switch (ev.type) {
      case 'accepted':
      case 'connected':
        this.connecting = false;
        this.touch();
        if (ev.type === 'connected') this.emit('connect');
        this.continueWrite();
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
        this.emit('datagram', Buffer.from(ev.bytes.buffer, ev.bytes.byteOffset, ev.bytes.length));
        break;
      case 'closed':
        this.clearIdle();
        if (ev.error) {
          const err = Object.assign(new Error(ev.error.message), { code: ev.error.code });
          this.destroy(err);
        } else {
          // Closed cleanly: anything still readable was pushed; the stream ends on both sides.
          this.pull();
          if (!this.pushedEnd) {
            this.pushedEnd = true;
            this.push(null);
          }
          this.pendingFinal?.();
          this.pendingFinal = undefined;
          if (!this.destroyed) this.destroy();
        }
        break;
    }
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
    const conn = this.conn;
    if (conn === undefined || this.driver === undefined) {
      cb();
      return;
    }
    this.driver.act(() => conn.shutdown());
    cb();
  }

  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** Move readable bytes from the core into the stream while the stream wants them. */
  private pull(): void {
    const conn = this.conn;
    if (conn === undefined || this.driver === undefined) return;
    let took = false;
    while (this.wantRead && conn.readableBytes > 0) {
      const bytes = conn.read(READ_CHUNK_BYTES);
      took = true;
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
    const conn = this.conn;
    if (conn !== undefined && this.driver !== undefined && conn.state !== 'CLOSED' && conn.state !== 'TIME-WAIT') {
      // Both directions ended (the stream's own auto-destroy): let the FIN exchange finish. Otherwise, as
      // node:net's destroy(), abort with a RST.
      const graceful = err === null && this.writableFinished && this.readableEnded;
      this.driver.act(() => (graceful ? conn.close() : conn.abort()));
    }
    this.pendingWrite?.cb(err ?? new Error('socket destroyed'));
    this.pendingWrite = undefined;
    cb(err);
  }

  /** Nagle's algorithm off (true, the default here as in node:net) or on. */
  setNoDelay(noDelay = true): this {
    const conn = this.conn;
    if (conn !== undefined && this.driver !== undefined) this.driver.act(() => conn.setNoDelay(noDelay));
    return this;
  }

  /** Emit 'timeout' after `ms` without activity (0 disables), as node:net does; the socket stays open. */
  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) this.once('timeout', cb);
    this.touch();
    return this;
  }

  private touch(): void {
    this.clearIdle();
    if (this.idleMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Send an unreliable datagram on this connection; false when it could not be queued. */
  sendDatagram(data: Uint8Array): boolean {
    const conn = this.conn;
    if (conn === undefined || this.driver === undefined) return false;
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

// A small callback API over the core's connections on a TUN driver: queued writes with backpressure, reads that
// can be paused, half-close after the queue drains, abort. One ConnectionRouter per driver routes its events.
import type { Connection, ConnectionError, EndpointEvent } from '../core/index.js';
import { KERNEL_UDP_PORT, type TunDriver } from './driver.js';

const READ_CHUNK_BYTES = 64 * 1024;

export interface PipeHandlers {
  connect?(): void;
  data?(chunk: Uint8Array): void;
  /** The peer's FIN arrived (after the data before it was delivered). */
  end?(): void;
  /** The write queue emptied into the send buffer. */
  drain?(): void;
  close?(error: ConnectionError | undefined): void;
}

export class Pipe {
  readonly conn: Connection;
  handlers: PipeHandlers = {};
  private readonly driver: TunDriver;
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private queued = 0;
  private paused = false;
  private endRequested = false;
  private peerEnded = false;
  private endDelivered = false;
  closed = false;
  error: ConnectionError | undefined;

  constructor(driver: TunDriver, conn: Connection) {
    this.driver = driver;
    this.conn = conn;
  }

  /** Bytes written but not yet taken into the connection's send buffer. */
  get queuedBytes(): number {
    return this.queued;
  }

  write(bytes: Uint8Array): void {
    if (this.closed || this.endRequested) return;
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.pushQueue();
    this.driver.requestFlush();
  }

  /** Half-close once everything written has been taken. */
  end(): void {
    if (this.endRequested) return;
    this.endRequested = true;
    this.pushQueue();
    this.driver.requestFlush();
  }

  abort(): void {
    if (this.closed) return;
    this.conn.abort();
    this.driver.requestFlush();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pull();
    this.driver.requestFlush();
  }

  handleEvent(ev: EndpointEvent): void {
    switch (ev.type) {
      case 'connected':
        this.handlers.connect?.();
        this.pushQueue();
        break;
      case 'accepted':
        this.pushQueue();
        break;
      case 'readable':
        this.pull();
        break;
      case 'writable':
        this.pushQueue();
        break;
      case 'end':
        this.peerEnded = true;
        this.pull();
        break;
      case 'closed':
        this.pull();
        this.closed = true;
        this.error = ev.error;
        this.handlers.close?.(ev.error);
        break;
      case 'datagram':
        break;
    }
    this.driver.requestFlush();
  }

  private pull(): void {
    while (!this.paused && !this.closed) {
      const chunk = this.conn.read(READ_CHUNK_BYTES);
      if (chunk.length === 0) break;
      this.handlers.data?.(chunk);
    }
    if (this.peerEnded && !this.endDelivered && !this.paused && this.conn.readableBytes === 0) {
      this.endDelivered = true;
      this.handlers.end?.();
    }
  }

  private pushQueue(): void {
    const state = this.conn.state;
    if (this.closed || state === 'CLOSED' || state === 'SYN-SENT' || state === 'SYN-RECEIVED') return;
    const hadQueue = this.queued > 0;
    while (this.queueHead < this.queue.length) {
      const chunk = this.queue[this.queueHead]!;
      let n: number;
      try {
        n = this.conn.write(chunk);
      } catch {
        // Written after the connection was shut down or failed: the close event tells the application.
        this.queue.length = 0;
        this.queueHead = 0;
        this.queued = 0;
        return;
      }
      this.queued -= n;
      if (n < chunk.length) {
        this.queue[this.queueHead] = chunk.subarray(n);
        return;
      }
      this.queueHead++;
    }
    this.queue.length = 0;
    this.queueHead = 0;
    if (this.endRequested) this.conn.shutdown();
    if (hadQueue) this.handlers.drain?.();
  }
}

/** Routes a driver's events to the Pipe of each connection; new passive connections go to onAccept. */
export class ConnectionRouter {
  private readonly pipes = new Map<Connection, Pipe>();
  private readonly driver: TunDriver;
  onAccept: ((pipe: Pipe) => void) | undefined;

  constructor(driver: TunDriver) {
    this.driver = driver;
    driver.on('event', (ev) => this.route(ev));
  }

  /** Open a connection to the kernel at `address`, TCP port `port`. */
  connect(address: string, port: number): Pipe {
    const conn = this.driver.act((now) => this.driver.endpoint.connect(now, { address, port: KERNEL_UDP_PORT }, { port }));
    const pipe = new Pipe(this.driver, conn);
    this.pipes.set(conn, pipe);
    return pipe;
  }

  get size(): number {
    return this.pipes.size;
  }

  /** Abort every open connection (RST to the kernel), e.g. before the device goes away. */
  abortAll(): void {
    for (const pipe of [...this.pipes.values()]) pipe.abort();
  }

  private route(ev: EndpointEvent): void {
    let pipe = this.pipes.get(ev.connection);
    if (pipe === undefined) {
      if (ev.type !== 'accepted') return;
      pipe = new Pipe(this.driver, ev.connection);
      this.pipes.set(ev.connection, pipe);
      this.onAccept?.(pipe);
    }
    pipe.handleEvent(ev);
    if (ev.type === 'closed') this.pipes.delete(ev.connection);
  }
}

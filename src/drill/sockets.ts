// The script's file descriptors and what they stand for: a fresh socket (options collected for later), the
// endpoint's listener, or a Connection. Endpoint events are pumped in here, in order, into per-connection
// state (pending error, accept queue, which directions the application shut) that read/write/accept/poll/
// getsockopt then report the way Linux would.

import type { Connection, Endpoint } from '../core/index.js';

/** What setsockopt() left on a socket; an accepted connection inherits its listener's, as in Linux. */
export interface SocketOptions {
  /** Configuration for the connection listen()/connect() makes (SO_SNDBUF, TCP_USER_TIMEOUT, ...). */
  overrides: Record<string, unknown>;
  /** SO_LINGER. */
  linger?: { onoff: boolean; seconds: number };
  /** TCP_MAXSEG as set (getsockopt reports it until there is a connection). */
  userMss?: number;
  /** SO_KEEPALIVE as set, and TCP_KEEPIDLE (which alone does not turn keepalive on). */
  keepalive?: boolean;
  keepIdleMs?: number;
}

export function copyOptions(o: SocketOptions): SocketOptions {
  return { ...o, overrides: { ...o.overrides }, linger: o.linger && { ...o.linger } };
}

export interface ConnRecord {
  conn: Connection;
  /** Error from the 'closed' event not yet reported by read/write/SO_ERROR (Linux's sk_err). */
  pendingError: string | undefined;
  /** An error was reported once; later writes get EPIPE like Linux. */
  errorReported: boolean;
  closed: boolean;
  connected: boolean;
  /** shutdown(SHUT_RD or SHUT_RDWR): read() answers 0 once the queue is empty (Linux's RCV_SHUTDOWN). */
  readShutdown: boolean;
  /** shutdown(SHUT_WR or SHUT_RDWR) or close(): Linux's SEND_SHUTDOWN. */
  writeShutdown: boolean;
  opts: SocketOptions;
}

export type Socket =
  | { kind: 'fresh'; fd: number; opts: SocketOptions }
  | { kind: 'listener'; fd: number; opts: SocketOptions }
  | { kind: 'conn'; fd: number; rec: ConnRecord };

export class SocketTable {
  private readonly fds = new Map<number, Socket>();
  private readonly records = new Map<Connection, ConnRecord>();
  /** Connections the endpoint accepted that accept() has not returned yet, in order. */
  readonly acceptQueue: ConnRecord[] = [];
  /** The connection %{ assert }% blocks look at: the last one accepted, connected or used. */
  current: ConnRecord | undefined;
  listening = false;

  record(conn: Connection): ConnRecord {
    let rec = this.records.get(conn);
    if (!rec) {
      rec = { conn, pendingError: undefined, errorReported: false, closed: false, connected: false, readShutdown: false, writeShutdown: false, opts: { overrides: {} } };
      this.records.set(conn, rec);
    }
    return rec;
  }

  /** Takes every pending endpoint event, in order. */
  absorbEvents(ep: Endpoint): void {
    for (;;) {
      const ev = ep.pollEvent();
      if (!ev) return;
      const rec = this.record(ev.connection);
      switch (ev.type) {
        case 'accepted':
          rec.connected = true;
          this.acceptQueue.push(rec);
          break;
        case 'connected':
          rec.connected = true;
          break;
        case 'closed':
          rec.closed = true;
          if (ev.error) rec.pendingError = ev.error.code;
          break;
        default:
          // readable / writable / end / datagram: read() and write() ask the connection directly.
          break;
      }
    }
  }

  get(fd: number): Socket | undefined {
    return this.fds.get(fd);
  }

  set(sock: Socket): void {
    this.fds.set(sock.fd, sock);
    if (sock.kind === 'conn') this.current = sock.rec;
  }

  delete(fd: number): void {
    this.fds.delete(fd);
  }
}

// What the core tells its driver (events, polled) and what it tells a trace hook (trace events, pushed).
import type { Connection } from './connection.js';
import type { DropReason } from './drop-reason.js';
import type { ConnectionError } from './errors.js';
import type { TcpState } from './state.js';

export interface Remote {
  address: string;
  port: number;
}


export type EndpointEvent =
  | { type: 'accepted'; connection: Connection }
  | { type: 'connected'; connection: Connection }
  | { type: 'readable'; connection: Connection }
  | { type: 'writable'; connection: Connection }
  | { type: 'end'; connection: Connection }
  | { type: 'closed'; connection: Connection; error?: ConnectionError }
  | { type: 'datagram'; connection: Connection; bytes: Uint8Array };

export interface Transmit {
  remote: Remote;
  bytes: Uint8Array;
}

/** Typed events for plots and debugging; delivered synchronously to the endpoint's trace hook. */
export type TraceEvent =
  | { type: 'state'; atMs: number; connectionId: number; from: TcpState; to: TcpState }
  | { type: 'send'; atMs: number; connectionId: number; seq: number; ack: number; flags: number; lengthBytes: number; windowBytes: number; retransmit: boolean }
  | { type: 'receive'; atMs: number; connectionId: number; seq: number; ack: number; flags: number; lengthBytes: number; windowBytes: number }
  | { type: 'rto'; atMs: number; connectionId: number; rtoMs: number; backoffs: number }
  | { type: 'retransmit'; atMs: number; connectionId: number; seq: number; lengthBytes: number; reason: 'rto' | 'fast' | 'probe' }
  | { type: 'rtt'; atMs: number; connectionId: number; sampleMs: number; srttMs: number; rttvarMs: number; rtoMs: number }
  | { type: 'window'; atMs: number; connectionId: number; sendWindowBytes: number; receiveWindowBytes: number }
  | { type: 'cwnd'; atMs: number; connectionId: number; cwndBytes: number; ssthreshBytes: number }
  | { type: 'drop'; atMs: number; reason: DropReason; connectionId?: number; remote?: Remote };

export type TraceHook = (event: TraceEvent) => void;

/** The application's calls on a connection, as a CallObserver sees them. */
export type ApplicationCall = 'write' | 'read' | 'shutdown' | 'close' | 'abort' | 'sendDatagram' | 'setNoDelay';

/**
 * Sees every application call on an endpoint's connections (the replay recorder logs them). `run` makes the call
 * and must be called exactly once; what it returns or throws is the call's result. Calls the core makes on its
 * own behalf are not seen.
 */
export interface CallObserver {
  call<T>(connection: Connection, call: ApplicationCall, args: readonly unknown[], run: () => T): T;
}

// What a connection and its endpoint know of each other: the host interface the connection calls, and the slot
// of bookkeeping the endpoint keeps on each connection.
import type { Connection } from './connection.js';
import type { CallObserver, EndpointEvent, Remote, TraceEvent } from './events.js';
import type { HeapItem } from './timer-heap.js';

/** What a connection needs from its endpoint. */
export interface ConnectionHost {
  emit(event: EndpointEvent): void;
  /** Queue a datagram that must leave even if the connection is gone (RST). */
  sendControl(remote: Remote, bytes: Uint8Array): void;
  /** The connection has something to send. */
  wantsTransmit(conn: Connection): void;
  /** The connection's deadlines changed. */
  timersChanged(conn: Connection): void;
  /** The connection reached CLOSED and can be forgotten. */
  closed(conn: Connection): void;
  /** Test-only fault injection: should this retransmission carry a corrupted byte? */
  corruptRetransmission(): boolean;
  readonly trace: ((event: TraceEvent) => void) | undefined;
  /** Sees the application's calls (the recorder), when set. */
  calls: CallObserver | undefined;
  /** The endpoint's global limit on replies to what may be forged (reply-limits.ts). */
  allowReply(kind: 'challenge' | 'invalid-ack', nowMs: number): boolean;
}

/**
 * The endpoint's bookkeeping on one connection: its place in the timer heap and in the transmit and timer
 * queues. It lives on the connection (a field lookup is cheaper than a map), but only endpoint.ts touches it.
 */
export class EndpointSlot implements HeapItem {
  /** The earliest deadline last reported to the heap (its key). */
  heapDeadlineMs = Infinity;
  heapIndex = -1;
  /** In the endpoint's transmit queue. */
  queuedForTransmit = false;
  /** In the endpoint's list of connections whose deadlines changed. */
  queuedForTimers = false;
  /** The connection's id: equal deadlines fire in id order. */
  readonly id: number;

  constructor(readonly connection: Connection) {
    this.id = connection.id;
  }
}

// Every reason the core drops an input for, as one union: the counters in stats(), the 'drop' trace events and
// the endpoint's and connections' drop tables all use these names.
import type { DecodeError } from './wire/segment.js';

/** Dropped by a connection (counted in its stats().drops). */
export type ConnectionDropReason =
  /** RFC 9293 3.10.7.3/3.10.7.4, RFC 5961 5.2: an ACK for data never sent, or older than a window. */
  | 'bad-ack'
  /** RFC 5961: more challenge ACKs were due than the limit allows. */
  | 'challenge-ack-limited'
  /** An unreliable datagram for a connection the application closed. */
  | 'datagram-after-close'
  /** An unreliable datagram before or after the connection was synchronized. */
  | 'datagram-not-connected'
  /** The connection's datagram queue (either way) was full. */
  | 'datagram-queue-full'
  /** A synchronized segment without the ACK bit. */
  | 'no-ack'
  /** SYN-SENT: neither RST nor SYN. */
  | 'no-syn'
  /** RFC 9293 3.10.7.4: not acceptable for the receive window. */
  | 'out-of-window'
  /** RFC 7323 5.3: a timestamp older than TS.Recent. */
  | 'paws'
  /** An RST outside the receive window. */
  | 'rst-out-of-window'
  /** SYN-SENT: an RST without an acceptable ACK. */
  | 'rst-without-ack'
  /** A non-RST segment without the timestamp option after timestamps were negotiated (RFC 7323 3.2). */
  | 'missing-timestamp'
  /** An ACK to an invalid segment was due, but the limit refused it (reply-limits.ts). */
  | 'invalid-ack-limited'
  /** A datagram to a peer not yet validated would have exceeded what it sent us (1x). */
  | 'amplification-limited'
  /** The receive buffer refused data (see ReceiveBuffer). */
  | 'duplicate'
  | 'too-many-ranges';

/** Dropped by the endpoint before any connection saw it (counted in Endpoint.stats().drops). */
export type EndpointDropReason =
  | DecodeError
  /** A SYN to a listener whose half-open table is full. */
  | 'backlog-full'
  /** An unreliable datagram for no connection. */
  | 'datagram-no-connection'
  /** A segment for no connection and no listener (answered with RST). */
  | 'no-connection'
  /** A segment other than a SYN to a listening port (answered with RST). */
  | 'not-syn-to-listener'
  /** An RST for no connection (never answered). */
  | 'rst-no-connection'
  /** An RST to a segment for no connection was due, but the per-peer or global limit refused it. */
  | 'rst-rate-limited'
  /** An ACK for no connection that did not carry a valid SYN cookie. */
  | 'bad-cookie'
  /** A cookie SYN-ACK would have been larger than the SYN (1x). */
  | 'amplification-limited';

export type DropReason = ConnectionDropReason | EndpointDropReason;

/** Counts of drops by reason (only reasons that happened appear). */
export type DropCounts<R extends string = DropReason> = { [K in R]?: number } & Record<string, number>;

// stevens/core: the sans-IO TCP core. Drivers and harnesses use only what is exported here.
export { Endpoint, type EndpointOptions, type ListenOptions, type ConnectOptions, type EndpointStats, type EndpointSnapshot } from './endpoint.js';
export { Connection, type ConnectionStats } from './connection.js';
export type { EndpointEvent, Remote, Transmit, TraceEvent, TraceHook, CallObserver, ApplicationCall } from './events.js';
export { CallError, type CallErrorCode, type ErrorCode, type ConnectionError } from './errors.js';
export type { DropReason, ConnectionDropReason, EndpointDropReason, DropCounts } from './drop-reason.js';
export { SnapshotError } from './snapshot.js';
export type { TcpState } from './state.js';
export { PROFILES, TCP_PROFILE, GAME_PROFILE, type ConnectionConfig, type ProfileName } from './config.js';
export { CONTROLLERS, type CongestionControlName, type ControllerParams } from './congestion/controllers.js';
export type { CongestionController } from './congestion/controller.js';
export * as wire from './wire/index.js';
// The states' one predicate: whether both sides' sequence numbers are known (RFC 9293 3.5), for tools that show
// or check a connection's state.
export { isSynchronized } from './state.js';
// Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4), for tools that read sequence numbers off the wire or
// out of stats (plots, captures): the names already say what they are, so they are exported as they are.
export { seqLt, seqLe, seqGt, seqGe, seqAdd, seqDiff, seqMax, seqMin, seqInRange } from './seq.js';
// The bounds of the `maxDatagramBytes` option and the encapsulation's overhead in every datagram (header + CRC-32),
// for drivers sizing their datagrams and MTUs.
export { ENCAP_OVERHEAD_BYTES, MIN_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES } from './config.js';

// stevens/core: the sans-IO TCP core. Drivers and harnesses use only what is exported here.
export { Endpoint, type EndpointOptions, type ListenOptions, type ConnectOptions, type EndpointStats, type EndpointSnapshot } from './endpoint.js';
export { Connection, type ConnectionStats } from './connection.js';
export type { EndpointEvent, Remote, Transmit, TraceEvent, TraceHook, ErrorCode, ConnectionError, CallObserver, ApplicationCall } from './events.js';
export type { TcpState } from './state.js';
export { PROFILES, TCP_PROFILE, GAME_PROFILE, type ConnectionConfig, type ProfileName } from './config.js';
export * as wire from './wire/index.js';

// The Node driver and its node:net-like API.
export { Driver, unmapIpv4, type DriverSocketOptions, type DriverOptions, type DriverTap } from './driver.js';
export { Socket, type SocketOptions } from './socket.js';
export { Server, createServer, type ServerOptions, type ListenOptions, type DropInfo } from './server.js';
export { connect, createConnection, parseServer, ConnectFailedError, type ConnectOptions, type Attempt, type AttemptOutcome, type AttemptsList, type Resolver, type ResolvedAddress, type LookupFunction } from './connect.js';
export { MessageChannel } from './messages.js';
export { netError, type NetError } from './errors.js';
export { UnreachableRule, UNREACHABLE_REPORTS_TO_ABORT, UNREACHABLE_WINDOW_MS } from './unreachable.js';

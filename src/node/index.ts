// The Node driver and its node:net-like API.
export { Driver, unmapIpv4, type DriverSocketOptions, type DriverOptions } from './driver.js';
export { Socket } from './socket.js';
export { Server, createServer, type ServerOptions, type ListenOptions } from './server.js';
export { connect, parseServer, ConnectFailedError, type ConnectOptions, type Attempt, type AttemptOutcome, type Resolver, type ResolvedAddress } from './connect.js';
export { MessageChannel } from './messages.js';

// stevens: the package entry. The sans-IO core is also available alone as 'stevens/core'.
export * from './core/index.js';
export {
  createServer,
  connect,
  Server,
  Socket,
  MessageChannel,
  ConnectFailedError,
  parseServer,
  Driver,
  type ServerOptions,
  type Attempt,
  type AttemptOutcome,
  type Resolver,
  type ResolvedAddress,
  type ConnectOptions as NodeConnectOptions,
  type ListenOptions as NodeListenOptions,
} from './node/index.js';

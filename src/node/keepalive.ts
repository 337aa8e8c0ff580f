// Keepalive as the node:net face offers it: on by default for clients (servers drop connections silent for their
// idleTimeoutMs, 30 s by default), off for servers unless createServer({ keepAlive }) asks, and node:net's
// setKeepAlive(), which the core can only take before the connection exists.

/** setKeepAlive(true) / keepAlive: true without a delay: the first probe after this much silence. */
export const DEFAULT_KEEPALIVE_IDLE_MS = 10_000;

/** A client's keepalive: a probe after 10 s of silence, then every 2 s; 5 unanswered end the connection. */
export const CLIENT_KEEPALIVE = { keepaliveIdleMs: DEFAULT_KEEPALIVE_IDLE_MS, keepaliveIntervalMs: 2_000, keepaliveProbes: 5 };

/** The keepaliveIdleMs that node:net's (enable, initialDelay) pair asks for. */
export function keepaliveIdleMs(enable: boolean, initialDelayMs: number | undefined): number {
  return enable ? (initialDelayMs !== undefined && initialDelayMs > 0 ? initialDelayMs : DEFAULT_KEEPALIVE_IDLE_MS) : 0;
}

let warned = false;

/** setKeepAlive() on a connection that exists changes nothing: said once per process, not per connection. */
export function warnKeepaliveLate(): void {
  if (warned) return;
  warned = true;
  process.emitWarning("setKeepAlive() after the connection was made changes nothing: pass keepAlive/keepAliveInitialDelay to connect() or createServer(), or call it before 'connect'", { code: 'STEVENS_KEEPALIVE_LATE' });
}

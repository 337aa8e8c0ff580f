// The syscalls a script may make, each mapped onto the stevens API as Linux would answer it: socket life
// (socket-calls.ts), moving bytes (stream-io.ts), options (sockopts.ts) and poll (poll.ts). Linux-only calls
// (epoll, sendfile, splice, ...) fail with their precise "Linux-only" line.

import type { SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import { unsupported } from './features.js';
import { poll } from './poll.js';
import { socketCalls } from './socket-calls.js';
import { sockoptCalls } from './sockopts.js';
import { streamCalls } from './stream-io.js';
import { Errno, type CallMode, type Handler, type SyscallContext, type SyscallOutcome, type Waiter } from './syscall-args.js';

export type { SyscallContext, SyscallOutcome, Waiter, CallMode } from './syscall-args.js';

const handlers: Record<string, Handler> = {
  ...socketCalls,
  ...streamCalls,
  ...sockoptCalls,
  poll,
};
handlers['accept4'] = handlers['accept']!;

/** packetdrill calls with no stevens equivalent. */
const LINUX_ONLY = new Set(['sendfile', 'splice', 'pipe', 'open', 'cap_set', 'psp_rx_assoc', 'psp_tx_assoc']);

/** Runs a call: its outcome now, or a Waiter when it blocks (see CallMode). */
export function runSyscall(call: SyscallEvent, ctx: SyscallContext, line: number, mode: CallMode): SyscallOutcome | Waiter {
  const h = handlers[call.name];
  if (!h) {
    const construct = `${call.name}(...)`;
    if (call.name.startsWith('epoll_')) unsupported('epoll', line, construct);
    if (LINUX_ONLY.has(call.name)) unsupported('linux-syscall', line, construct, `${call.name}()`);
    throw new DrillError(line, `unsupported syscall '${call.name}' (supported: ${Object.keys(handlers).sort().join(', ')})`);
  }
  try {
    return h(call, ctx, line, mode);
  } catch (err) {
    if (err instanceof Errno) return { result: -1, errno: err.errno, note: err.note };
    throw err;
  }
}

export function formatOutcome(o: { result: number; errno?: string }): string {
  return o.errno ? `${o.result} ${o.errno}` : String(o.result);
}

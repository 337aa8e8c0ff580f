// What every syscall handler shares: the context it runs in, what it returns (now, or a wait for a blocking
// call), reading its arguments, and the errno a call fails with.

import type { StructField, SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import type { ConnRecord, Socket, SocketTable } from './sockets.js';
import type { SysctlSettings } from './sysctl.js';
import type { Endpoint, Remote } from '../core/index.js';

export interface SyscallContext {
  readonly ep: Endpoint;
  readonly nowMs: number;
  readonly sockets: SocketTable;
  /** The script peer (UDP address). */
  readonly remote: Remote;
  /** The TCP port listen() accepts on, and the one connect() connects to. */
  readonly listenPort: number;
  readonly connectPort: number;
  /** Settings made by sysctl commands so far (for sockets that listen or connect now). */
  readonly sysctl: SysctlSettings;
  /** The endpoint's own configuration overrides (directives), and its largest datagram. */
  readonly endpointConfig: Record<string, unknown>;
  readonly endpointMaxDatagramBytes: number;
  /** listen() or connect() decided which side the endpoint plays. */
  setRole(role: 'server' | 'client'): void;
}

export interface SyscallOutcome {
  result: number;
  errno?: string;
  /** Explains a failure (e.g. 'accept would block'). */
  note?: string;
  /** A returned value (not the result) differs from the script, e.g. SO_ERROR. */
  mismatch?: string;
}

/**
 * A call that has not returned yet: `poll` is asked after every input and timer (undefined: still blocked).
 * `deadlineMs` is when it returns by itself (a poll() timeout, a linger time).
 */
export interface Waiter {
  kind: 'wait';
  poll(nowMs: number): SyscallOutcome | undefined;
  deadlineMs?: number;
}

/**
 * How a call runs: 'now' (no `...END` in the script: the socket is non-blocking, as stevens models it; only
 * calls that block by their arguments, poll's timeout or a linger time, wait) or 'block' (`T...END`: the call
 * waits for what it needs while the script's later lines run).
 */
export type CallMode = 'now' | 'block';

export type Handler = (call: SyscallEvent, ctx: SyscallContext, line: number, mode: CallMode) => SyscallOutcome | Waiter;

/** A call that fails with an errno (Linux's -1 and errno), thrown from deep in a handler. */
export class Errno extends Error {
  constructor(
    readonly errno: string,
    readonly note?: string,
  ) {
    super(`${errno}${note ? `: ${note}` : ''}`);
  }
}

export const ok = (result = 0): SyscallOutcome => ({ result });
export const fail = (errno: string, note?: string): SyscallOutcome => ({ result: -1, errno, note });

export function describe(a: SyscallArg | undefined): string {
  if (!a) return '(missing)';
  switch (a.kind) {
    case 'ellipsis':
      return '...';
    case 'number':
      return String(a.value);
    case 'name':
      return a.name;
    case 'string':
      return `${JSON.stringify(a.value)}${a.truncated ? '...' : ''}`;
    case 'list':
      return `[${a.items.map(describe).join(', ')}]`;
    case 'struct':
      return `{${a.fields.map((f) => (f.name ? `${f.name}=${describe(f.value)}` : describe(f.value))).join(', ')}}`;
    case 'call':
      return `${a.name}(${a.args.map(describe).join(', ')})`;
    case 'or':
      return a.terms.map(describe).join('|');
    case 'assign':
      return `${a.name}=${describe(a.value)}`;
  }
}

export function arg(call: SyscallEvent, i: number, line: number): SyscallArg {
  const a = call.args[i];
  if (!a) throw new DrillError(line, `${call.name}(): expected at least ${i + 1} arguments`);
  return a;
}

export function numberArg(call: SyscallEvent, i: number, line: number, what: string): number {
  const a = arg(call, i, line);
  if (a.kind === 'number') return a.value;
  throw new DrillError(line, `${call.name}(): ${what} must be a number, got ${describe(a)}`);
}

export function nameArg(call: SyscallEvent, i: number, line: number, what: string): string {
  const a = arg(call, i, line);
  if (a.kind === 'name') return a.name;
  if (a.kind === 'number') return String(a.value);
  throw new DrillError(line, `${call.name}(): ${what} must be a name like SOL_SOCKET, got ${describe(a)}`);
}

/** `[N]` (or a bare N) -> N. */
export function listValue(call: SyscallEvent, i: number, line: number): SyscallArg {
  const a = arg(call, i, line);
  if (a.kind === 'list') {
    if (a.items.length !== 1) throw new DrillError(line, `${call.name}(): expected a one-element list [value], got ${describe(a)}`);
    return a.items[0]!;
  }
  return a;
}

/** Names joined by `|` (or one name, or 0): MSG_* / POLL* / O_* flags. */
export function flagNames(a: SyscallArg | undefined, call: SyscallEvent, line: number): string[] {
  if (a === undefined || a.kind === 'ellipsis') return [];
  if (a.kind === 'number') {
    if (a.value === 0) return [];
    throw new DrillError(line, `${call.name}(): flags must be written by name (like MSG_DONTWAIT), got ${a.value}`);
  }
  if (a.kind === 'name') return [a.name];
  if (a.kind === 'or') return a.terms.flatMap((t) => flagNames(t, call, line));
  throw new DrillError(line, `${call.name}(): expected flags, got ${describe(a)}`);
}

export function field(s: SyscallArg, name: string): StructField | undefined {
  return s.kind === 'struct' ? s.fields.find((f) => f.name === name) : undefined;
}

export function socketOf(call: SyscallEvent, ctx: SyscallContext, line: number): Socket {
  const fd = numberArg(call, 0, line, 'the socket');
  const s = ctx.sockets.get(fd);
  if (!s) throw new Errno('EBADF', `fd ${fd} is not open`);
  return s;
}

/** The connection on the call's fd; `notConnected` is the errno Linux gives when there is none. */
export function connOf(call: SyscallEvent, ctx: SyscallContext, line: number, notConnected: string): ConnRecord {
  const s = socketOf(call, ctx, line);
  if (s.kind !== 'conn') throw new Errno(notConnected, `fd ${s.fd} is ${s.kind === 'listener' ? 'listening' : 'not connected'}`);
  ctx.sockets.current = s.rec;
  return s.rec;
}

/** The error a socket holds for the application, reported once (Linux's sk_err). */
export function takePendingError(rec: ConnRecord): string | undefined {
  const code = rec.pendingError;
  if (code === undefined) return undefined;
  rec.pendingError = undefined;
  rec.errorReported = true;
  return code;
}

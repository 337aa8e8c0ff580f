// The syscalls a script may make, each mapped onto the stevens API as a non-blocking socket would behave.
// Each returns what the call returned (result, errno); the runner compares that with the script.

import type { SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import type { ConnRecord, Socket, SocketTable } from './sockets.js';
import type { Endpoint, Remote } from '../core/index.js';

export interface SyscallContext {
  readonly ep: Endpoint;
  readonly nowMs: number;
  readonly sockets: SocketTable;
  /** The script peer (UDP address and, for connect, TCP port). */
  readonly remote: Remote;
  /** The TCP port listen() accepts on and connect() connects to. */
  readonly port: number;
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

type Handler = (call: SyscallEvent, ctx: SyscallContext, line: number) => SyscallOutcome;

const ok = (result = 0): SyscallOutcome => ({ result });
const fail = (errno: string, note?: string): SyscallOutcome => ({ result: -1, errno, note });

function describe(a: SyscallArg | undefined): string {
  if (!a) return '(missing)';
  switch (a.kind) {
    case 'ellipsis':
      return '...';
    case 'number':
      return String(a.value);
    case 'name':
      return a.name;
    case 'string':
      return JSON.stringify(a.value);
    case 'list':
      return `[${a.items.map(describe).join(', ')}]`;
    case 'struct':
      return '{...}';
    case 'call':
      return `${a.name}(...)`;
    case 'or':
      return a.terms.map(describe).join('|');
  }
}

function arg(call: SyscallEvent, i: number, line: number): SyscallArg {
  const a = call.args[i];
  if (!a) throw new DrillError(line, `${call.name}(): expected at least ${i + 1} arguments`);
  return a;
}

function numberArg(call: SyscallEvent, i: number, line: number, what: string): number {
  const a = arg(call, i, line);
  if (a.kind === 'number') return a.value;
  throw new DrillError(line, `${call.name}(): ${what} must be a number, got ${describe(a)}`);
}

function nameArg(call: SyscallEvent, i: number, line: number, what: string): string {
  const a = arg(call, i, line);
  if (a.kind === 'name') return a.name;
  if (a.kind === 'number') return String(a.value);
  throw new DrillError(line, `${call.name}(): ${what} must be a name like SOL_SOCKET, got ${describe(a)}`);
}

/** `[N]` (or a bare N) -> N. */
function listValue(call: SyscallEvent, i: number, line: number): SyscallArg {
  const a = arg(call, i, line);
  if (a.kind === 'list') {
    if (a.items.length !== 1) throw new DrillError(line, `${call.name}(): expected a one-element list [value], got ${describe(a)}`);
    return a.items[0]!;
  }
  return a;
}

function socketOf(call: SyscallEvent, ctx: SyscallContext, line: number): Socket {
  const fd = numberArg(call, 0, line, 'the socket');
  const s = ctx.sockets.get(fd);
  if (!s) throw new DrillError(line, `${call.name}(): fd ${fd} is not an open socket`);
  return s;
}

function connOf(call: SyscallEvent, ctx: SyscallContext, line: number): ConnRecord {
  const s = socketOf(call, ctx, line);
  if (s.kind !== 'conn') throw new DrillError(line, `${call.name}(): fd ${s.fd} is not a connected socket`);
  ctx.sockets.current = s.rec;
  return s.rec;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Which setsockopt() options map to which connection config key (set before listen/connect). */
const CONFIG_OPTIONS: Record<string, { key: string; scale: number }> = {
  SO_RCVBUF: { key: 'receiveBufferBytes', scale: 1 },
  SO_SNDBUF: { key: 'sendBufferBytes', scale: 1 },
  TCP_KEEPIDLE: { key: 'keepaliveIdleMs', scale: 1000 },
  TCP_KEEPINTVL: { key: 'keepaliveIntervalMs', scale: 1000 },
  TCP_KEEPCNT: { key: 'keepaliveProbes', scale: 1 },
  TCP_USER_TIMEOUT: { key: 'userTimeoutMs', scale: 1 },
};
/** Linux's tcp_keepalive_time when SO_KEEPALIVE is set without TCP_KEEPIDLE. */
const LINUX_KEEPALIVE_IDLE_MS = 7_200_000;

const handlers: Record<string, Handler> = {
  socket(call, ctx, line) {
    const type = arg(call, 1, line);
    const typeName = type.kind === 'name' ? type.name : type.kind === 'or' ? type.terms.map(describe).join('|') : describe(type);
    if (type.kind !== 'ellipsis' && !typeName.split('|').includes('SOCK_STREAM')) {
      throw new DrillError(line, `socket(): only SOCK_STREAM sockets are supported, got ${typeName}`);
    }
    if (call.result < 0) throw new DrillError(line, 'socket(): a failing socket() is not supported');
    if (ctx.sockets.get(call.result)) throw new DrillError(line, `socket(): fd ${call.result} is already open`);
    ctx.sockets.set({ kind: 'fresh', fd: call.result, overrides: {} });
    return ok(call.result);
  },

  bind(call, ctx, line) {
    socketOf(call, ctx, line);
    return ok();
  },

  listen(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    if (s.kind !== 'fresh') throw new DrillError(line, `listen(): fd ${s.fd} is already ${s.kind === 'listener' ? 'listening' : 'connected'}`);
    if (ctx.sockets.listening) throw new DrillError(line, 'listen(): stevens drills support one listening socket');
    ctx.setRole('server');
    ctx.ep.listen({ ...s.overrides, port: ctx.port });
    ctx.sockets.listening = true;
    ctx.sockets.set({ kind: 'listener', fd: s.fd, overrides: s.overrides });
    return ok();
  },

  accept(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    if (s.kind !== 'listener') throw new DrillError(line, `accept(): fd ${s.fd} is not listening`);
    const rec = ctx.sockets.acceptQueue.shift();
    if (!rec) return fail('EAGAIN', 'accept would block: no connection is ready');
    if (call.result < 0) return { result: 0, note: 'accept returned a connection' };
    if (ctx.sockets.get(call.result)) throw new DrillError(line, `accept(): fd ${call.result} is already open`);
    ctx.sockets.set({ kind: 'conn', fd: call.result, rec });
    return ok(call.result);
  },

  connect(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    if (s.kind !== 'fresh') throw new DrillError(line, `connect(): fd ${s.fd} is ${s.kind === 'listener' ? 'listening' : 'already connected'}`);
    ctx.setRole('client');
    const conn = ctx.ep.connect(ctx.nowMs, ctx.remote, { ...s.overrides, port: ctx.port });
    const rec = ctx.sockets.record(conn);
    ctx.sockets.set({ kind: 'conn', fd: s.fd, rec });
    // stevens connects asynchronously; a script's blocking '= 0' is taken to mean the same thing.
    if (call.result === 0) return ok();
    return fail('EINPROGRESS');
  },

  fcntl(call, ctx, line) {
    socketOf(call, ctx, line);
    // Sockets are always non-blocking; F_GETFL's value is not modelled, so the script's result stands.
    return ok(call.result);
  },

  setsockopt(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    const level = nameArg(call, 1, line, 'the level');
    const opt = nameArg(call, 2, line, 'the option');
    const valueArg = listValue(call, 3, line);
    if (valueArg.kind !== 'number') throw new DrillError(line, `setsockopt(${opt}): the value must be a number, got ${describe(valueArg)}`);
    const value = valueArg.value;
    if (opt === 'SO_REUSEADDR' || opt === 'SO_REUSEPORT') return ok();
    if (opt === 'TCP_NODELAY') {
      if (s.kind === 'conn') s.rec.conn.setNoDelay(value !== 0);
      else s.overrides['noDelay'] = value !== 0;
      return ok();
    }
    const mapped = CONFIG_OPTIONS[opt];
    if (opt === 'SO_KEEPALIVE' || mapped) {
      if (s.kind === 'conn') throw new DrillError(line, `setsockopt(${level}, ${opt}): stevens takes this option only before listen() or connect()`);
      if (opt === 'SO_KEEPALIVE') {
        if (value === 0) s.overrides['keepaliveIdleMs'] = 0;
        else if (!s.overrides['keepaliveIdleMs']) s.overrides['keepaliveIdleMs'] = LINUX_KEEPALIVE_IDLE_MS;
      } else s.overrides[mapped!.key] = value * mapped!.scale;
      return ok();
    }
    throw new DrillError(line, `setsockopt(${level}, ${opt}) is not supported by stevens drills`);
  },

  getsockopt(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    const opt = nameArg(call, 2, line, 'the option');
    if (opt !== 'SO_ERROR') throw new DrillError(line, `getsockopt(${opt}) is not supported by stevens drills (only SO_ERROR)`);
    const want = listValue(call, 3, line);
    const wantName = want.kind === 'number' ? (want.value === 0 ? '0' : String(want.value)) : want.kind === 'name' ? want.name : undefined;
    if (wantName === undefined) throw new DrillError(line, `getsockopt(SO_ERROR): the value must be 0 or an errno name, got ${describe(want)}`);
    let actual = '0';
    if (s.kind === 'conn') {
      ctx.sockets.current = s.rec;
      if (s.rec.pendingError) {
        actual = s.rec.pendingError;
        s.rec.pendingError = undefined;
        s.rec.errorReported = true;
      }
    }
    if (actual !== wantName) return { result: 0, mismatch: `SO_ERROR: expected ${wantName}, actual ${actual}` };
    return ok();
  },

  write(call, ctx, line) {
    const rec = connOf(call, ctx, line);
    const n = numberArg(call, 2, line, 'the byte count');
    if (rec.pendingError) {
      const code = rec.pendingError;
      rec.pendingError = undefined;
      rec.errorReported = true;
      return fail(code);
    }
    let written: number;
    try {
      written = rec.conn.write(new Uint8Array(n));
    } catch (err) {
      const code = errorCode(err);
      if (code === undefined) throw err;
      if (rec.errorReported || code === 'EPIPE') return fail('EPIPE');
      rec.errorReported = true;
      return fail(code);
    }
    if (written === 0 && n > 0) return fail('EAGAIN', 'the send buffer is full');
    return ok(written);
  },

  read(call, ctx, line) {
    const rec = connOf(call, ctx, line);
    const n = numberArg(call, 2, line, 'the byte count');
    const data = rec.conn.read(n);
    if (data.length > 0) return ok(data.length);
    if (rec.pendingError) {
      const code = rec.pendingError;
      rec.pendingError = undefined;
      rec.errorReported = true;
      return fail(code);
    }
    if (rec.conn.ended || rec.closed) return ok(0);
    return fail('EAGAIN', 'nothing to read');
  },

  shutdown(call, ctx, line) {
    const rec = connOf(call, ctx, line);
    const how = nameArg(call, 1, line, 'how');
    if (how !== 'SHUT_WR' && how !== 'SHUT_RDWR' && how !== '1' && how !== '2') {
      throw new DrillError(line, `shutdown(${how}) is not supported (SHUT_WR, SHUT_RDWR)`);
    }
    rec.conn.shutdown();
    return ok();
  },

  close(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    if (s.kind === 'conn') {
      ctx.sockets.current = s.rec;
      s.rec.conn.close();
    } else if (s.kind === 'listener') {
      ctx.ep.unlisten(ctx.port);
      ctx.sockets.listening = false;
    }
    ctx.sockets.delete(s.fd);
    return ok();
  },
};

// Aliases with the same argument positions for what matters (fd, buffer, count).
handlers['send'] = handlers['write']!;
handlers['recv'] = handlers['read']!;
handlers['accept4'] = handlers['accept']!;

export function runSyscall(call: SyscallEvent, ctx: SyscallContext, line: number): SyscallOutcome {
  const h = handlers[call.name];
  if (!h) throw new DrillError(line, `unsupported syscall '${call.name}' (supported: ${Object.keys(handlers).sort().join(', ')})`);
  return h(call, ctx, line);
}

export function formatOutcome(o: { result: number; errno?: string }): string {
  return o.errno ? `${o.result} ${o.errno}` : String(o.result);
}

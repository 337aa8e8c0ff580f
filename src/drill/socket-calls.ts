// A socket's life: socket, bind, listen, accept, connect, fcntl, shutdown and close, as Linux answers them.
// Blocking accept/connect (`T...END`) wait for the connection; close() with SO_LINGER waits for the FIN to be
// acknowledged (or aborts with RST when the linger time is 0), as Linux's does.

import { DrillError } from './errors.js';
import { unsupported } from './features.js';
import { copyOptions, type ConnRecord, type SocketOptions } from './sockets.js';
import {
  arg,
  describe,
  fail,
  nameArg,
  ok,
  socketOf,
  takePendingError,
  type Handler,
  type SyscallContext,
  type SyscallOutcome,
  type Waiter,
} from './syscall-args.js';

/** The configuration a listen() or connect() now gets: sysctl settings, then the socket's own options. */
function configFor(ctx: SyscallContext, opts: SocketOptions, side: 'listen' | 'connect'): Record<string, unknown> {
  return { ...ctx.sysctl.all, ...ctx.sysctl[side], ...opts.overrides };
}

/** (Re)starts the listener with the socket's options: a SYN that arrives later gets them, as in Linux. */
export function applyListen(ctx: SyscallContext, opts: SocketOptions): void {
  ctx.ep.listen({ ...configFor(ctx, opts, 'listen'), port: ctx.listenPort });
}

/** Linux's sk_stream_closing(): the states close() with SO_LINGER waits out. */
const LINGERING_STATES = new Set(['FIN-WAIT-1', 'CLOSING', 'LAST-ACK']);

function connectOutcome(rec: ConnRecord): SyscallOutcome | undefined {
  if (rec.connected) return ok();
  if (rec.closed) return fail(takePendingError(rec) ?? 'ECONNREFUSED');
  return undefined;
}

export const socketCalls: Record<string, Handler> = {
  socket(call, ctx, line) {
    const type = arg(call, 1, line);
    const typeName = describe(type);
    if (type.kind !== 'ellipsis' && !typeName.split('|').includes('SOCK_STREAM')) {
      unsupported('linux-syscall', line, `socket(..., ${typeName}, ...)`, `a ${typeName} socket`);
    }
    // Linux: a stream socket is TCP; any other protocol is refused.
    const proto = call.args[2];
    if (proto && proto.kind === 'name' && proto.name !== 'IPPROTO_TCP' && proto.name !== 'IPPROTO_IP') return fail('EPROTONOSUPPORT');
    if (call.result < 0) throw new DrillError(line, 'socket(): a socket() expected to fail must fail for a reason stevens has (EPROTONOSUPPORT)');
    if (ctx.sockets.get(call.result)) throw new DrillError(line, `socket(): fd ${call.result} is already open`);
    ctx.sockets.set({ kind: 'fresh', fd: call.result, opts: { overrides: {} } });
    return ok(call.result);
  },

  bind(call, ctx, line) {
    socketOf(call, ctx, line);
    return ok();
  },

  listen(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    if (s.kind === 'listener') return ok();
    if (s.kind === 'conn') return fail('EINVAL', `fd ${s.fd} is connected`);
    if (ctx.sockets.listening) throw new DrillError(line, 'listen(): stevens drills support one listening socket');
    ctx.setRole('server');
    applyListen(ctx, s.opts);
    ctx.sockets.listening = true;
    ctx.sockets.set({ kind: 'listener', fd: s.fd, opts: s.opts });
    return ok();
  },

  accept(call, ctx, line, mode) {
    const s = socketOf(call, ctx, line);
    if (s.kind !== 'listener') return fail('EINVAL', `fd ${s.fd} is not listening`);
    const take = (): SyscallOutcome | undefined => {
      const rec = ctx.sockets.acceptQueue.shift();
      if (!rec) return undefined;
      rec.opts = copyOptions(s.opts);
      if (call.result < 0) return { result: 0, note: 'accept returned a connection' };
      if (ctx.sockets.get(call.result)) throw new DrillError(line, `accept(): fd ${call.result} is already open`);
      ctx.sockets.set({ kind: 'conn', fd: call.result, rec });
      return ok(call.result);
    };
    const now = take();
    if (now) return now;
    if (mode === 'now') return fail('EAGAIN', 'accept would block: no connection is ready');
    return { kind: 'wait', poll: take };
  },

  connect(call, ctx, line, mode) {
    const s = socketOf(call, ctx, line);
    if (s.kind === 'listener') return fail('EISCONN', `fd ${s.fd} is listening`);
    if (s.kind === 'conn') return s.rec.connected ? fail('EISCONN') : fail('EALREADY');
    ctx.setRole('client');
    const conn = ctx.ep.connect(ctx.nowMs, ctx.remote, { ...configFor(ctx, s.opts, 'connect'), port: ctx.connectPort });
    const rec = ctx.sockets.record(conn);
    rec.opts = s.opts;
    ctx.sockets.set({ kind: 'conn', fd: s.fd, rec });
    if (mode === 'block') return { kind: 'wait', poll: () => connectOutcome(rec) };
    // stevens connects asynchronously; a script's '= 0' without a time window is taken to mean the same thing.
    if (call.result === 0) return ok();
    return fail('EINPROGRESS');
  },

  fcntl(call, ctx, line) {
    socketOf(call, ctx, line);
    // Sockets are non-blocking unless a call has a `...END` window; F_GETFL's value is not modelled, so the
    // script's result stands.
    return ok(call.result);
  },

  shutdown(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    const how = nameArg(call, 1, line, 'how');
    const read = how === 'SHUT_RD' || how === 'SHUT_RDWR' || how === '0' || how === '2';
    const write = how === 'SHUT_WR' || how === 'SHUT_RDWR' || how === '1' || how === '2';
    if (!read && !write) return fail('EINVAL', `shutdown(${how}): expected SHUT_RD, SHUT_WR or SHUT_RDWR`);
    if (s.kind === 'fresh') return fail('ENOTCONN');
    if (s.kind === 'listener') {
      // Linux: SHUT_RD on a listener stops it listening; SHUT_WR does nothing.
      if (read) {
        ctx.ep.unlisten(ctx.listenPort);
        ctx.sockets.listening = false;
      }
      return ok();
    }
    ctx.sockets.current = s.rec;
    if (s.rec.closed && !s.rec.connected) return fail('ENOTCONN');
    // SHUT_RD sends nothing (Linux neither): read() answers 0 once the queue is drained.
    if (read) s.rec.readShutdown = true;
    if (write) {
      s.rec.writeShutdown = true;
      s.rec.conn.shutdown();
    }
    return ok();
  },

  close(call, ctx, line) {
    const s = socketOf(call, ctx, line);
    ctx.sockets.delete(s.fd);
    if (s.kind === 'listener') {
      ctx.ep.unlisten(ctx.listenPort);
      ctx.sockets.listening = false;
      return ok();
    }
    if (s.kind !== 'conn') return ok();
    const rec = s.rec;
    ctx.sockets.current = rec;
    rec.readShutdown = true;
    rec.writeShutdown = true;
    const linger = rec.opts.linger;
    if (linger?.onoff && linger.seconds === 0) {
      // SO_LINGER with a zero time: the connection is reset, not closed (Linux's tcp_disconnect).
      rec.conn.abort();
      return ok();
    }
    rec.conn.close();
    if (!linger?.onoff) return ok();
    // Linux's sk_stream_wait_close(): close() returns once our FIN is acknowledged, or after the linger time.
    const deadlineMs = ctx.nowMs + linger.seconds * 1000;
    const waiter: Waiter = {
      kind: 'wait',
      deadlineMs,
      poll: (nowMs) => (!LINGERING_STATES.has(rec.conn.stats().state) || nowMs >= deadlineMs ? ok() : undefined),
    };
    return waiter.poll(ctx.nowMs) ?? waiter;
  },
};

// poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, TIMEOUT_MS): each fd's readiness the way Linux's
// tcp_poll() reports it, compared with the script's revents (0 when not written, as packetdrill takes it).
// With a timeout the call waits (in virtual time) until some fd is ready or the timeout passes.

import type { SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import type { Socket } from './sockets.js';
import { arg, describe, field, flagNames, numberArg, ok, type Handler, type SyscallContext, type SyscallOutcome, type Waiter } from './syscall-args.js';

const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;
const POLLRDHUP = 0x2000;

/** Linux's poll bits by name (include/uapi/asm-generic/poll.h). */
const POLL_BITS: Record<string, number> = {
  POLLIN,
  POLLPRI: 0x2,
  POLLOUT,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLRDNORM,
  POLLRDBAND: 0x80,
  POLLWRNORM,
  POLLWRBAND: 0x200,
  POLLMSG: 0x400,
  POLLRDHUP,
};
/** Reported whether asked for or not. */
const ALWAYS = POLLERR | POLLHUP | POLLNVAL;

function bits(a: SyscallArg | undefined, call: SyscallEvent, line: number): number {
  if (a?.kind === 'number') return a.value;
  return flagNames(a, call, line).reduce((m, n) => {
    const b = POLL_BITS[n];
    if (b === undefined) throw new DrillError(line, `poll(): unknown event ${n}`);
    return m | b;
  }, 0);
}

export function pollNames(mask: number): string {
  if (mask === 0) return '0';
  const names = Object.entries(POLL_BITS)
    .filter(([, b]) => mask & b)
    .map(([n]) => n);
  return names.join('|');
}

/** Linux's tcp_poll() (and inet_csk_listen_poll() for a listener) on one socket. */
function readiness(s: Socket | undefined, ctx: SyscallContext): number {
  if (!s) return POLLNVAL;
  if (s.kind === 'listener') return ctx.sockets.acceptQueue.length > 0 ? POLLIN | POLLRDNORM : 0;
  // A socket that never connected is in TCP_CLOSE: hung up, and "writable".
  if (s.kind === 'fresh') return POLLOUT | POLLWRNORM | POLLHUP;
  const rec = s.rec;
  const conn = rec.conn;
  const st = conn.stats();
  const closed = rec.closed;
  // A reset or timed-out connection has both directions shut (Linux's tcp_done()).
  const rcvShutdown = rec.readShutdown || conn.ended || closed;
  const sndShutdown = rec.writeShutdown || closed;
  let mask = 0;
  if (closed || (rcvShutdown && sndShutdown)) mask |= POLLHUP;
  if (rcvShutdown) mask |= POLLIN | POLLRDNORM | POLLRDHUP;
  if (st.state !== 'SYN-SENT' && st.state !== 'SYN-RECEIVED') {
    if (conn.readableBytes > 0) mask |= POLLIN | POLLRDNORM;
    // sk_stream_is_writeable(): free space at least half of what is queued.
    if (sndShutdown || (conn.writableBytes > 0 && conn.writableBytes >= st.sendBufferedBytes / 2)) mask |= POLLOUT | POLLWRNORM;
  }
  if (rec.pendingError !== undefined) mask |= POLLERR;
  return mask;
}

interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

function pollFds(call: SyscallEvent, line: number): PollFd[] {
  const list = arg(call, 0, line);
  if (list.kind !== 'list') throw new DrillError(line, `poll(): expected [{fd=N, events=...}, ...], got ${describe(list)}`);
  return list.items.map((item) => {
    const fd = item.kind === 'struct' ? field(item, 'fd') : undefined;
    const events = item.kind === 'struct' ? field(item, 'events') : undefined;
    if (fd?.value.kind !== 'number' || !events) throw new DrillError(line, `poll(): expected {fd=N, events=...[, revents=...]}, got ${describe(item)}`);
    return { fd: fd.value.value, events: bits(events.value, call, line), revents: bits(field(item, 'revents')?.value, call, line) };
  });
}

export const poll: Handler = (call, ctx, line) => {
  const fds = pollFds(call, line);
  const nfds = numberArg(call, 1, line, 'nfds');
  if (nfds !== fds.length) throw new DrillError(line, `poll(): nfds ${nfds} does not match the ${fds.length}-element pollfd list`);
  const timeoutMs = numberArg(call, 2, line, 'the timeout');
  const check = (): { ready: number; outcome: SyscallOutcome } => {
    let ready = 0;
    const wrong: string[] = [];
    for (const p of fds) {
      const revents = readiness(ctx.sockets.get(p.fd), ctx) & (p.events | ALWAYS);
      if (revents !== 0) ready++;
      if (revents !== p.revents) wrong.push(`fd ${p.fd} revents: expected ${pollNames(p.revents)}, actual ${pollNames(revents)}`);
    }
    const outcome: SyscallOutcome = ok(ready);
    if (wrong.length > 0) {
      if (ready === call.result) outcome.mismatch = wrong.join('; ');
      else outcome.note = wrong.join('; ');
    }
    return { ready, outcome };
  };
  const now = check();
  if (now.ready > 0 || timeoutMs === 0) return now.outcome;
  const deadlineMs = timeoutMs < 0 ? undefined : ctx.nowMs + timeoutMs;
  const waiter: Waiter = {
    kind: 'wait',
    deadlineMs,
    poll: (nowMs) => {
      const c = check();
      return c.ready > 0 || (deadlineMs !== undefined && nowMs >= deadlineMs) ? c.outcome : undefined;
    },
  };
  return waiter;
};

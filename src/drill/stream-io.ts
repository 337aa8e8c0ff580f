// Moving bytes: write/send/sendto/writev/sendmsg and read/recv/recvfrom/readv/recvmsg, with their flags, and
// ioctl's queue sizes. Non-blocking (the socket model) unless the script gives a `...END` window: then a read
// waits for data, EOF or an error, and a write until all its bytes are in the send buffer, as Linux's do.

import type { SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import { unsupported } from './features.js';
import type { ConnRecord } from './sockets.js';
import {
  arg,
  connOf,
  describe,
  fail,
  field,
  flagNames,
  listValue,
  nameArg,
  numberArg,
  ok,
  socketOf,
  takePendingError,
  type CallMode,
  type Handler,
  type SyscallOutcome,
  type Waiter,
} from './syscall-args.js';
import { notSentBytes } from './tcpi.js';

/** Flags that change nothing for a non-blocking stevens socket (MSG_DONTWAIT) or its stream (the rest). */
const NO_EFFECT_FLAGS = new Set(['MSG_DONTWAIT', 'MSG_NOSIGNAL', 'MSG_CONFIRM', 'MSG_TRUNC', 'MSG_WAITFORONE', 'MSG_CMSG_CLOEXEC']);

function checkFlags(call: SyscallEvent, flags: string[], line: number, direction: 'send' | 'recv'): void {
  for (const f of flags) {
    const construct = `${call.name}(..., ${f})`;
    if (NO_EFFECT_FLAGS.has(f)) continue;
    if (f === 'MSG_WAITALL' && direction === 'recv') continue;
    if (f === 'MSG_FASTOPEN' && direction === 'send') unsupported('fastopen', line, construct);
    if (f === 'MSG_MORE' && direction === 'send') unsupported('cork', line, construct);
    if (f === 'MSG_PEEK' && direction === 'recv') unsupported('peek', line, construct);
    if (f === 'MSG_OOB') unsupported('urgent', line, construct);
    if (f === 'MSG_ZEROCOPY' || f === 'MSG_ERRQUEUE' || f === 'MSG_EOR' || f === 'MSG_SPLICE_PAGES') unsupported('linux-option', line, construct, f);
    throw new DrillError(line, `${call.name}(): unknown flag ${f}`);
  }
}

/** The byte count of one iovec: `{..., N}` or `{iov_base=..., iov_len=N}`. */
function iovLength(a: SyscallArg, call: SyscallEvent, line: number): number {
  if (a.kind === 'struct') {
    const named = field(a, 'iov_len');
    const v = named?.value ?? a.fields[a.fields.length - 1]?.value;
    if (v?.kind === 'number' && v.value >= 0) return v.value;
  }
  throw new DrillError(line, `${call.name}(): an iovec is written {..., LENGTH}, got ${describe(a)}`);
}

function iovTotal(list: SyscallArg, call: SyscallEvent, line: number): number {
  if (list.kind !== 'list') throw new DrillError(line, `${call.name}(): expected a list of iovecs [{..., N}, ...], got ${describe(list)}`);
  return list.items.reduce((sum, a) => sum + iovLength(a, call, line), 0);
}

/** sendmsg/recvmsg's `{msg_name(...)=..., msg_iov(1)=[{..., N}], msg_flags=0[, msg_control=[...]]}`. */
function msghdrLength(call: SyscallEvent, line: number): number {
  const m = arg(call, 1, line);
  const iov = field(m, 'msg_iov');
  if (!iov) throw new DrillError(line, `${call.name}(): expected a msghdr {msg_name(...)=..., msg_iov(N)=[...], msg_flags=...}, got ${describe(m)}`);
  const control = field(m, 'msg_control');
  if (control && !(control.value.kind === 'list' && control.value.items.length === 0)) {
    unsupported('linux-option', line, `${call.name}(..., {..., msg_control=...})`, 'ancillary data (msg_control)');
  }
  return iovTotal(iov.value, call, line);
}

interface Transfer {
  bytes: number;
  flags: string[];
}

/** Where each call keeps its count and flags. */
function transferOf(call: SyscallEvent, line: number, direction: 'send' | 'recv'): Transfer {
  switch (call.name) {
    case 'write':
    case 'read':
      return { bytes: numberArg(call, 2, line, 'the byte count'), flags: [] };
    case 'send':
    case 'recv':
    case 'sendto':
    case 'recvfrom':
      return { bytes: numberArg(call, 2, line, 'the byte count'), flags: flagNames(call.args[3], call, line) };
    case 'writev':
    case 'readv':
      return { bytes: iovTotal(arg(call, 1, line), call, line), flags: [] };
    case 'sendmsg':
    case 'recvmsg':
      return { bytes: msghdrLength(call, line), flags: flagNames(call.args[2], call, line) };
    default:
      throw new DrillError(line, `${call.name}() is not a ${direction} call`);
  }
}

/** One attempt to write `n` bytes: how many the send buffer took, or the call's failure. */
function writeSome(rec: ConnRecord, n: number): SyscallOutcome | number {
  const code = takePendingError(rec);
  if (code) return fail(code);
  try {
    return rec.conn.write(new Uint8Array(n));
  } catch (err) {
    const c = (err as { code?: unknown } | null)?.code;
    if (typeof c !== 'string') throw err;
    if (rec.errorReported || c === 'EPIPE') return fail('EPIPE');
    rec.errorReported = true;
    return fail(c);
  }
}

/** Linux's sk_stream_is_writeable(): a blocked writer wakes when the free space is half the queued bytes. */
function worthWaking(rec: ConnRecord): boolean {
  const s = rec.conn.stats();
  return rec.conn.writableBytes > 0 && rec.conn.writableBytes >= s.sendBufferedBytes / 2;
}

function send(rec: ConnRecord, bytes: number, mode: CallMode): SyscallOutcome | Waiter {
  const first = writeSome(rec, bytes);
  if (typeof first !== 'number') return first;
  if (first === bytes) return ok(bytes);
  if (mode === 'now') return first === 0 ? fail('EAGAIN', 'the send buffer is full') : ok(first);
  let written = first;
  return {
    kind: 'wait',
    poll: () => {
      if (!worthWaking(rec) && rec.pendingError === undefined) return undefined;
      const more = writeSome(rec, bytes - written);
      if (typeof more !== 'number') return written > 0 ? ok(written) : more;
      written += more;
      return written === bytes ? ok(written) : undefined;
    },
  };
}

function receiveNow(rec: ConnRecord, bytes: number): SyscallOutcome | undefined {
  const data = rec.conn.read(bytes);
  if (data.length > 0) return ok(data.length);
  const code = takePendingError(rec);
  if (code) return fail(code);
  if (rec.readShutdown || rec.conn.ended || rec.closed) return ok(0);
  return undefined;
}

function receive(rec: ConnRecord, bytes: number, waitAll: boolean, mode: CallMode): SyscallOutcome | Waiter {
  const first = receiveNow(rec, bytes);
  if (mode === 'now') return first ?? fail('EAGAIN', 'nothing to read');
  if (first && (!waitAll || first.result <= 0 || first.result === bytes)) return first;
  let got = first?.result ?? 0;
  return {
    kind: 'wait',
    poll: () => {
      const more = receiveNow(rec, bytes - got);
      if (!more) return undefined;
      if (more.result <= 0) return got > 0 ? ok(got) : more;
      got += more.result;
      return !waitAll || got === bytes ? ok(got) : undefined;
    },
  };
}

const sendCall: Handler = (call, ctx, line, mode) => {
  const t = transferOf(call, line, 'send');
  checkFlags(call, t.flags, line, 'send');
  return send(connOf(call, ctx, line, 'EPIPE'), t.bytes, mode);
};

const recvCall: Handler = (call, ctx, line, mode) => {
  const t = transferOf(call, line, 'recv');
  checkFlags(call, t.flags, line, 'recv');
  const rec = connOf(call, ctx, line, 'ENOTCONN');
  return receive(rec, t.bytes, t.flags.includes('MSG_WAITALL'), mode);
};

const IOCTL_QUEUES: Record<string, (rec: ConnRecord) => number> = {
  SIOCINQ: (rec) => rec.conn.readableBytes,
  FIONREAD: (rec) => rec.conn.readableBytes,
  SIOCOUTQ: (rec) => rec.conn.stats().sendBufferedBytes,
  TIOCOUTQ: (rec) => rec.conn.stats().sendBufferedBytes,
  SIOCOUTQNSD: (rec) => notSentBytes(rec.conn.stats() as unknown as Record<string, unknown>),
};

export const streamCalls: Record<string, Handler> = {
  write: sendCall,
  send: sendCall,
  sendto: sendCall,
  writev: sendCall,
  sendmsg: sendCall,
  read: recvCall,
  recv: recvCall,
  recvfrom: recvCall,
  readv: recvCall,
  recvmsg: recvCall,

  ioctl(call, ctx, line) {
    const request = nameArg(call, 1, line, 'the request');
    const queue = IOCTL_QUEUES[request];
    if (request === 'SIOCATMARK') unsupported('urgent', line, `ioctl(..., SIOCATMARK, ...)`);
    if (!queue) unsupported('linux-option', line, `ioctl(..., ${request}, ...)`, `the ioctl ${request}`);
    const s = socketOf(call, ctx, line);
    if (s.kind !== 'conn') return fail('EINVAL', `fd ${s.fd} is not connected`);
    ctx.sockets.current = s.rec;
    const want = listValue(call, 2, line);
    if (want.kind !== 'number') throw new DrillError(line, `ioctl(${request}): the value must be [N], got ${describe(want)}`);
    const actual = queue(s.rec);
    if (actual !== want.value) return { result: 0, mismatch: `${request}: expected ${want.value}, actual ${actual}` };
    return ok();
  },
};

// setsockopt() and getsockopt(): each option mapped onto stevens' configuration, as Linux answers it.
// Options that configure the connection are taken before listen()/connect() and on a listening socket (the
// listener restarts with them, so later SYNs get them, as Linux's children inherit the listener's options);
// on an open connection only TCP_NODELAY and SO_LINGER can change today (the core has no setter for the
// rest: "not supported yet").

import type { SyscallArg, SyscallEvent } from './ast.js';
import { DrillError } from './errors.js';
import { unsupported, type FeatureId } from './features.js';
import type { ConnRecord, Socket, SocketOptions } from './sockets.js';
import { applyListen } from './socket-calls.js';
import { arg, describe, field, listValue, nameArg, ok, socketOf, takePendingError, type Handler, type SyscallContext, type SyscallOutcome } from './syscall-args.js';
import { DATAGRAM_OVER_MSS_BYTES } from './options.js';
import { MIN_DATAGRAM_BYTES, PROFILES, type ConnectionConfig } from '../core/index.js';

/** Options that are one connection config key (value times scale), taken before the connection exists. */
const CONFIG_OPTIONS: Record<string, { key: keyof ConnectionConfig; scale: number }> = {
  SO_RCVBUF: { key: 'receiveBufferBytes', scale: 1 },
  SO_SNDBUF: { key: 'sendBufferBytes', scale: 1 },
  TCP_KEEPINTVL: { key: 'keepaliveIntervalMs', scale: 1000 },
  TCP_KEEPCNT: { key: 'keepaliveProbes', scale: 1 },
  TCP_USER_TIMEOUT: { key: 'userTimeoutMs', scale: 1 },
};

/** Linux's tcp_keepalive_time when SO_KEEPALIVE is set without TCP_KEEPIDLE (and no sysctl said otherwise). */
export const LINUX_KEEPALIVE_IDLE_MS = 7_200_000;
/** Linux's TCP_MAXSEG before a connection exists and without one set (TCP_MSS_DEFAULT). */
const LINUX_DEFAULT_MSS = 536;
/** Linux refuses TCP_MAXSEG outside [TCP_MIN_MSS, MAX_TCP_WINDOW]. */
const LINUX_MIN_MSS = 88;
const LINUX_MAX_MSS = 32767;

/** Options stevens will have once the core has the feature. */
const FEATURE_OPTIONS: Record<string, FeatureId> = {
  TCP_NOTSENT_LOWAT: 'notsent-lowat',
  TCP_QUICKACK: 'quickack',
  TCP_FASTOPEN: 'fastopen',
  TCP_FASTOPEN_CONNECT: 'fastopen',
  TCP_FASTOPEN_KEY: 'fastopen',
  TCP_FASTOPEN_NO_COOKIE: 'fastopen',
  TCP_MD5SIG: 'md5',
  TCP_MD5SIG_EXT: 'md5',
};

/** Linux's congestion-control names -> stevens' controllers. */
const CONGESTION_NAMES: Record<string, ConnectionConfig['congestionControl']> = { cubic: 'cubic', reno: 'newreno' };
const LINUX_CONGESTION_NAME: Record<string, string> = { cubic: 'cubic', newreno: 'reno' };

function optsOf(s: Socket): SocketOptions {
  return s.kind === 'conn' ? s.rec.opts : s.opts;
}

/** Stores a connection option on a socket that has no connection; a listener restarts with it. */
function store(ctx: SyscallContext, s: Socket, line: number, opt: string, apply: (o: SocketOptions) => void): SyscallOutcome {
  if (s.kind === 'conn') unsupported('socket-option-after-open', line, `setsockopt(${s.fd}, ..., ${opt}, ...)`, `setsockopt(${opt}) on a connected socket`);
  apply(s.opts);
  if (s.kind === 'listener') applyListen(ctx, s.opts);
  return ok();
}

function intValue(call: SyscallEvent, line: number, opt: string): number {
  const v = listValue(call, 3, line);
  if (v.kind !== 'number') throw new DrillError(line, `setsockopt(${opt}): the value must be a number, got ${describe(v)}`);
  return v.value;
}

function lingerValue(a: SyscallArg, line: number, call = 'setsockopt'): { onoff: boolean; seconds: number } {
  const onoff = field(a, 'onoff') ?? field(a, 'l_onoff');
  const linger = field(a, 'linger') ?? field(a, 'l_linger');
  if (onoff?.value.kind !== 'number' || linger?.value.kind !== 'number' || linger.value.value < 0) {
    throw new DrillError(line, `${call}(SO_LINGER): the value is written {onoff=N, linger=SECONDS}, got ${describe(a)}`);
  }
  return { onoff: onoff.value.value !== 0, seconds: linger.value.value };
}

/** The configuration a socket's connection has, or would get (profile defaults, the endpoint's, the socket's). */
function effective<K extends keyof ConnectionConfig>(ctx: SyscallContext, s: Socket, key: K): ConnectionConfig[K] {
  if (s.kind === 'conn') return s.rec.conn.config[key];
  const side = s.kind === 'listener' ? 'listen' : 'connect';
  const over = { ...ctx.endpointConfig, ...ctx.sysctl.all, ...ctx.sysctl[side], ...s.opts.overrides } as Partial<ConnectionConfig>;
  const profile = PROFILES[(over.profile as 'tcp' | 'game' | undefined) ?? 'tcp'] ?? PROFILES.tcp;
  return (over[key] ?? profile[key]) as ConnectionConfig[K];
}

function keepIdleMs(ctx: SyscallContext, o: SocketOptions): number {
  return o.keepIdleMs ?? ctx.sysctl.keepaliveIdleMs ?? LINUX_KEEPALIVE_IDLE_MS;
}

/** The keepalive config a socket's options make (Linux: TCP_KEEPIDLE alone does not turn keepalive on). */
export function keepaliveOverrides(ctx: SyscallContext, o: SocketOptions): Record<string, unknown> {
  if (o.keepalive === undefined) return {};
  return { keepaliveIdleMs: o.keepalive ? keepIdleMs(ctx, o) : 0 };
}

const setsockopt: Handler = (call, ctx, line) => {
  const s = socketOf(call, ctx, line);
  if (s.kind === 'conn') ctx.sockets.current = s.rec;
  const level = nameArg(call, 1, line, 'the level');
  const opt = nameArg(call, 2, line, 'the option');
  const construct = `setsockopt(${s.fd}, ${level}, ${opt}, ${describe(arg(call, 3, line))}, ...)`;
  const feature = FEATURE_OPTIONS[opt];
  if (feature) unsupported(feature, line, construct, opt);
  switch (opt) {
    case 'SO_REUSEADDR':
    case 'SO_REUSEPORT':
      return ok();
    case 'TCP_NODELAY': {
      const on = intValue(call, line, opt) !== 0;
      optsOf(s).overrides['noDelay'] = on;
      if (s.kind === 'conn') s.rec.conn.setNoDelay(on);
      else if (s.kind === 'listener') applyListen(ctx, s.opts);
      return ok();
    }
    case 'TCP_CORK':
      // Never corked, so uncorking changes nothing; corking needs the feature.
      if (intValue(call, line, opt) !== 0) unsupported('cork', line, construct, opt);
      return ok();
    case 'SO_LINGER':
      optsOf(s).linger = lingerValue(arg(call, 3, line), line);
      return ok();
    case 'SO_KEEPALIVE': {
      const on = intValue(call, line, opt) !== 0;
      return store(ctx, s, line, opt, (o) => {
        o.keepalive = on;
        Object.assign(o.overrides, keepaliveOverrides(ctx, o));
      });
    }
    case 'TCP_KEEPIDLE': {
      const ms = intValue(call, line, opt) * 1000;
      return store(ctx, s, line, opt, (o) => {
        o.keepIdleMs = ms;
        Object.assign(o.overrides, keepaliveOverrides(ctx, o));
      });
    }
    case 'TCP_MAXSEG': {
      const mss = intValue(call, line, opt);
      if (mss < LINUX_MIN_MSS || mss > LINUX_MAX_MSS) return { result: -1, errno: 'EINVAL', note: `TCP_MAXSEG must be in [${LINUX_MIN_MSS}, ${LINUX_MAX_MSS}]` };
      // Linux clamps the advertised MSS to the user's, never above the path's: so does maxDatagramBytes.
      const datagram = Math.min(mss + DATAGRAM_OVER_MSS_BYTES, ctx.endpointMaxDatagramBytes);
      if (datagram < MIN_DATAGRAM_BYTES) unsupported('small-mss', line, construct, `TCP_MAXSEG ${mss}`);
      return store(ctx, s, line, opt, (o) => {
        o.userMss = mss;
        o.overrides['maxDatagramBytes'] = datagram;
      });
    }
    case 'TCP_CONGESTION': {
      const v = arg(call, 3, line);
      if (v.kind !== 'string') throw new DrillError(line, `setsockopt(TCP_CONGESTION): the value must be a string like "cubic", got ${describe(v)}`);
      const cc = CONGESTION_NAMES[v.value.replace(/\0+$/, '')];
      if (!cc) unsupported('linux-option', line, construct, `the congestion control "${v.value}"`);
      return store(ctx, s, line, opt, (o) => {
        o.overrides['congestionControl'] = cc;
      });
    }
  }
  const mapped = CONFIG_OPTIONS[opt];
  if (mapped) {
    const value = intValue(call, line, opt) * mapped.scale;
    return store(ctx, s, line, opt, (o) => {
      o.overrides[mapped.key] = value;
    });
  }
  unsupported('linux-option', line, construct, `setsockopt(${level}, ${opt})`);
};

/** getsockopt's answer for an integer option. */
function intOption(ctx: SyscallContext, s: Socket, opt: string, line: number): number | undefined {
  const o = optsOf(s);
  switch (opt) {
    case 'TCP_MAXSEG':
      if (s.kind === 'conn') return s.rec.conn.stats().mssBytes;
      return o.userMss ?? LINUX_DEFAULT_MSS;
    case 'TCP_NODELAY':
      return effective(ctx, s, 'noDelay') ? 1 : 0;
    case 'TCP_CORK':
      return 0;
    case 'SO_KEEPALIVE':
      return effective(ctx, s, 'keepaliveIdleMs') > 0 ? 1 : 0;
    case 'TCP_KEEPIDLE': {
      const idle = effective(ctx, s, 'keepaliveIdleMs');
      return Math.floor((idle > 0 ? idle : keepIdleMs(ctx, o)) / 1000);
    }
    case 'TCP_KEEPINTVL':
      return Math.floor(effective(ctx, s, 'keepaliveIntervalMs') / 1000);
    case 'TCP_KEEPCNT':
      return effective(ctx, s, 'keepaliveProbes');
    case 'TCP_USER_TIMEOUT':
      return effective(ctx, s, 'userTimeoutMs');
    case 'SO_SNDBUF':
      return effective(ctx, s, 'sendBufferBytes');
    case 'SO_RCVBUF':
      return effective(ctx, s, 'receiveBufferBytes');
    case 'SO_TYPE':
      return 1; // SOCK_STREAM
    case 'SO_ACCEPTCONN':
      return s.kind === 'listener' ? 1 : 0;
    case 'SO_REUSEADDR':
    case 'SO_REUSEPORT':
      return undefined;
  }
  const feature = FEATURE_OPTIONS[opt];
  if (feature) unsupported(feature, line, `getsockopt(${s.fd}, ..., ${opt}, ...)`, opt);
  return undefined;
}

function soError(s: Socket): string {
  if (s.kind !== 'conn') return '0';
  return takePendingError(s.rec as ConnRecord) ?? '0';
}

const getsockopt: Handler = (call, ctx, line) => {
  const s = socketOf(call, ctx, line);
  if (s.kind === 'conn') ctx.sockets.current = s.rec;
  const opt = nameArg(call, 2, line, 'the option');
  const want = listValue(call, 3, line);
  if (opt === 'SO_ERROR') {
    const wantName = want.kind === 'number' ? String(want.value) : want.kind === 'name' ? want.name : undefined;
    if (wantName === undefined) throw new DrillError(line, `getsockopt(SO_ERROR): the value must be 0 or an errno name, got ${describe(want)}`);
    const actual = soError(s);
    return actual === wantName ? ok() : { result: 0, mismatch: `SO_ERROR: expected ${wantName}, actual ${actual}` };
  }
  if (opt === 'SO_LINGER') {
    const expected = lingerValue(arg(call, 3, line), line, 'getsockopt');
    const actual = optsOf(s).linger ?? { onoff: false, seconds: 0 };
    const show = (l: { onoff: boolean; seconds: number }) => `{onoff=${l.onoff ? 1 : 0}, linger=${l.seconds}}`;
    return expected.onoff === actual.onoff && expected.seconds === actual.seconds ? ok() : { result: 0, mismatch: `SO_LINGER: expected ${show(expected)}, actual ${show(actual)}` };
  }
  if (opt === 'TCP_INFO') throw new DrillError(line, 'getsockopt(TCP_INFO): packetdrill checks TCP_INFO with %{ assert tcpi_... }%, and so does stevens');
  if (opt === 'TCP_CONGESTION') {
    if (want.kind !== 'string') throw new DrillError(line, `getsockopt(TCP_CONGESTION): the value must be a string like "cubic", got ${describe(want)}`);
    const actual = LINUX_CONGESTION_NAME[effective(ctx, s, 'congestionControl')] ?? effective(ctx, s, 'congestionControl');
    const expected = want.value.replace(/\0+$/, '');
    return actual === expected ? ok() : { result: 0, mismatch: `TCP_CONGESTION: expected "${expected}", actual "${actual}"` };
  }
  const actual = intOption(ctx, s, opt, line);
  if (actual === undefined) unsupported('linux-option', line, `getsockopt(${s.fd}, ..., ${opt}, ...)`, `getsockopt(${opt})`);
  if (want.kind !== 'number') throw new DrillError(line, `getsockopt(${opt}): the value must be [N], got ${describe(want)}`);
  return actual === want.value ? ok() : { result: 0, mismatch: `${opt}: expected ${want.value}, actual ${actual}` };
};

export const sockoptCalls: Record<string, Handler> = { setsockopt, getsockopt };

// Backquoted commands: packetdrill runs them in a shell; stevens has no shell, but the sysctl settings Linux
// scripts make (`sysctl -q net.ipv4.tcp_sack=0`, `echo 0 > /proc/sys/net/ipv4/tcp_timestamps`) map onto its
// configuration. They take effect, as in Linux, for sockets that listen or connect afterwards. Anything
// else (a script, `tc`, a sysctl stevens has no notion of) fails with a precise line.

import { unsupported, type FeatureId } from './features.js';

/** Configuration for sockets opened after the command: for both sides, for listeners only, for connect only. */
export interface SysctlSettings {
  all: Record<string, unknown>;
  listen: Record<string, unknown>;
  connect: Record<string, unknown>;
  /** tcp_keepalive_time: the idle time SO_KEEPALIVE turns on (ms). */
  keepaliveIdleMs?: number;
}

export function emptySysctls(): SysctlSettings {
  return { all: {}, listen: {}, connect: {} };
}

type Apply = (s: SysctlSettings, value: string, refuse: (feature: FeatureId, why: string) => never) => void;

function integer(value: string, refuse: (feature: FeatureId, why: string) => never): number {
  if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(value)) refuse('sysctl', `stevens reads only integer values here, got '${value}'`);
  return Number(value);
}

/** 0 or 1 -> a boolean config key. */
function flag(key: string): Apply {
  return (s, v, refuse) => {
    const n = integer(v, refuse);
    if (n !== 0 && n !== 1 && !(key === 'timestamps' && n === 2)) refuse('sysctl', `stevens reads 0 or 1, got ${v}`);
    s.all[key] = n !== 0;
  };
}

/** A value stevens always has (anything else needs a feature it lacks). */
function fixed(expected: number, feature: FeatureId, why: string): Apply {
  return (_s, v, refuse) => {
    if (integer(v, refuse) !== expected) refuse(feature, why);
  };
}

const SYSCTLS: Record<string, Apply> = {
  'net.ipv4.tcp_timestamps': flag('timestamps'),
  'net.ipv4.tcp_sack': flag('sack'),
  'net.ipv4.tcp_window_scaling': flag('windowScaling'),
  'net.ipv4.tcp_congestion_control': (s, v, refuse) => {
    if (v === 'cubic') s.all['congestionControl'] = 'cubic';
    else if (v === 'reno') s.all['congestionControl'] = 'newreno';
    else refuse('sysctl', `stevens has cubic and reno (newreno), not '${v}'`);
  },
  'net.ipv4.tcp_syn_retries': (s, v, refuse) => {
    s.connect['synRetries'] = integer(v, refuse);
  },
  'net.ipv4.tcp_synack_retries': (s, v, refuse) => {
    s.listen['synRetries'] = integer(v, refuse);
  },
  'net.ipv4.tcp_retries2': (s, v, refuse) => {
    s.all['maxRetransmits'] = integer(v, refuse);
  },
  'net.ipv4.tcp_reordering': (s, v, refuse) => {
    s.all['dupThresh'] = integer(v, refuse);
  },
  // Bit 0: RACK loss detection; the other bits tune RACK in ways stevens does not.
  'net.ipv4.tcp_recovery': (s, v, refuse) => {
    const n = integer(v, refuse);
    if (n & ~1) refuse('sysctl', `stevens has RACK on (1) or off (0), not the tuning bits of ${v}`);
    s.all['lossDetection'] = n & 1 ? 'rack' : 'dupack';
  },
  // Since Linux 4.18 only TLP is left here: 3 and 4 turn it on, 0-2 off.
  'net.ipv4.tcp_early_retrans': (s, v, refuse) => {
    const n = integer(v, refuse);
    if (n < 0 || n > 4) refuse('sysctl', `Linux takes 0 to 4, got ${v}`);
    s.all['tailLossProbe'] = n >= 3;
  },
  'net.ipv4.tcp_keepalive_time': (s, v, refuse) => {
    s.keepaliveIdleMs = integer(v, refuse) * 1000;
  },
  'net.ipv4.tcp_keepalive_intvl': (s, v, refuse) => {
    s.all['keepaliveIntervalMs'] = integer(v, refuse) * 1000;
  },
  'net.ipv4.tcp_keepalive_probes': (s, v, refuse) => {
    s.all['keepaliveProbes'] = integer(v, refuse);
  },
  'net.ipv4.tcp_fastopen': fixed(0, 'fastopen', 'stevens has no Fast Open: only 0 holds'),
  'net.ipv4.tcp_fastopen_key': (_s, _v, refuse) => refuse('fastopen', 'stevens has no Fast Open keys'),
  'net.ipv4.tcp_ecn': fixed(0, 'ecn', 'stevens never negotiates ECN: only 0 holds'),
  'net.ipv4.tcp_ecn_option': fixed(0, 'ecn', 'stevens sends no AccECN option: only 0 holds'),
  'net.ipv4.tcp_dsack': fixed(1, 'sysctl', 'stevens always reports duplicates with D-SACK: only 1 holds'),
  'net.ipv4.tcp_slow_start_after_idle': fixed(1, 'sysctl', 'stevens always restarts from the restart window after idle (RFC 5681 4.1): only 1 holds'),
  'net.ipv4.tcp_no_metrics_save': fixed(1, 'sysctl', 'stevens keeps no per-destination metrics: only 1 holds'),
  'net.ipv4.tcp_notsent_lowat': (_s, v, refuse) => {
    if (v !== '4294967295' && v !== '-1') refuse('notsent-lowat', 'only the default 4294967295 (no limit) holds');
  },
};

/** One `sysctl a=b c=d` or `echo V > /proc/sys/...`: key and value pairs, or undefined if it is neither. */
function sysctlAssignments(cmd: string): { key: string; value: string }[] | undefined {
  const words = cmd.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  const unquote = (w: string) => w.replace(/^(["'])(.*)\1$/s, '$2');
  if (words[0] === 'sysctl') {
    const pairs: { key: string; value: string }[] = [];
    for (const w of words.slice(1)) {
      if (/^-[a-zA-Z]+$/.test(w)) continue;
      const eq = w.indexOf('=');
      if (eq <= 0) return undefined;
      pairs.push({ key: w.slice(0, eq), value: unquote(w.slice(eq + 1)) });
    }
    return pairs.length > 0 ? pairs : undefined;
  }
  const echo = /^echo\s+("[^"]*"|'[^']*'|\S+)\s*>\s*\/proc\/sys\/(\S+)$/.exec(cmd);
  if (echo) return [{ key: echo[2]!.replace(/\//g, '.'), value: unquote(echo[1]!) }];
  return undefined;
}

/**
 * Applies a backquoted command's sysctl settings to `s`. Throws UnsupportedError naming the line and the part
 * of the command stevens cannot honour.
 */
export function applyCommand(s: SysctlSettings, command: string, line: number): void {
  const simple = command
    .split(/\n|;|&&/)
    .map((c) => c.replace(/#.*$/, '').replace(/\s*(\d?>\s*\/dev\/null|2>&1)\s*/g, ' ').trim())
    .filter((c) => c !== '');
  for (const cmd of simple) {
    const pairs = sysctlAssignments(cmd);
    if (!pairs) unsupported('shell', line, `\`${cmd}\``, 'a shell command');
    for (const { key, value } of pairs) {
      const rule = SYSCTLS[key];
      const construct = `${key}=${value}`;
      if (!rule) unsupported('sysctl', line, construct, `the sysctl ${key}`);
      if (/\$/.test(value)) unsupported('shell', line, construct, 'shell expansion in a sysctl value');
      rule(s, value, (feature, why) => unsupported(feature, line, `${construct}: ${why}`, feature === 'sysctl' ? `this value of ${key}` : undefined));
    }
  }
}

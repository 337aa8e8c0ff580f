// `--name=value` lines at the top of a script: packetdrill's command-line options. Those that shape the test
// (tolerance, ports, the path's MTU) map onto the run; those about packetdrill's own plumbing (addresses,
// logging, how Python is run) change nothing under stevens; the rest fail with a precise line.

import type { ScriptOption } from './ast.js';
import { DrillError } from './errors.js';
import { unsupported } from './features.js';
import { ENCAP_OVERHEAD_BYTES } from '../core/index.js';

export interface RunSettings {
  toleranceMs?: number;
  /** packetdrill's --tolerance_percent: a late or early event may also stray by this share of its delay. */
  tolerancePercent?: number;
  listenPort?: number;
  connectPort?: number;
  /** From --mtu: the IPv4 MSS (MTU - 40) as stevens' maxDatagramBytes. */
  maxDatagramBytes?: number;
}

/** Bytes a stevens datagram holds beyond the MSS: the 20-byte TCP header and the UDP framing (2 in front, a CRC behind). */
export const DATAGRAM_OVER_MSS_BYTES = 20 + ENCAP_OVERHEAD_BYTES;
const IPV4_TCP_HEADERS_BYTES = 40;

/** Options about packetdrill's plumbing: the addresses it assigns, its logging and Python. */
const NO_EFFECT = new Set(['ip_version', 'local_ip', 'remote_ip', 'gateway_ip', 'netmask_ip', 'speed', 'verbose', 'debug', 'code_command', 'code_format', 'code_sockopt', 'define']);

function intValue(o: ScriptOption, min: number, max: number): number {
  const v = o.value ?? '';
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new DrillError(o.line, `--${o.name} takes an integer in [${min}, ${max}], got '${v}'`);
  return Number(v);
}

export function applyOptions(options: ScriptOption[]): RunSettings {
  const out: RunSettings = {};
  for (const o of options) {
    const construct = `--${o.name}${o.value === undefined ? '' : `=${o.value}`}`;
    if (NO_EFFECT.has(o.name)) continue;
    switch (o.name) {
      case 'tolerance_usecs':
        out.toleranceMs = intValue(o, 0, 1e9) / 1000;
        break;
      case 'tolerance_percent':
        out.tolerancePercent = intValue(o, 0, 100);
        break;
      case 'bind_port':
        out.listenPort = intValue(o, 1, 65535);
        break;
      case 'connect_port':
        out.connectPort = intValue(o, 1, 65535);
        break;
      case 'mtu': {
        const mss = intValue(o, 68, 65535) - IPV4_TCP_HEADERS_BYTES;
        out.maxDatagramBytes = mss + DATAGRAM_OVER_MSS_BYTES;
        break;
      }
      default:
        unsupported('packetdrill-option', o.line, construct, `the packetdrill option --${o.name}`);
    }
  }
  return out;
}

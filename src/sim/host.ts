// A simulated host: a name, a UDP address per family (IPv4, IPv6 or both, one port), the sans-IO node behind
// it, its links to other hosts, and the simulator's bookkeeping for it (its one pending timer event, a cache of
// the last route it used).
import type { Remote } from '../core/index.js';
import type { Link } from './link.js';
import type { SansIoNode } from './seam.js';

export interface SimHost {
  readonly name: string;
  readonly node: SansIoNode;
  /** One { address, port } per family the host has: IPv4 first. Frozen. */
  readonly addresses: Remote[];
}

export interface HostOptions {
  name: string;
  ipv4?: string;
  ipv6?: string;
  /** The UDP port of both addresses (default 4000). */
  port?: number;
}

export const DEFAULT_PORT = 4000;

/** A datagram copy on its way to a host (the simulator's delivery event). */
export interface HeldDatagram {
  link: Link | undefined;
  from: Remote | undefined;
  to: Remote | undefined;
  bytes: Uint8Array | undefined;
  /** Copy flags (duplicate, corrupted, truncated). */
  n: number;
}

export type ActivityHook = (host: SimHost, nowMs: number) => void;

export class Host implements SimHost {
  readonly addresses: Remote[];
  readonly linksTo = new Map<Host, Link>();
  /** The deadline this host's pending timer event serves (Infinity: none pending); buggify may fire it later. */
  timerAtMs = Infinity;
  /** Bumped whenever a new timer event supersedes the pending one; older events are stale. */
  timerGeneration = 0;
  /** The destination of the last datagram routed, and what it resolved to. */
  routeAddress: string | undefined = undefined;
  routePort = -1;
  routeLink: Link | undefined = undefined;
  routeFrom: Remote | undefined = undefined;
  routeTo: Remote | undefined = undefined;
  /** Counts datagrams with no route (created on the first). */
  unrouted: Link | undefined = undefined;
  /** Where injected (spoofed) datagrams come from: Simulator.inject. */
  injected: Link | undefined = undefined;
  /** Buggify: datagrams held to be handed over together in one turn. */
  burst: HeldDatagram[] | undefined = undefined;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly node: SansIoNode,
    readonly ipv4: Remote | undefined,
    readonly ipv6: Remote | undefined,
    readonly onActivity: ActivityHook | undefined,
  ) {
    const addresses: Remote[] = [];
    if (ipv4 !== undefined) addresses.push(ipv4);
    if (ipv6 !== undefined) addresses.push(ipv6);
    this.addresses = Object.freeze(addresses) as Remote[];
  }

  /** The source address for a destination of the same family. */
  sourceFor(address: string): Remote | undefined {
    return isIpv6(address) ? this.ipv6 : this.ipv4;
  }
}

export function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** A dotted quad with each part in [0, 255], or undefined. */
export function normalizeIpv4(address: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts.join('.') : undefined;
}

/** IPv6 text (hex groups, '::', an embedded IPv4 tail), lowercased; not canonicalized further. */
export function normalizeIpv6(address: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':') || address.length > 45) return undefined;
  return address.toLowerCase();
}

/** Addresses for the nth automatically addressed host: 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32. */
export function autoAddresses(n: number): { ipv4: string; ipv6: string } {
  const v = n + 1;
  return { ipv4: `198.${18 + ((v >>> 16) & 1)}.${(v >>> 8) & 0xff}.${v & 0xff}`, ipv6: `2001:db8::${v.toString(16)}` };
}

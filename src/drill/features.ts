// What a script may ask for that stevens does not do (yet): one entry per feature, and the one error a script
// fails with when it reaches such a construct, "X is not supported yet (line N: construct)", never a parse
// error. `available` says whether the core has the feature; a script that declares `// @stevens requires=ID`
// fails with that line while the feature is missing, and runs as a real check once it is set. When the core
// gains a feature, set `available` here, then wire the constructs that name it (grep `unsupported('ID'`).

import { DrillError } from './errors.js';

export type FeatureKind = 'not-yet' | 'linux-only' | 'packetdrill-only';

const VERB: Record<FeatureKind, string> = { 'not-yet': 'is not supported yet', 'linux-only': 'is Linux-only', 'packetdrill-only': 'is packetdrill-only' };

export interface Feature {
  /** What the message calls it. */
  name: string;
  /** The core has it (scripts that require it run). */
  available: boolean;
  /** What the core needs for it, for the report and the README. */
  needs: string;
  /**
   * 'linux-only' / 'packetdrill-only': no stevens equivalent is planned (a Linux facility, or packetdrill's own
   * plumbing); they fail the same way, with a different word.
   */
  kind: FeatureKind;
}

const FEATURE_TABLE = {
  fastopen: {
    name: 'TCP Fast Open (RFC 7413)',
    available: false,
    needs: 'cookies, data in the SYN and SYN-ACK, a connect() that sends data (issue 19 item 4)',
    kind: 'not-yet',
  },
  prr: { name: 'Proportional Rate Reduction (RFC 6937)', available: false, needs: 'PRR in fast recovery (issue 19 item 2)', kind: 'not-yet' },
  quickack: {
    name: 'quick-ACK mode (an ACK for every segment at connection start)',
    available: false,
    needs: 'quick ACKs at connection start and after idle (issue 19 item 3), and TCP_QUICKACK',
    kind: 'not-yet',
  },
  'psh-per-write': {
    name: 'PSH on the last segment of every write',
    available: false,
    needs: 'PSH set on the segment that ends each write (issue 19 item 3)',
    kind: 'not-yet',
  },
  cork: { name: 'corking (TCP_CORK, MSG_MORE)', available: false, needs: 'holding partial segments until uncorked (a cork flag on Connection)', kind: 'not-yet' },
  'notsent-lowat': {
    name: 'TCP_NOTSENT_LOWAT',
    available: false,
    needs: 'a limit on unsent bytes for writability (Connection option and writable event)',
    kind: 'not-yet',
  },
  'socket-option-after-open': {
    name: 'changing this option on an open connection',
    available: false,
    needs: 'a per-connection setter for the option (userTimeoutMs, keepalive, buffer sizes and maxDatagramBytes are fixed when the connection is made)',
    kind: 'not-yet',
  },
  ecn: { name: 'ECN (RFC 3168, AccECN)', available: false, needs: 'ECN negotiation, ECT marks and their echo; UDP carries no IP ECN field today', kind: 'not-yet' },
  peek: { name: 'MSG_PEEK', available: false, needs: 'reading without consuming (a peek on Connection)', kind: 'not-yet' },
  urgent: { name: 'urgent data (MSG_OOB, SIOCATMARK)', available: false, needs: 'the urgent pointer (RFC 9293 3.8.5)', kind: 'not-yet' },
  'tcp-info-field': { name: 'this TCP_INFO field', available: false, needs: 'a stats() counter the field can be computed from', kind: 'not-yet' },
  'small-mss': { name: 'an MSS below 550 bytes', available: false, needs: 'maxDatagramBytes below 576', kind: 'not-yet' },
  md5: { name: 'a TCP MD5 signature (RFC 2385)', available: false, needs: 'nothing planned: stevens datagrams carry a CRC-32', kind: 'linux-only' },
  epoll: { name: 'epoll', available: false, needs: 'nothing: poll() is the portable equivalent', kind: 'linux-only' },
  'non-tcp-packet': { name: 'a UDP or ICMP packet from the script peer', available: false, needs: 'nothing: the script peer speaks TCP', kind: 'linux-only' },
  encapsulation: { name: 'tunnel encapsulation (IP-in-IP, GRE, MPLS)', available: false, needs: 'nothing: stevens segments travel in UDP', kind: 'linux-only' },
  'ip-field': { name: 'an IP header field (tos, flow label, ttl)', available: false, needs: 'nothing: stevens segments travel in UDP', kind: 'linux-only' },
  sysctl: { name: 'this sysctl', available: false, needs: 'nothing: stevens has no such setting', kind: 'linux-only' },
  shell: { name: 'a shell command', available: false, needs: 'nothing: scripts run in virtual time with no shell', kind: 'linux-only' },
  'linux-syscall': { name: 'this call', available: false, needs: 'nothing: it has no stevens equivalent', kind: 'linux-only' },
  'linux-option': { name: 'this socket option', available: false, needs: 'nothing: it has no stevens equivalent', kind: 'linux-only' },
  'packetdrill-option': { name: 'this packetdrill option', available: false, needs: 'nothing: it configures packetdrill itself', kind: 'packetdrill-only' },
} satisfies Record<string, Feature>;

export type FeatureId = keyof typeof FEATURE_TABLE;
export const FEATURES: Record<FeatureId, Feature> = FEATURE_TABLE;

export function isFeatureId(id: string): id is FeatureId {
  return Object.prototype.hasOwnProperty.call(FEATURES, id);
}

/** The one failure for a construct stevens cannot run: names the feature, the line and the construct. */
export class UnsupportedError extends DrillError {
  readonly feature: FeatureId;
  readonly construct: string;

  constructor(feature: FeatureId, line: number, construct: string, name?: string) {
    const f: Feature = FEATURES[feature];
    super(line, `${name ?? f.name} ${VERB[f.kind]} (line ${line}: ${construct})`);
    this.message = this.detail;
    this.feature = feature;
    this.construct = construct;
  }
}

/** Throws the UnsupportedError for `feature` (`name` overrides the feature's own name in the message). */
export function unsupported(feature: FeatureId, line: number, construct: string, name?: string): never {
  throw new UnsupportedError(feature, line, construct, name);
}

// The parsed form of a packetdrill-syntax script: what the parser produces and the runner consumes. Everything
// packetdrill's grammar can say has a place here, including what stevens cannot run yet (the runner names
// those constructs when it reaches them).

import type { FeatureId } from './features.js';

/** One end of a time window: absolute (seconds since script start) or relative to the previous event. */
export interface TimePoint {
  relative: boolean;
  ms: number;
}

export type TimeSpec =
  | { kind: 'point'; at: TimePoint }
  | { kind: 'range'; lo: TimePoint; hi: TimePoint }
  | { kind: 'any' };

/** A TCP option as written in a script; sequence-like values are still script-relative. */
export type OptionSpec =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: { left: number; right: number }[] }
  | { kind: 'ts'; value: number; echo: number }
  /** RFC 7413 Fast Open (`FO`, kind 34) or its experimental form (`FOEXP`, kind 254): a hex cookie, '' = a request. */
  | { kind: 'fastopen'; cookie: string; experimental: boolean }
  /** RFC 2385 MD5 signature, as hex. */
  | { kind: 'md5'; digest: string }
  /** The AccECN option (`ECN e0b N ceb N e1b N`), its counters in the order written. */
  | { kind: 'accecn'; fields: { name: string; value: number }[] };

/** The IP-level annotations of a packet line: `[ect0]`, `(tos 0x10)`, `[noecn, flowlabel 0x1]`, `[ttl 64]`. */
export interface IpInfo {
  ecn?: 'noecn' | 'ect0' | 'ect1' | 'ect01' | 'ce';
  tos?: number;
  flowLabel?: number;
  ttl?: number;
  /** As written, brackets included. */
  text: string;
}

export interface PacketEvent {
  kind: 'packet';
  /** '<' injected into the endpoint, '>' expected from it. */
  direction: 'in' | 'out';
  /** Control bits, as in the TCP header's flags byte. */
  flags: number;
  /** The flags as written (for messages about the ones stevens cannot express, e.g. AccECN's `A` or ACE digits). */
  flagsText: string;
  seq: number;
  end: number;
  length: number;
  /** Absent: not written (outbound: not checked; inbound: 0, as packetdrill, an ACK of the ISN itself). */
  ack?: number;
  /** Absent: not written (outbound: not checked; inbound: a default). */
  window?: number;
  /** `urg N`; absent: not written (outbound: not checked; inbound: 0). */
  urgentPointer?: number;
  /** Absent: no option list written; 'any': `<...>` (outbound only, not checked). */
  options?: OptionSpec[] | 'any';
  /** IP annotations; absent when none were written. */
  ip?: IpInfo;
  /** `SRC>DST` TCP ports written before the flags. */
  ports?: { src: number; dst: number };
  /** Tunnel prefixes (`ipv4 A > B:`, `gre:`, `mpls ...:`), as written. */
  encapsulation?: string;
}

/** A UDP or ICMP packet line: valid packetdrill, but the script's peer speaks only TCP to stevens. */
export interface OtherPacketEvent {
  kind: 'other-packet';
  direction: 'in' | 'out';
  protocol: 'udp' | 'icmp';
  text: string;
}

/** A syscall argument, kept as written; the runner interprets only what it needs. */
export type SyscallArg =
  | { kind: 'ellipsis' }
  | { kind: 'number'; value: number }
  | { kind: 'name'; name: string }
  /** A string; `truncated` for `"abc"...` (a prefix of the buffer). */
  | { kind: 'string'; value: string; truncated?: boolean }
  | { kind: 'list'; items: SyscallArg[] }
  /** `{a=1, b=2}` or `{..., 1000}`: fields in order; `index` for `msg_iov(1)=[...]`. */
  | { kind: 'struct'; fields: StructField[] }
  | { kind: 'call'; name: string; args: SyscallArg[] }
  | { kind: 'or'; terms: SyscallArg[] }
  /** `name = value` outside braces (`index`: `msg_iov(1) = ...`). */
  | { kind: 'assign'; name: string; index?: SyscallArg[]; value: SyscallArg };

export interface StructField {
  name?: string;
  index?: SyscallArg[];
  value: SyscallArg;
}

export interface SyscallEvent {
  kind: 'syscall';
  name: string;
  args: SyscallArg[];
  /** Expected return value. */
  result: number;
  /** Expected errno name when result is -1 (e.g. 'EAGAIN'); absent with -1: any errno. */
  errno?: string;
  /** The parenthesized note after the result, as written (e.g. 'Operation now in progress'). */
  note?: string;
  /**
   * `T...END name(...)`: a blocking call started at the line's time that returns at END (seconds, as ms). END is
   * relative to the same anchor as the start when the start is relative (`+0...0.2`), else absolute.
   */
  blockingUntilMs?: number;
}

/** The Python subset of `%{ }%` blocks (never evaluated as code; see python.ts). */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'const'; value: boolean | null }
  | { kind: 'ident'; name: string }
  /** `(a, b)` or `[a, b]`. */
  | { kind: 'tuple'; items: Expr[] }
  | { kind: 'unary'; op: UnaryOp; term: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  /** `a < b`, or a chain `a <= b < c` (each pair compared, as Python does). */
  | { kind: 'cmp'; ops: CmpOp[]; operands: Expr[] }
  | { kind: 'and'; terms: Expr[] }
  | { kind: 'or'; terms: Expr[] }
  | { kind: 'not'; term: Expr }
  | { kind: 'cond'; test: Expr; then: Expr; otherwise: Expr }
  | { kind: 'call'; name: string; args: Expr[] };

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'is' | 'is not';
export type UnaryOp = '-' | '+' | '~';
export type BinaryOp = '|' | '^' | '&' | '<<' | '>>' | '+' | '-' | '*' | '/' | '//' | '%' | '**';

/** `assert COND[, message]`: `text` is COND as written. */
export interface Assertion {
  kind: 'assert';
  /** Script line the statement is on. */
  line: number;
  text: string;
  expr: Expr;
}

/**
 * A statement of a `%{ }%` block. Names assigned persist into later blocks (packetdrill runs every block in one
 * Python program); print() shows its values under --verbose.
 */
export type CodeStatement = Assertion | { kind: 'assign'; line: number; name: string; expr: Expr } | { kind: 'print'; line: number; args: Expr[] };

export interface CodeEvent {
  kind: 'code';
  statements: CodeStatement[];
}

/** A backquoted shell command (packetdrill runs it with /bin/sh; stevens understands sysctl settings). */
export interface CommandEvent {
  kind: 'command';
  command: string;
}

export type ScriptEvent = PacketEvent | OtherPacketEvent | SyscallEvent | CodeEvent | CommandEvent;

export interface ScriptLine {
  /** 1-based line number where the statement starts (its time). */
  line: number;
  /** The statement's text (time included), whitespace collapsed, for messages. */
  text: string;
  time: TimeSpec;
  event: ScriptEvent;
}

/** `--name=value` at the top of a script (packetdrill's command-line options). */
export interface ScriptOption {
  line: number;
  name: string;
  value?: string;
}

export type DirectiveValue = number | boolean | string;

/** `// @stevens key=value ...` settings. */
export interface Directives {
  /** Endpoint option fixedIsn. */
  isn?: number;
  /** Added to every inbound sequence number (and outbound ack / SACK edges). */
  peerIsn: number;
  /** Endpoint option fixedTimestampOffset. */
  tsOffset: number;
  /** Timing tolerance for outbound packets, ms (overrides the runner's default). */
  toleranceMs?: number;
  /** Endpoint option seed. */
  seed: number;
  /** Endpoint / connection configuration overrides. */
  config: Record<string, DirectiveValue>;
  /** Features of features.ts the script needs (`requires=a,b`). */
  requires: FeatureId[];
  /** Script line of each directive key given (for messages). */
  lines: Record<string, number>;
}

export interface Script {
  directives: Directives;
  options: ScriptOption[];
  /** A command before the first event (packetdrill's init command), and one after the last (cleanup). */
  initCommand?: { line: number; command: string };
  cleanupCommand?: { line: number; command: string };
  lines: ScriptLine[];
}

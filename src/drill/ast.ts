// The parsed form of a packetdrill-syntax script: what the parser produces and the runner consumes.

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
  | { kind: 'ts'; value: number; echo: number };

export interface PacketEvent {
  kind: 'packet';
  /** '<' injected into the endpoint, '>' expected from it. */
  direction: 'in' | 'out';
  /** Control bits, as in the TCP header's flags byte. */
  flags: number;
  seq: number;
  end: number;
  length: number;
  /** Absent: not written (outbound: not checked). */
  ack?: number;
  /** Absent: not written (outbound: not checked; inbound: a default). */
  window?: number;
  /** Absent: no option list written; 'any': `<...>` (outbound only, not checked). */
  options?: OptionSpec[] | 'any';
}

/** A syscall argument, kept as written; the runner interprets only what it needs. */
export type SyscallArg =
  | { kind: 'ellipsis' }
  | { kind: 'number'; value: number }
  | { kind: 'name'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: SyscallArg[] }
  | { kind: 'struct'; fields: { name?: string; value: SyscallArg }[] }
  | { kind: 'call'; name: string; args: SyscallArg[] }
  | { kind: 'or'; terms: SyscallArg[] };

export interface SyscallEvent {
  kind: 'syscall';
  name: string;
  args: SyscallArg[];
  /** Expected return value. */
  result: number;
  /** Expected errno name when result is -1 (e.g. 'EAGAIN'). */
  errno?: string;
}

/** Restricted assertion language inside `%{ ... }%`. */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'ident'; name: string }
  | { kind: 'cmp'; op: CmpOp; left: Expr; right: Expr }
  | { kind: 'and'; terms: Expr[] }
  | { kind: 'or'; terms: Expr[] }
  | { kind: 'not'; term: Expr };

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface Assertion {
  /** Script line the assert statement is on. */
  line: number;
  text: string;
  expr: Expr;
}

export interface CodeEvent {
  kind: 'code';
  assertions: Assertion[];
}

export type ScriptEvent = PacketEvent | SyscallEvent | CodeEvent;

export interface ScriptLine {
  /** 1-based line number where the statement starts. */
  line: number;
  /** The statement's text (time included), whitespace collapsed, for messages. */
  text: string;
  time: TimeSpec;
  event: ScriptEvent;
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
  /** Script line of each directive key given (for messages). */
  lines: Record<string, number>;
}

export interface Script {
  directives: Directives;
  lines: ScriptLine[];
}

// The JSON-lines trace format: one TraceEvent (src/core/events.ts) per line, as JSON, in the order the core
// emitted them. A line may carry one extra field, "endpoint" (a label such as "client" or "server"), so one file
// can hold the events of several endpoints (connection ids are per endpoint). Numbers that JSON cannot hold
// (Infinity: an ssthresh not yet set) are written as null. Blank lines are ignored on reading.
//
//   {"type":"send","atMs":12.5,"connectionId":1,"seq":1000,"ack":1,"flags":24,"lengthBytes":1448,...,"endpoint":"client"}
import type { TraceEvent, TraceHook } from '../core/index.js';
import type { CaptureSink } from './pcapng.js';

export type TraceRecord = TraceEvent & { endpoint?: string };

export class TraceFormatError extends Error {
  readonly code = 'ETRACEFORMAT';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`trace line ${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

const TYPES = new Set(['state', 'send', 'receive', 'rto', 'retransmit', 'rtt', 'window', 'cwnd', 'drop']);

/** One trace line (no newline). */
export function traceLine(event: TraceEvent, endpoint?: string): string {
  return JSON.stringify(endpoint === undefined ? event : { ...event, endpoint });
}

/** Events as JSON lines (newline-terminated), optionally labelled with an endpoint. */
export function traceToJsonl(events: Iterable<TraceEvent>, endpoint?: string): string {
  let out = '';
  for (const ev of events) out += `${traceLine(ev, endpoint)}\n`;
  return out;
}

/**
 * A trace hook that writes JSON lines to a sink (a Writable, a function, ...): pass it as an Endpoint's `trace`.
 * `then` is called too, so an existing hook keeps working.
 */
export function jsonlTraceHook(sink: CaptureSink, endpoint?: string, then?: TraceHook): TraceHook {
  const encoder = new TextEncoder();
  return (event) => {
    const bytes = encoder.encode(`${traceLine(event, endpoint)}\n`);
    if (typeof sink === 'function') sink(bytes);
    else sink.write(bytes);
    then?.(event);
  };
}

/** Parses a JSON-lines trace; a line that is not a trace event raises a TraceFormatError naming the line. */
export function readTraceJsonl(text: string): TraceRecord[] {
  const out: TraceRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new TraceFormatError(`not JSON (${(err as Error).message})`, i + 1);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceFormatError('not a JSON object', i + 1);
    const v = value as Record<string, unknown>;
    if (typeof v.type !== 'string' || !TYPES.has(v.type)) throw new TraceFormatError(`unknown event type ${JSON.stringify(v.type)}`, i + 1);
    if (typeof v.atMs !== 'number' || !Number.isFinite(v.atMs)) throw new TraceFormatError('atMs must be a finite number', i + 1);
    if (v.type !== 'drop' && typeof v.connectionId !== 'number') throw new TraceFormatError('connectionId must be a number', i + 1);
    out.push(v as unknown as TraceRecord);
  }
  return out;
}

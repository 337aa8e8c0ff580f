// What `stevens plot` reads: a capture (pcapng or pcap; TCP view, UDP view or a raw tcpdump of stevens' UDP
// port) or a JSON-lines trace, told apart by their first bytes.
import { readCapture } from '../capture/read.js';
import { readTraceJsonl } from '../capture/trace.js';
import { plotInputFromCapture } from './from-capture.js';
import { plotInputFromTrace } from './from-trace.js';
import type { PlotInput } from './model.js';

export class PlotInputError extends Error {
  readonly code = 'EPLOTINPUT';
}

const CAPTURE_MAGICS = [0x0a0d0d0a, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];

export function loadPlotInput(bytes: Uint8Array): PlotInput {
  if (bytes.length >= 4) {
    const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    if (CAPTURE_MAGICS.includes(magic)) return plotInputFromCapture(readCapture(bytes));
  }
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (i < bytes.length && bytes[i] === 0x7b) return plotInputFromTrace(readTraceJsonl(new TextDecoder().decode(bytes)));
  throw new PlotInputError('not a capture (pcap, pcapng) nor a JSON-lines trace (one TraceEvent per line)');
}

/** The connection plotted by default: the one that carried the most data. */
export function defaultConnection(input: PlotInput): number {
  let best = 0;
  input.connections.forEach((c, i) => {
    if (c.dataBytes > input.connections[best]!.dataBytes) best = i;
  });
  return best + 1;
}

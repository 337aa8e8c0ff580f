// Packets rendered in the script's own syntax, with script-relative numbers, for messages and --verbose.

import type { OptionSpec } from './ast.js';
import { wire } from '../core/index.js';

const { ACK, flagsToString } = wire;

export type RenderedOption = OptionSpec | { kind: 'unknown'; code: number; data: Uint8Array };

/** A packet as the script would write it (relative numbers). */
export interface PacketView {
  direction: 'in' | 'out';
  flags: number;
  seq: number;
  length: number;
  ack?: number;
  window?: number;
  urgentPointer?: number;
  options?: RenderedOption[] | 'any';
}

export function renderOption(o: RenderedOption): string {
  switch (o.kind) {
    case 'eol':
    case 'nop':
    case 'sackOK':
      return o.kind;
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'ts':
      return `TS val ${o.value} ecr ${o.echo}`;
    case 'sack':
      return `sack ${o.blocks.map((b) => `${b.left}:${b.right}`).join(' ')}`;
    case 'fastopen':
      return `${o.experimental ? 'FOEXP' : 'FO'}${o.cookie ? ` ${o.cookie}` : ''}`;
    case 'md5':
      return `md5 ${o.digest}`;
    case 'accecn':
      return `ECN ${o.fields.map((f) => `${f.name} ${f.value}`).join(' ')}`;
    case 'unknown':
      return `option-${o.code}(${o.data.length} bytes)`;
  }
}

export function renderOptions(options: RenderedOption[] | 'any' | undefined): string {
  if (options === undefined) return '';
  if (options === 'any') return '<...>';
  return `<${options.map(renderOption).join(',')}>`;
}

export function renderFlags(flags: number): string {
  return flagsToString(flags) || '-';
}

export function renderPacket(p: PacketView): string {
  const parts = [p.direction === 'in' ? '<' : '>', renderFlags(p.flags), `${p.seq}:${(p.seq + p.length) >>> 0}(${p.length})`];
  if (p.ack !== undefined && p.flags & ACK) parts.push(`ack ${p.ack}`);
  if (p.window !== undefined) parts.push(`win ${p.window}`);
  if (p.urgentPointer) parts.push(`urg ${p.urgentPointer}`);
  if (p.options !== undefined && (p.options === 'any' || p.options.length > 0)) parts.push(renderOptions(p.options));
  return parts.join(' ');
}

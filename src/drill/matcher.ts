// Outbound matching: an expected script packet against an actual one (both script-relative). Flags, sequence
// range, ack, window and the option list (in order) must agree; `win` or `ack` left out and `<...>` are not
// checked. The first difference is reported.

import type { OptionSpec, PacketEvent } from './ast.js';
import { renderFlags, renderOption, renderOptions, type PacketView, type RenderedOption } from './render.js';

function sameOption(e: OptionSpec, a: RenderedOption): boolean {
  if (e.kind !== a.kind) return false;
  switch (e.kind) {
    case 'eol':
    case 'nop':
    case 'sackOK':
      return true;
    case 'mss':
      return a.kind === 'mss' && a.value === e.value;
    case 'wscale':
      return a.kind === 'wscale' && a.shift === e.shift;
    case 'ts':
      return a.kind === 'ts' && a.value === e.value >>> 0 && a.echo === e.echo >>> 0;
    case 'sack':
      return (
        a.kind === 'sack' &&
        a.blocks.length === e.blocks.length &&
        e.blocks.every((b, i) => a.blocks[i]!.left === b.left >>> 0 && a.blocks[i]!.right === b.right >>> 0)
      );
    case 'fastopen':
    case 'md5':
    case 'accecn':
      // The runner refuses these before matching (features.ts): stevens never sends them.
      return false;
  }
}

/** Returns a description of the first difference, or undefined when the packet matches. */
export function matchOutbound(expected: PacketEvent, actual: PacketView): string | undefined {
  if (expected.flags !== actual.flags) return `flags: expected ${renderFlags(expected.flags)}, actual ${renderFlags(actual.flags)}`;
  if (expected.seq >>> 0 !== actual.seq) return `seq: expected ${expected.seq}, actual ${actual.seq}`;
  if (expected.length !== actual.length) return `length: expected ${expected.length}, actual ${actual.length}`;
  if (expected.ack !== undefined && expected.ack >>> 0 !== actual.ack) return `ack: expected ${expected.ack}, actual ${actual.ack}`;
  if (expected.window !== undefined && expected.window !== actual.window) return `win: expected ${expected.window}, actual ${actual.window}`;
  if (expected.urgentPointer !== undefined && expected.urgentPointer !== (actual.urgentPointer ?? 0)) return `urg: expected ${expected.urgentPointer}, actual ${actual.urgentPointer ?? 0}`;
  if (expected.options === 'any') return undefined;
  const want = expected.options ?? [];
  let got = actual.options === undefined || actual.options === 'any' ? [] : actual.options;
  // Trailing EOL is padding unless the script spells it out.
  if (!want.some((o) => o.kind === 'eol')) {
    while (got.length > 0 && got[got.length - 1]!.kind === 'eol') got = got.slice(0, -1);
  }
  const n = Math.max(want.length, got.length);
  for (let i = 0; i < n; i++) {
    const e = want[i];
    const a = got[i];
    if (e !== undefined && a !== undefined && sameOption(e, a)) continue;
    const where = `option ${i + 1}`;
    const es = e === undefined ? '(none)' : renderOption(e);
    const as = a === undefined ? '(none)' : renderOption(a);
    return `options: ${where} expected ${es}, actual ${as} (expected ${renderOptions(want)}, actual ${renderOptions(got)})`;
  }
  return undefined;
}

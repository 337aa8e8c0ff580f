// TCP options (RFC 9293 3.1 and 3.2): kind, length, data, with EOL (0) and NOP (1) as the one-byte kinds.
// Two forms are kept: TcpOptions (what the core reads, segment.ts) and TcpOption[] (the exact wire layout, for tools
// and tests that compare layouts). The hot path (encodeTcpHeader, decodeTcpHeader) works on the structured form
// directly and never builds the list.
//
// Kinds and lengths handled here:
//   0 EOL (1 byte), 1 NOP (1 byte), 2 MSS (4, RFC 9293), 3 window scale (3, RFC 7323), 4 SACK-permitted (2, RFC 2018),
//   5 SACK (2 + 8n, n >= 1, RFC 2018), 8 timestamps (10, RFC 7323). Any other kind is skipped by its length.
import type { DecodeResult, SackBlock, TcpOptions } from './segment.js';

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMP = 8;

/** The option space: a data offset of 15 words leaves 60 - 20 bytes. */
export const MAX_OPTION_BYTES = 40;

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: SackBlock[] }
  | { kind: 'ts'; value: number; echo: number }
  | { kind: 'unknown'; code: number; data: Uint8Array };

// ---------------------------------------------------------------------------------------------------------------
// List form

function optionBytes(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackOK':
      return 2;
    case 'ts':
      return 10;
    case 'sack':
      if (o.blocks.length === 0) throw new RangeError('a SACK option needs at least one block');
      return 2 + 8 * o.blocks.length;
    case 'unknown':
      if (o.data.length > 253) throw new RangeError('option data longer than 253 bytes');
      return 2 + o.data.length;
  }
}

function put32(out: Uint8Array, p: number, v: number): void {
  out[p] = (v >>> 24) & 0xff;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
}

function get32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/**
 * Exactly the listed options in order, then zero (EOL) bytes up to a multiple of 4. Numbers are truncated to their
 * field width. Throws RangeError if the result would exceed 40 bytes, or for a SACK option with no blocks.
 */
export function encodeOptionList(list: TcpOption[]): Uint8Array {
  let len = 0;
  for (const o of list) len += optionBytes(o);
  const padded = (len + 3) & ~3;
  if (padded > MAX_OPTION_BYTES) throw new RangeError(`options take ${padded} bytes, more than ${MAX_OPTION_BYTES}`);
  const out = new Uint8Array(padded); // zero-filled: the padding is EOL
  let p = 0;
  for (const o of list) {
    switch (o.kind) {
      case 'eol':
        out[p++] = OPT_EOL;
        break;
      case 'nop':
        out[p++] = OPT_NOP;
        break;
      case 'mss':
        out[p] = OPT_MSS;
        out[p + 1] = 4;
        out[p + 2] = (o.value >>> 8) & 0xff;
        out[p + 3] = o.value & 0xff;
        p += 4;
        break;
      case 'wscale':
        out[p] = OPT_WSCALE;
        out[p + 1] = 3;
        out[p + 2] = o.shift & 0xff;
        p += 3;
        break;
      case 'sackOK':
        out[p] = OPT_SACK_PERMITTED;
        out[p + 1] = 2;
        p += 2;
        break;
      case 'ts':
        out[p] = OPT_TIMESTAMP;
        out[p + 1] = 10;
        put32(out, p + 2, o.value);
        put32(out, p + 6, o.echo);
        p += 10;
        break;
      case 'sack':
        out[p] = OPT_SACK;
        out[p + 1] = 2 + 8 * o.blocks.length;
        p += 2;
        for (const b of o.blocks) {
          put32(out, p, b.left);
          put32(out, p + 4, b.right);
          p += 8;
        }
        break;
      case 'unknown':
        out[p] = o.code & 0xff;
        out[p + 1] = 2 + o.data.length;
        out.set(o.data, p + 2);
        p += 2 + o.data.length;
        break;
    }
  }
  return out;
}

/** Whether a known kind has a length it may not have (unknown kinds accept any length >= 2). */
function badKnownLength(kind: number, len: number): boolean {
  switch (kind) {
    case OPT_MSS:
      return len !== 4;
    case OPT_WSCALE:
      return len !== 3;
    case OPT_SACK_PERMITTED:
      return len !== 2;
    case OPT_TIMESTAMP:
      return len !== 10;
    case OPT_SACK:
      return len < 10 || ((len - 2) & 7) !== 0;
    default:
      return false;
  }
}

/**
 * The options exactly as laid out on the wire, in order. An EOL is reported and ends the list (whatever follows it,
 * normally zero padding, is not). Unknown kinds are reported as 'unknown' with a view of their data (not a copy).
 * A length byte below 2, an option running past the end, or a known kind with the wrong length gives
 * 'bad-option-length'. Never throws.
 */
export function decodeOptionList(bytes: Uint8Array): DecodeResult<TcpOption[]> {
  const list: TcpOption[] = [];
  const end = bytes.length;
  let i = 0;
  while (i < end) {
    const kind = bytes[i];
    if (kind === OPT_EOL) {
      list.push({ kind: 'eol' });
      break;
    }
    if (kind === OPT_NOP) {
      list.push({ kind: 'nop' });
      i++;
      continue;
    }
    if (i + 1 >= end) return { ok: false, reason: 'bad-option-length' };
    const len = bytes[i + 1];
    if (len < 2 || i + len > end || badKnownLength(kind, len)) return { ok: false, reason: 'bad-option-length' };
    switch (kind) {
      case OPT_MSS:
        list.push({ kind: 'mss', value: (bytes[i + 2] << 8) | bytes[i + 3] });
        break;
      case OPT_WSCALE:
        list.push({ kind: 'wscale', shift: bytes[i + 2] });
        break;
      case OPT_SACK_PERMITTED:
        list.push({ kind: 'sackOK' });
        break;
      case OPT_TIMESTAMP:
        list.push({ kind: 'ts', value: get32(bytes, i + 2), echo: get32(bytes, i + 6) });
        break;
      case OPT_SACK: {
        const blocks: SackBlock[] = [];
        for (let p = i + 2; p < i + len; p += 8) blocks.push({ left: get32(bytes, p), right: get32(bytes, p + 4) });
        list.push({ kind: 'sack', blocks });
        break;
      }
      default:
        list.push({ kind: 'unknown', code: kind, data: bytes.subarray(i + 2, i + len) });
    }
    i += len;
  }
  return { ok: true, value: list };
}

/**
 * The structured form of a list, read as a receiver would: entries after an EOL are ignored, NOP and unknown
 * options are ignored, a repeated option overrides the earlier one, and the blocks of all SACK options are collected
 * in order. For any list L that encodes, decoding encodeOptionList(L) in a header gives optionsFromList(L).
 */
export function optionsFromList(list: TcpOption[]): TcpOptions {
  const opts: TcpOptions = {};
  for (const o of list) {
    if (o.kind === 'eol') break;
    switch (o.kind) {
      case 'mss':
        opts.mss = o.value;
        break;
      case 'wscale':
        opts.windowScale = o.shift;
        break;
      case 'sackOK':
        opts.sackPermitted = true;
        break;
      case 'ts':
        opts.timestamp = { value: o.value, echo: o.echo };
        break;
      case 'sack':
        if (opts.sack === undefined) opts.sack = [];
        for (const b of o.blocks) opts.sack.push({ left: b.left, right: b.right });
        break;
      default:
        break;
    }
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical layout (what the core sends): the same as Linux.
//
//   SYN / SYN-ACK, with every option:  mss, sackOK, ts, nop, wscale           (4 + 12 + 4 = 20 bytes)
//                  sackOK without ts:  mss, nop, nop, sackOK, nop, wscale     (12)
//                  ts without sackOK:  mss, nop, nop, ts, nop, wscale         (20)
//                  neither:            mss, nop, wscale                       (8)
//   Each part is left out when its option is absent (no wscale: no `nop, wscale`; no mss: no `mss`).
//   Other segments: nop, nop, ts (12) if a timestamp is present, then nop, nop, sack (4 + 8n) if SACK blocks are.
//   MSS, window scale and SACK-permitted go only on SYNs; SACK blocks only on non-SYNs. An empty sack array is absent.
// Every part is a multiple of 4 bytes, so the layout needs no padding.

/** The canonical layout as a list (allocates; for tools and tests, the encoder writes the same bytes directly). */
export function canonicalOptionList(opts: TcpOptions, syn: boolean): TcpOption[] {
  const list: TcpOption[] = [];
  const ts = opts.timestamp;
  if (syn) {
    if (opts.mss !== undefined) list.push({ kind: 'mss', value: opts.mss });
    if (opts.sackPermitted === true) {
      if (ts !== undefined) list.push({ kind: 'sackOK' }, { kind: 'ts', value: ts.value, echo: ts.echo });
      else list.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sackOK' });
    } else if (ts !== undefined) {
      list.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', value: ts.value, echo: ts.echo });
    }
    if (opts.windowScale !== undefined) list.push({ kind: 'nop' }, { kind: 'wscale', shift: opts.windowScale });
  } else {
    if (ts !== undefined) list.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', value: ts.value, echo: ts.echo });
    const sack = opts.sack;
    if (sack !== undefined && sack.length > 0) {
      list.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: sack.map((b) => ({ left: b.left, right: b.right })) });
    }
  }
  return list;
}

/**
 * Bytes the canonical layout takes (always a multiple of 4). Does not allocate. May exceed 40 when given more SACK
 * blocks than fit (see maxSackBlocks); encoding such options throws.
 */
export function optionsLength(opts: TcpOptions, syn: boolean): number {
  const hasTs = opts.timestamp !== undefined;
  if (syn) {
    let n = opts.mss !== undefined ? 4 : 0;
    if (opts.sackPermitted === true) n += hasTs ? 12 : 4;
    else if (hasTs) n += 12;
    if (opts.windowScale !== undefined) n += 4;
    return n;
  }
  return synchronizedOptionsLength(hasTs, opts.sack?.length ?? 0);
}

/**
 * How many SACK blocks fit in the option space next to the other options of a non-SYN segment: 4 without
 * timestamps (4 + 32 = 36 bytes), 3 with them (12 + 4 + 24 = 40). Takes the options or just "are timestamps on".
 */
export function maxSackBlocks(opts: Pick<TcpOptions, 'timestamp'> | boolean): number {
  const hasTs = typeof opts === 'boolean' ? opts : opts.timestamp !== undefined;
  return hasTs ? 3 : 4;
}

/**
 * Writes the canonical layout at out[p..] and returns the position after it. The caller has checked the room
 * (optionsLength). Numbers are truncated to their field width.
 */
export function writeCanonicalOptions(opts: TcpOptions, syn: boolean, out: Uint8Array, p: number): number {
  const ts = opts.timestamp;
  if (syn) {
    const mss = opts.mss;
    if (mss !== undefined) {
      out[p] = OPT_MSS;
      out[p + 1] = 4;
      out[p + 2] = (mss >>> 8) & 0xff;
      out[p + 3] = mss & 0xff;
      p += 4;
    }
    if (opts.sackPermitted === true) {
      if (ts !== undefined) {
        out[p] = OPT_SACK_PERMITTED;
        out[p + 1] = 2;
        p = writeTimestamp(out, p + 2, ts.value, ts.echo);
      } else {
        out[p] = OPT_NOP;
        out[p + 1] = OPT_NOP;
        out[p + 2] = OPT_SACK_PERMITTED;
        out[p + 3] = 2;
        p += 4;
      }
    } else if (ts !== undefined) {
      out[p] = OPT_NOP;
      out[p + 1] = OPT_NOP;
      p = writeTimestamp(out, p + 2, ts.value, ts.echo);
    }
    const ws = opts.windowScale;
    if (ws !== undefined) {
      out[p] = OPT_NOP;
      out[p + 1] = OPT_WSCALE;
      out[p + 2] = 3;
      out[p + 3] = ws & 0xff;
      p += 4;
    }
    return p;
  }
  return ts !== undefined ? writeSynchronizedOptions(out, p, true, ts.value, ts.echo, opts.sack) : writeSynchronizedOptions(out, p, false, 0, 0, opts.sack);
}

/** Bytes writeSynchronizedOptions takes: NOP NOP TS (12), then NOP NOP SACK (4 + 8 per block). */
export function synchronizedOptionsLength(hasTs: boolean, sackBlocks: number): number {
  return (hasTs ? 12 : 0) + (sackBlocks > 0 ? 4 + 8 * sackBlocks : 0);
}

/**
 * The canonical options of a non-SYN segment from plain values (the send path builds no options object):
 * timestamps, then SACK blocks. Returns the position after them.
 */
export function writeSynchronizedOptions(out: Uint8Array, p: number, hasTs: boolean, tsValue: number, tsEcho: number, sack: readonly SackBlock[] | undefined): number {
  if (hasTs) {
    out[p] = OPT_NOP;
    out[p + 1] = OPT_NOP;
    p = writeTimestamp(out, p + 2, tsValue, tsEcho);
  }
  if (sack !== undefined && sack.length > 0) {
    out[p] = OPT_NOP;
    out[p + 1] = OPT_NOP;
    out[p + 2] = OPT_SACK;
    out[p + 3] = 2 + 8 * sack.length;
    p += 4;
    for (let k = 0; k < sack.length; k++) {
      const b = sack[k];
      put32(out, p, b.left);
      put32(out, p + 4, b.right);
      p += 8;
    }
  }
  return p;
}

function writeTimestamp(out: Uint8Array, p: number, value: number, echo: number): number {
  out[p] = OPT_TIMESTAMP;
  out[p + 1] = 10;
  put32(out, p + 2, value);
  put32(out, p + 6, echo);
  return p + 10;
}

/**
 * The hot-path decoder: reads bytes[start, end) straight into a TcpOptions (only the fields present are set).
 * Returns null on a length error (the only way options fail: 'bad-option-length'). Same rules as decodeOptionList.
 */
export function parseOptions(bytes: Uint8Array, start: number, end: number): TcpOptions | null {
  const opts: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = bytes[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return null;
    const len = bytes[i + 1];
    if (len < 2 || i + len > end) return null;
    switch (kind) {
      case OPT_MSS:
        if (len !== 4) return null;
        opts.mss = (bytes[i + 2] << 8) | bytes[i + 3];
        break;
      case OPT_WSCALE:
        if (len !== 3) return null;
        opts.windowScale = bytes[i + 2];
        break;
      case OPT_SACK_PERMITTED:
        if (len !== 2) return null;
        opts.sackPermitted = true;
        break;
      case OPT_TIMESTAMP:
        if (len !== 10) return null;
        opts.timestamp = { value: get32(bytes, i + 2), echo: get32(bytes, i + 6) };
        break;
      case OPT_SACK: {
        if (len < 10 || ((len - 2) & 7) !== 0) return null;
        let blocks = opts.sack;
        if (blocks === undefined) opts.sack = blocks = [];
        for (let p = i + 2; p < i + len; p += 8) blocks.push({ left: get32(bytes, p), right: get32(bytes, p + 4) });
        break;
      }
      default:
        break;
    }
    i += len;
  }
  return opts;
}

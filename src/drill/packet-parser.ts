// Packet lines: `< FLAGS SEQ:END(LEN) [ack N] [win N] [<options>]` (inbound) and the same with `>` (outbound).

import type { OptionSpec, PacketEvent } from './ast.js';
import { DrillError } from './errors.js';
import { wire } from '../core/index.js';

const { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } = wire;

const FLAG_BITS: Record<string, number> = { S: SYN, F: FIN, R: RST, P: PSH, U: URG, E: ECE, W: CWR, '.': ACK };

export function parseFlags(line: number, word: string): number {
  let flags = 0;
  for (const ch of word) {
    const bit = FLAG_BITS[ch];
    if (bit === undefined) throw new DrillError(line, `bad TCP flags '${word}' (letters S F R P U E W and '.' for ACK)`);
    if (flags & bit) throw new DrillError(line, `flag '${ch}' repeated in '${word}'`);
    flags |= bit;
  }
  return flags;
}

function parseNumber(line: number, word: string, what: string, max = 0xffffffff): number {
  let v: number;
  if (/^\d+$/.test(word)) v = Number(word);
  else if (/^0x[0-9a-f]+$/i.test(word)) v = Number.parseInt(word.slice(2), 16);
  else throw new DrillError(line, `bad ${what} '${word}': expected a non-negative integer`);
  if (v > max) throw new DrillError(line, `${what} ${word} out of range (max ${max})`);
  return v;
}

function parseOption(line: number, item: string): OptionSpec {
  const words = item.split(/\s+/).filter((w) => w !== '');
  const [name, ...args] = words;
  const want = (n: number) => {
    if (args.length !== n) throw new DrillError(line, `option '${item}': expected ${n} argument(s)`);
  };
  switch (name) {
    case 'nop':
      want(0);
      return { kind: 'nop' };
    case 'eol':
      want(0);
      return { kind: 'eol' };
    case 'sackOK':
      want(0);
      return { kind: 'sackOK' };
    case 'mss':
      want(1);
      return { kind: 'mss', value: parseNumber(line, args[0]!, 'mss', 0xffff) };
    case 'wscale':
      want(1);
      return { kind: 'wscale', shift: parseNumber(line, args[0]!, 'wscale', 0xff) };
    case 'TS': {
      if (args.length !== 4 || args[0] !== 'val' || args[2] !== 'ecr') throw new DrillError(line, `option '${item}': expected 'TS val N ecr N'`);
      return { kind: 'ts', value: parseNumber(line, args[1]!, 'TS val'), echo: parseNumber(line, args[3]!, 'TS ecr') };
    }
    case 'sack': {
      if (args.length === 0) throw new DrillError(line, `option '${item}': expected one or more blocks 'left:right'`);
      const blocks = args.map((b) => {
        const m = /^(\w+):(\w+)$/.exec(b);
        if (!m) throw new DrillError(line, `bad SACK block '${b}': expected left:right`);
        return { left: parseNumber(line, m[1]!, 'SACK edge'), right: parseNumber(line, m[2]!, 'SACK edge') };
      });
      return { kind: 'sack', blocks };
    }
    default:
      throw new DrillError(line, `unsupported TCP option '${item}' (supported: mss, sackOK, nop, eol, wscale, TS val/ecr, sack)`);
  }
}

function parseOptions(line: number, body: string, direction: 'in' | 'out'): OptionSpec[] | 'any' {
  const trimmed = body.trim();
  if (trimmed === '...') {
    if (direction === 'in') throw new DrillError(line, "'<...>' (unchecked options) only makes sense on outbound packets");
    return 'any';
  }
  if (trimmed === '') return [];
  return trimmed.split(',').map((item) => {
    const t = item.trim();
    if (t === '') throw new DrillError(line, 'empty item in option list');
    if (t === '...') throw new DrillError(line, "'...' must be the whole option list");
    return parseOption(line, t);
  });
}

/** Parses the part of a packet statement after the time column. */
export function parsePacket(line: number, text: string): PacketEvent {
  const src = text.replace(/\s+/g, ' ').trim();
  const m = /^([<>]) (\S+) (\w+):(\w+)\((\w+)\)(.*)$/.exec(src);
  if (!m) throw new DrillError(line, `bad packet '${src}': expected '< FLAGS SEQ:END(LEN) ...' or '> FLAGS SEQ:END(LEN) ...'`);
  const direction = m[1] === '<' ? 'in' : 'out';
  const flags = parseFlags(line, m[2]!);
  const seq = parseNumber(line, m[3]!, 'sequence number');
  const end = parseNumber(line, m[4]!, 'end sequence number');
  const length = parseNumber(line, m[5]!, 'length', 0xffff);
  if (((end - seq) >>> 0) !== length) throw new DrillError(line, `sequence range ${seq}:${end} does not match length (${length})`);
  const event: PacketEvent = { kind: 'packet', direction, flags, seq, end, length };
  let rest = m[6]!.trim();
  while (rest !== '') {
    const kw = /^(ack|win) (\S+)\s*/.exec(rest);
    if (kw) {
      const key = kw[1] as 'ack' | 'win';
      if (key === 'ack') {
        if (event.ack !== undefined) throw new DrillError(line, "'ack' given twice");
        event.ack = parseNumber(line, kw[2]!, 'ack');
      } else {
        if (event.window !== undefined) throw new DrillError(line, "'win' given twice");
        event.window = parseNumber(line, kw[2]!, 'window', 0xffff);
      }
      rest = rest.slice(kw[0].length);
      continue;
    }
    if (rest.startsWith('<')) {
      if (!rest.endsWith('>')) throw new DrillError(line, `option list must end the line with '>': '${rest}'`);
      event.options = parseOptions(line, rest.slice(1, -1), direction);
      break;
    }
    const word = rest.split(' ')[0];
    throw new DrillError(line, `unsupported packet field '${word}' in '${src}' (supported: ack N, win N, <options>)`);
  }
  if (direction === 'in' && event.flags & ACK && event.ack === undefined) {
    throw new DrillError(line, "inbound packet with the ACK flag ('.') needs 'ack N'");
  }
  return event;
}

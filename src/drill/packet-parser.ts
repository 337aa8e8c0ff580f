// Packet lines, as packetdrill's grammar has them:
//   < [ip-info] [tunnel:] [SRC>DST] FLAGS SEQ:END(LEN) [ack N] [win N] [urg N] [<options>]
// (and `>` for outbound), where ip-info is `[ect0]`, `(tos 0x10)`, `[noecn, flowlabel 0x5]`, `[ttl 64]`; plus
// `< udp (N)` and `< icmp TYPE [CODE] ...` lines, which parse but which the TCP-only script peer cannot send.

import type { IpInfo, OptionSpec, OtherPacketEvent, PacketEvent } from './ast.js';
import { DrillError } from './errors.js';
import { show } from './lexer.js';
import type { TokenStream } from './tokens.js';
import { wire } from '../core/index.js';

const { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } = wire;

const FLAG_BITS: Record<string, number> = { S: SYN, F: FIN, R: RST, P: PSH, U: URG, E: ECE, W: CWR, '.': ACK };
/** AccECN's AE flag and ACE counter digits: valid packetdrill, kept in flagsText for the runner to refuse. */
const ACCECN_FLAG_CHARS = 'A01234567';

export function parseFlags(line: number, word: string): number {
  let flags = 0;
  const seen = new Set<string>();
  for (const ch of word) {
    if (seen.has(ch)) throw new DrillError(line, `flag '${ch}' repeated in '${word}'`);
    seen.add(ch);
    if (ACCECN_FLAG_CHARS.includes(ch)) continue;
    const bit = FLAG_BITS[ch];
    if (bit === undefined) throw new DrillError(line, `bad TCP flags '${word}' (letters S F R P U E W A, '.' for ACK, '-' for none)`);
    flags |= bit;
  }
  return flags;
}

const ECN_WORDS = new Set(['noecn', 'ect0', 'ect1', 'ect01', 'ce']);

/** `[...]` or `(...)` right after the direction. */
function parseIpInfo(ts: TokenStream, close: string): IpInfo {
  const open = ts.next()!;
  const info: IpInfo = { text: '' };
  for (;;) {
    const t = ts.peek();
    if (t?.t !== 'word') ts.fail(`IP annotation: expected ect0, ect1, ect01, ce, noecn, tos N, flowlabel N or ttl N, got '${show(t)}'`);
    ts.next();
    if (ECN_WORDS.has(t.text)) info.ecn = t.text as IpInfo['ecn'];
    else if (t.text === 'tos') info.tos = ts.expectUint('tos', 0xff);
    else if (t.text === 'flowlabel') info.flowLabel = ts.expectUint('flowlabel', 0xfffff);
    else if (t.text === 'ttl') info.ttl = ts.expectUint('ttl', 0xff);
    else throw new DrillError(t.line, `unknown IP annotation '${t.text}' (ect0, ect1, ect01, ce, noecn, tos N, flowlabel N, ttl N)`);
    if (ts.takeChar(',')) continue;
    const end = ts.expectChar(close, 'IP annotation');
    info.text = ts.tokens
      .slice(ts.tokens.indexOf(open), ts.tokens.indexOf(end) + 1)
      .map((x) => x.text)
      .join(' ')
      .replace(/\s*,/g, ',')
      .replace(/([[(])\s+/, '$1')
      .replace(/\s+([\])])$/, '$1');
    return info;
  }
}

/** A hex blob (FO cookie, md5 digest): a word or number token, or nothing. */
function optionalBlob(ts: TokenStream): string {
  const t = ts.peek();
  if (t && (t.t === 'word' || t.t === 'int') && !/^(ecr|val)$/.test(t.text)) {
    ts.next();
    return t.text;
  }
  return '';
}

function parseOption(ts: TokenStream): OptionSpec {
  const t = ts.peek();
  if (t?.t === 'ellipsis') throw new DrillError(t.line, "'...' must be the whole option list");
  if (t?.t !== 'word') ts.fail(`TCP option: expected a name, got '${show(t)}'`);
  ts.next();
  switch (t.text) {
    case 'nop':
      return { kind: 'nop' };
    case 'eol':
      return { kind: 'eol' };
    case 'sackOK':
      return { kind: 'sackOK' };
    case 'mss':
      return { kind: 'mss', value: ts.expectUint('mss', 0xffff) };
    case 'wscale':
      return { kind: 'wscale', shift: ts.expectUint('wscale', 0xff) };
    case 'TS': {
      if (!ts.isWord('val')) ts.fail("option 'TS': expected 'TS val N ecr N'");
      ts.next();
      const value = ts.expectUint('TS val');
      if (!ts.isWord('ecr')) ts.fail("option 'TS': expected 'TS val N ecr N'");
      ts.next();
      return { kind: 'ts', value, echo: ts.expectUint('TS ecr') };
    }
    case 'sack': {
      const blocks: { left: number; right: number }[] = [];
      while (ts.peek()?.t === 'int') {
        const left = ts.expectUint('SACK edge');
        ts.expectChar(':', 'SACK block');
        blocks.push({ left, right: ts.expectUint('SACK edge') });
      }
      if (blocks.length === 0) ts.fail("option 'sack': expected one or more blocks 'left:right'");
      return { kind: 'sack', blocks };
    }
    case 'FO':
    case 'FOEXP': {
      // Kept as written: a hex cookie, or a --define name packetdrill's command line would give.
      const cookie = optionalBlob(ts);
      return { kind: 'fastopen', cookie, experimental: t.text === 'FOEXP' };
    }
    case 'md5': {
      const digest = optionalBlob(ts);
      if (digest === '') ts.fail("option 'md5': expected a hex digest");
      return { kind: 'md5', digest };
    }
    case 'ECN': {
      const fields: { name: string; value: number }[] = [];
      while (ts.isWord('e0b') || ts.isWord('e1b') || ts.isWord('ceb')) {
        const name = ts.next()!.text;
        fields.push({ name, value: ts.expectUint(`ECN ${name}`, 0xffffff) });
      }
      if (fields.length === 0) ts.fail("option 'ECN': expected e0b N, e1b N or ceb N");
      return { kind: 'accecn', fields };
    }
    default: {
      // Show the whole item, as written, up to the next ',' or '>'.
      const words = [t.text];
      while (!ts.atEnd() && !ts.isChar(',') && !ts.isChar('>')) words.push(ts.next()!.text);
      throw new DrillError(t.line, `unsupported TCP option '${words.join(' ')}' (packetdrill's are mss, sackOK, nop, eol, wscale, TS val/ecr, sack, FO, FOEXP, md5, ECN)`);
    }
  }
}

function parseOptions(ts: TokenStream, direction: 'in' | 'out'): OptionSpec[] | 'any' {
  const open = ts.next()!; // '<'
  if (ts.peek()?.t === 'ellipsis' && ts.isChar('>', 1)) {
    if (direction === 'in') throw new DrillError(open.line, "'<...>' (unchecked options) only makes sense on outbound packets");
    ts.pos += 2;
    return 'any';
  }
  const out: OptionSpec[] = [];
  if (ts.takeChar('>')) return out;
  for (;;) {
    if (ts.isChar(',')) ts.fail('empty item in option list');
    out.push(parseOption(ts));
    if (ts.takeChar(',')) continue;
    if (ts.takeChar('>')) return out;
    if (ts.atEnd()) throw new DrillError(open.line, "option list not closed with '>'");
    ts.fail(`option list: expected ',' or '>', got '${show(ts.peek())}'`);
  }
}

const TUNNEL_WORDS = new Set(['ipv4', 'ipv6', 'gre', 'GREv0', 'mpls']);

/** `udp (N)` and `icmp ...` lines: parsed so the script reads, refused when run. */
function parseOtherPacket(ts: TokenStream, direction: 'in' | 'out', startIndex: number): OtherPacketEvent {
  const protocol = ts.next()!.text as 'udp' | 'icmp';
  if (protocol === 'udp') {
    ts.expectChar('(', 'udp packet');
    ts.expectUint('UDP payload size', 0xffff);
    ts.expectChar(')', 'udp packet');
  } else {
    ts.expectWord('icmp packet'); // type
    if (ts.isWord() && !ts.isWord('mtu') && !ts.isWord('id')) ts.next(); // code
    if (ts.takeWord('mtu')) ts.expectUint('mtu');
    if (ts.takeWord('id')) ts.expectUint('id');
    if (ts.takeChar('[')) {
      let depth = 1;
      while (depth > 0) {
        const t = ts.next();
        if (!t) ts.fail("icmp packet: '[' not closed");
        if (t.t === 'char' && t.text === '[') depth++;
        if (t.t === 'char' && t.text === ']') depth--;
      }
    }
  }
  const text = ts.tokens
    .slice(startIndex, ts.pos)
    .map((t) => t.text)
    .join(' ');
  return { kind: 'other-packet', direction, protocol, text };
}

/** Parses a packet at the stream's position (its direction token next). */
export function parsePacket(ts: TokenStream): PacketEvent | OtherPacketEvent {
  const startIndex = ts.pos;
  const dirTok = ts.next()!;
  const line = dirTok.line;
  const direction = dirTok.text === '<' ? 'in' : 'out';
  let ip: IpInfo | undefined;
  let encapsulation: string | undefined;
  for (;;) {
    if (ts.isChar('[') || ts.isChar('(')) {
      ip = parseIpInfo(ts, ts.isChar('[') ? ']' : ')');
      continue;
    }
    if (ts.isWord() && TUNNEL_WORDS.has(ts.peek()!.text)) {
      const from = ts.pos;
      while (!ts.atEnd() && !ts.isChar(':')) ts.next();
      const text = ts.tokens
        .slice(from, ts.pos)
        .map((t) => t.text)
        .join(' ');
      ts.expectChar(':', 'tunnel prefix');
      encapsulation = encapsulation === undefined ? text : `${encapsulation} ${text}`;
      continue;
    }
    break;
  }
  if (ts.isWord('udp') || ts.isWord('icmp')) return parseOtherPacket(ts, direction, startIndex);
  let ports: { src: number; dst: number } | undefined;
  if (ts.peek()?.t === 'int' && ts.isChar('>', 1)) {
    const src = ts.expectUint('source port', 0xffff);
    ts.next();
    ports = { src, dst: ts.expectUint('destination port', 0xffff) };
  }
  // Flags: a word with an optional '.', a lone '.', '-' for none, or AccECN's `.N` ACE counter.
  let flagsText = '';
  const f = ts.peek();
  if (f?.t === 'word') {
    ts.next();
    flagsText = f.text;
    if (ts.takeChar('.')) flagsText += '.';
    else if (ts.peek()?.t === 'float' && ts.peek()!.text.startsWith('.')) flagsText += ts.next()!.text;
  } else if (f?.t === 'char' && f.text === '.') {
    ts.next();
    flagsText = '.';
  } else if (f?.t === 'char' && f.text === '-') {
    ts.next();
  } else if (f?.t === 'float' && f.text.startsWith('.')) {
    ts.next();
    flagsText = f.text;
  } else {
    throw new DrillError(line, `bad packet: expected TCP flags after '${dirTok.text}', got '${show(f)}' (a packet is '< FLAGS SEQ:END(LEN) ...')`);
  }
  const flags = parseFlags(line, flagsText);
  if (ts.peek()?.t !== 'int' || !ts.isChar(':', 1)) {
    throw new DrillError(line, `bad packet: expected SEQ:END(LEN) after the flags, got '${show(ts.peek())}'`);
  }
  const seq = ts.expectUint('sequence number');
  ts.next();
  const end = ts.expectUint('end sequence number');
  ts.expectChar('(', 'bad packet: SEQ:END(LEN)');
  const length = ts.expectUint('length', 0xffff);
  ts.expectChar(')', 'bad packet: SEQ:END(LEN)');
  if (((end - seq) >>> 0) !== length) throw new DrillError(line, `sequence range ${seq}:${end} does not match length (${length})`);
  const event: PacketEvent = { kind: 'packet', direction, flags, flagsText, seq, end, length };
  if (ip) event.ip = ip;
  if (ports) event.ports = ports;
  if (encapsulation !== undefined) event.encapsulation = encapsulation;
  for (;;) {
    if (ts.isWord('ack')) {
      ts.next();
      if (event.ack !== undefined) throw new DrillError(line, "'ack' given twice");
      event.ack = ts.expectUint('ack');
    } else if (ts.isWord('win')) {
      ts.next();
      if (event.window !== undefined) throw new DrillError(line, "'win' given twice");
      event.window = ts.expectUint('window', 0xffff);
    } else if (ts.isWord('urg')) {
      ts.next();
      if (event.urgentPointer !== undefined) throw new DrillError(line, "'urg' given twice");
      event.urgentPointer = ts.expectUint('urgent pointer', 0xffff);
    } else break;
  }
  if (ts.isChar('<')) event.options = parseOptions(ts, direction);
  return event;
}

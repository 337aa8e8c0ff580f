// Unit tests of the drill script parser: packetdrill's grammar (time column, blocking windows, packets with IP
// annotations and every TCP option, syscall arguments of every shape, %{ }% Python, options, commands),
// comments and directives, and error messages (each names its line).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript } from '../src/drill/parser.js';
import { lex } from '../src/drill/lexer.js';
import type { CodeEvent, OtherPacketEvent, PacketEvent, ScriptEvent, SyscallEvent } from '../src/drill/ast.js';
import { wire } from '../src/core/index.js';

const { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } = wire;

function only(src: string): { time: unknown; event: ScriptEvent; line: number; text: string } {
  const s = parseScript(src);
  assert.equal(s.lines.length, 1);
  return s.lines[0]!;
}

const packet = (src: string) => only(`0 ${src}`).event as PacketEvent;
const syscall = (src: string) => only(`0 ${src}`).event as SyscallEvent;
const code = (src: string) => (only(`0 %{ ${src} }%`).event as CodeEvent).statements;

function throwsAt(src: string, line: number, pattern: RegExp): void {
  assert.throws(
    () => parseScript(src),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, new RegExp(`^line ${line}: `));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('lexer', () => {
  it('cuts tokens as packetdrill does: longest match, numbers, words, addresses, code, commands', () => {
    const kinds = (src: string) => lex(src).tokens.map((t) => `${t.t}:${t.text}`);
    assert.deepEqual(kinds('+0...0.200 read'), ['char:+', 'int:0', 'ellipsis:...', 'float:0.200', 'word:read']);
    assert.deepEqual(kinds('1:1001(1000)'), ['int:1', 'char::', 'int:1001', 'char:(', 'int:1000', 'char:)']);
    assert.deepEqual(kinds('0x1f 0xg S. .5 -1'), ['int:0x1f', 'word:0xg', 'word:S', 'char:.', 'float:.5', 'int:-1']);
    assert.deepEqual(kinds('192.0.2.1 fd::1 --tolerance_usecs'), ['ipv4:192.0.2.1', 'ipv6:fd::1', 'option:--tolerance_usecs']);
    assert.deepEqual(kinds('"a\\"b" `sysctl -q x=1`'), ['string:"a\\"b"', 'command:`sysctl -q x=1`']);
    const c = lex('0 %{ assert a // b }% // a comment\n').tokens[1]!;
    assert.equal(c.t, 'code');
    assert.equal(c.t === 'code' && c.value, ' assert a // b ');
  });

  it('keeps line numbers across comments, strings and code', () => {
    const toks = lex('/* one\ntwo */ a\n%{\n}% b\n"x\ny" c').tokens;
    assert.deepEqual(
      toks.map((t) => [t.text.replace(/\n/g, ' '), t.line]),
      [
        ['a', 2],
        ['%{ }%', 3],
        ['b', 4],
        ['"x y"', 5],
        ['c', 6],
      ],
    );
  });
});

describe('time column', () => {
  it('parses absolute, relative, ranges and any', () => {
    assert.deepEqual(only('0.100 close(4) = 0').time, { kind: 'point', at: { relative: false, ms: 100 } });
    assert.deepEqual(only('+.5 close(4) = 0').time, { kind: 'point', at: { relative: true, ms: 500 } });
    assert.deepEqual(only('+0 close(4) = 0').time, { kind: 'point', at: { relative: true, ms: 0 } });
    assert.deepEqual(only('0.1~0.2 close(4) = 0').time, { kind: 'range', lo: { relative: false, ms: 100 }, hi: { relative: false, ms: 200 } });
    assert.deepEqual(only('+0.1~+0.25 close(4) = 0').time, { kind: 'range', lo: { relative: true, ms: 100 }, hi: { relative: true, ms: 250 } });
    assert.deepEqual(only('* close(4) = 0').time, { kind: 'any' });
    assert.deepEqual(only('1.000001 close(4) = 0').time, { kind: 'point', at: { relative: false, ms: 1000.001 } });
  });

  it('lets a time stand alone on its line, and events span lines', () => {
    const s = parseScript('0.100\n  close(4) = 0\n+0 > P. 1:101(100)\n   ack 1 win 257\n   <nop,nop,TS val 1 ecr 2>\n+0 close(5)\n = 0');
    assert.deepEqual(
      s.lines.map((l) => [l.line, l.text]),
      [
        [1, '0.100 close(4) = 0'],
        [3, '+0 > P. 1:101(100) ack 1 win 257 <nop,nop,TS val 1 ecr 2>'],
        [6, '+0 close(5) = 0'],
      ],
    );
  });

  it('parses blocking calls: +0...0.2 and 0.1 ... 0.3', () => {
    const a = only('+0...0.200 read(4, ..., 2000) = 2000');
    assert.deepEqual(a.time, { kind: 'point', at: { relative: true, ms: 0 } });
    assert.equal((a.event as SyscallEvent).blockingUntilMs, 200);
    const b = only('0.1 ... 0.3 connect(3, ..., ...) = 0');
    assert.equal((b.event as SyscallEvent).blockingUntilMs, 300);
    assert.equal(b.text, '0.1 ... 0.3 connect(3, ..., ...) = 0');
  });

  it('rejects bad times', () => {
    throwsAt('close(4) = 0', 1, /expected a time/);
    throwsAt('\n\nx1 close(4) = 0', 3, /expected a time/);
    throwsAt('0.2~0.1 close(4) = 0', 1, /ends before it starts/);
    throwsAt('0.1', 1, /a time with no event after it/);
    throwsAt('0.1\n+0.2 close(4) = 0', 1, /a time with no event after it/);
    throwsAt('-1 close(4) = 0', 1, /expected a time/);
    throwsAt('0 ...x read(4, ..., 1) = 1', 1, /blocking call's end time/);
  });
});

describe('packets', () => {
  it('parses an inbound SYN with options', () => {
    const p = packet('< S 0:0(0) win 65535 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>');
    assert.deepEqual(p, {
      kind: 'packet',
      direction: 'in',
      flags: SYN,
      flagsText: 'S',
      seq: 0,
      end: 0,
      length: 0,
      window: 65535,
      options: [{ kind: 'mss', value: 1000 }, { kind: 'sackOK' }, { kind: 'ts', value: 100, echo: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    });
  });

  it('parses flags in any combination, - for none', () => {
    assert.equal(packet('> S. 0:0(0) ack 1 <...>').flags, SYN | ACK);
    assert.equal(packet('> . 1:1(0) ack 1').flags, ACK);
    assert.equal(packet('> P. 1:101(100) ack 1').flags, PSH | ACK);
    assert.equal(packet('> FP. 1:1(0) ack 1').flags, FIN | PSH | ACK);
    assert.equal(packet('> R 1:1(0)').flags, RST);
    assert.equal(packet('> R. 1:1(0) ack 1').flags, RST | ACK);
    assert.equal(packet('< SEW 0:0(0)').flags, SYN | ECE | CWR);
    assert.equal(packet('< - 1:1(0)').flags, 0);
    assert.equal(packet('< U. 1:2(1) ack 1 urg 1').urgentPointer, 1);
    assert.equal(packet('< U. 1:2(1) ack 1').flags, URG | ACK);
    // AccECN's AE flag and ACE counters parse; the runner refuses them.
    assert.equal(packet('> SA. 0:0(0) ack 1').flagsText, 'SA.');
    assert.equal(packet('> S.5 0:0(0) ack 1').flagsText, 'S.5');
  });

  it('keeps what an outbound line leaves unchecked', () => {
    const p = packet('> . 1:1001(1000) ack 1');
    assert.equal(p.window, undefined);
    assert.equal(p.options, undefined);
    assert.equal(packet('> . 1:1(0) ack 1 win 257 <...>').options, 'any');
    assert.equal(packet('> . 1:1(0) <...>').ack, undefined);
    // An inbound ACK without 'ack N' acknowledges the ISN itself, as in packetdrill.
    assert.equal(packet('< . 1:1(0) win 1').ack, undefined);
  });

  it('parses data, ack, SACK blocks and big numbers', () => {
    const p = packet('< . 4294967200:4294967295(95) ack 1001 win 257 <nop,nop,sack 1001:2001 3001:4001>');
    assert.equal(p.seq, 4294967200);
    assert.equal(p.length, 95);
    assert.equal(p.ack, 1001);
    assert.deepEqual(p.options, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: 1001, right: 2001 }, { left: 3001, right: 4001 }] }]);
    // A range may wrap.
    assert.equal(packet('< . 4294967290:4(10) ack 1').length, 10);
  });

  it('parses Fast Open, MD5 and AccECN options', () => {
    assert.deepEqual(packet('< S 0:10(10) win 1 <mss 1460,FO 0123456789abcdef,nop,nop>').options?.[1], { kind: 'fastopen', cookie: '0123456789abcdef', experimental: false });
    assert.deepEqual(packet('> S. 0:0(0) ack 1 <FO,nop>').options, [{ kind: 'fastopen', cookie: '', experimental: false }, { kind: 'nop' }]);
    assert.deepEqual(packet('< S 0:0(0) <FOEXP 4ca8>').options, [{ kind: 'fastopen', cookie: '4ca8', experimental: true }]);
    assert.deepEqual(packet('< S 0:0(0) <md5 000102030405060708090a0b0c0d0e0f>').options, [{ kind: 'md5', digest: '000102030405060708090a0b0c0d0e0f' }]);
    assert.deepEqual(packet('> . 1:1(0) ack 1 <ECN e0b 1 ceb 0 e1b 2>').options, [
      {
        kind: 'accecn',
        fields: [
          { name: 'e0b', value: 1 },
          { name: 'ceb', value: 0 },
          { name: 'e1b', value: 2 },
        ],
      },
    ]);
  });

  it('parses IP annotations, ports and tunnel prefixes', () => {
    assert.deepEqual(packet('> [ect0] P. 1:1001(1000) ack 1').ip, { ecn: 'ect0', text: '[ect0]' });
    assert.deepEqual(packet('< (tos 0x10) S 0:0(0)').ip, { tos: 16, text: '(tos 0x10)' });
    assert.deepEqual(packet('< [noecn, flowlabel 0x5] S 0:0(0)').ip, { ecn: 'noecn', flowLabel: 5, text: '[noecn, flowlabel 0x5]' });
    assert.deepEqual(packet('< 40000>8080 S 0:0(0)').ports, { src: 40000, dst: 8080 });
    assert.equal(packet('< ipv4 192.0.2.2 > 192.0.2.1: S 0:0(0)').encapsulation, 'ipv4 192.0.2.2 > 192.0.2.1');
  });

  it('parses UDP and ICMP lines', () => {
    assert.deepEqual(only('0 < udp (100)').event as OtherPacketEvent, { kind: 'other-packet', direction: 'in', protocol: 'udp', text: '< udp ( 100 )' });
    const icmp = only('0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]').event as OtherPacketEvent;
    assert.equal(icmp.protocol, 'icmp');
  });

  it('rejects malformed packets with their line', () => {
    throwsAt('0 < S 0:10(0) win 1', 1, /does not match length/);
    throwsAt('0 < X 0:0(0)', 1, /bad TCP flags 'X'/);
    throwsAt('0 < SS 0:0(0)', 1, /repeated/);
    throwsAt('0 < S 0:0(0) win 70000', 1, /window 70000 out of range/);
    throwsAt('0 < S 0:0(0) <...>', 1, /only makes sense on outbound/);
    throwsAt('0 > S 0:0(0) <mss 1000,...>', 1, /whole option list/);
    throwsAt('0 > S 0:0(0) <TS val 1>', 1, /TS val N ecr N/);
    throwsAt('0 > S 0:0(0) <frob 1>', 1, /unsupported TCP option 'frob 1'/);
    throwsAt('0 > S 0:0(0) <mss 1000', 1, /not closed with '>'/);
    throwsAt('0 > S 0:0', 1, /bad packet: SEQ:END\(LEN\): expected '\('/);
    throwsAt('0 > S x', 1, /bad packet: expected SEQ:END\(LEN\) after the flags/);
    throwsAt('0 > S 0:0(0) wnd 5', 1, /unsupported packet field 'wnd'/);
    throwsAt('0 > [blue] S 0:0(0)', 1, /unknown IP annotation 'blue'/);
  });
});

describe('syscalls', () => {
  it('parses the usual calls', () => {
    assert.deepEqual(syscall('socket(..., SOCK_STREAM, IPPROTO_TCP) = 3'), {
      kind: 'syscall',
      name: 'socket',
      args: [{ kind: 'ellipsis' }, { kind: 'name', name: 'SOCK_STREAM' }, { kind: 'name', name: 'IPPROTO_TCP' }],
      result: 3,
    });
    const ss = syscall('setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0');
    assert.deepEqual(ss.args[3], { kind: 'list', items: [{ kind: 'number', value: 1 }] });
    const c = syscall('connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)');
    assert.equal(c.result, -1);
    assert.equal(c.errno, 'EINPROGRESS');
    assert.equal(c.note, 'Operation now in progress');
    const f = syscall('fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
    assert.deepEqual(f.args[2], { kind: 'or', terms: [{ kind: 'name', name: 'O_RDWR' }, { kind: 'name', name: 'O_NONBLOCK' }] });
    assert.equal(syscall('fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)').result, 2);
    const g = syscall('getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0');
    assert.deepEqual(g.args[3], { kind: 'list', items: [{ kind: 'name', name: 'ECONNREFUSED' }] });
    assert.deepEqual(syscall('close(4) = 0').args, [{ kind: 'number', value: 4 }]);
    // packetdrill allows `= -1` alone (any errno) and a note straight after the errno.
    assert.equal(syscall('sendto(4, NULL, 1, MSG_FASTOPEN, ..., ...) = -1').errno, undefined);
    assert.equal(syscall('write(4, ..., 100) = -1 ECONNRESET(Connection reset by peer)').note, 'Connection reset by peer');
  });

  it('parses structs and nested calls, over several lines', () => {
    const s = parseScript('0 bind(3, {sa_family=AF_INET,\n  sin_port=htons(8080),\n  sin_addr=inet_addr("192.0.2.1")}, 16) = 0\n+0 listen(3, 1) = 0');
    assert.equal(s.lines.length, 2);
    assert.equal(s.lines[1]!.line, 4);
    const b = s.lines[0]!.event as SyscallEvent;
    assert.deepEqual(b.args[1], {
      kind: 'struct',
      fields: [
        { name: 'sa_family', value: { kind: 'name', name: 'AF_INET' } },
        { name: 'sin_port', value: { kind: 'call', name: 'htons', args: [{ kind: 'number', value: 8080 }] } },
        { name: 'sin_addr', value: { kind: 'call', name: 'inet_addr', args: [{ kind: 'string', value: '192.0.2.1' }] } },
      ],
    });
  });

  it('parses msghdrs, iovecs, pollfds, linger, strings and epoll events', () => {
    const m = syscall('sendmsg(4, {msg_name(...)=...,\n msg_iov(2)=[{..., 1000}, {..., 500}], msg_flags=0}, MSG_NOSIGNAL) = 1500');
    assert.deepEqual(m.args[1], {
      kind: 'struct',
      fields: [
        { name: 'msg_name', index: [{ kind: 'ellipsis' }], value: { kind: 'ellipsis' } },
        {
          name: 'msg_iov',
          index: [{ kind: 'number', value: 2 }],
          value: {
            kind: 'list',
            items: [
              { kind: 'struct', fields: [{ value: { kind: 'ellipsis' } }, { value: { kind: 'number', value: 1000 } }] },
              { kind: 'struct', fields: [{ value: { kind: 'ellipsis' } }, { value: { kind: 'number', value: 500 } }] },
            ],
          },
        },
        { name: 'msg_flags', value: { kind: 'number', value: 0 } },
      ],
    });
    const p = syscall('poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1');
    assert.deepEqual(p.args[0], {
      kind: 'list',
      items: [
        {
          kind: 'struct',
          fields: [
            { name: 'fd', value: { kind: 'number', value: 4 } },
            { name: 'events', value: { kind: 'or', terms: [{ kind: 'name', name: 'POLLIN' }, { kind: 'name', name: 'POLLOUT' }] } },
            { name: 'revents', value: { kind: 'name', name: 'POLLOUT' } },
          ],
        },
      ],
    });
    assert.deepEqual(syscall('setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0').args[3], {
      kind: 'struct',
      fields: [
        { name: 'onoff', value: { kind: 'number', value: 1 } },
        { name: 'linger', value: { kind: 'number', value: 0 } },
      ],
    });
    assert.deepEqual(syscall('write(4, "ab" "cd"..., 4) = 4').args[1], { kind: 'string', value: 'abcd', truncated: true });
    assert.deepEqual(syscall('epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}) = 0').args[3], {
      kind: 'struct',
      fields: [
        { name: 'events', value: { kind: 'name', name: 'EPOLLIN' } },
        { name: 'fd', value: { kind: 'number', value: 4 } },
      ],
    });
  });

  it('rejects malformed calls', () => {
    throwsAt('0 close(4)', 1, /expected '= RESULT/);
    throwsAt('0 read(4, ..., 10) = 5 EAGAIN', 1, /goes with result -1/);
    throwsAt('0 close(4 = 0', 1, /close\(...\): expected ',' or '\)', got '='/);
    throwsAt('0 close(4)) = 0', 1, /expected '= RESULT \[ERRNO \(text\)\]' after the call, got '\)'/);
    throwsAt('0 close(4', 1, /unbalanced brackets: '\)' never comes/);
    throwsAt('0 hello', 1, /unrecognized event 'hello'/);
    throwsAt('0 close(4) = x', 1, /expected an integer result/);
    throwsAt('0 close(4) = 0 close(5) = 0', 1, /unexpected 'close' after the event \(each event starts with a time\)/);
  });
});

describe('%{ }% code', () => {
  it('parses assert lines joined by and/or', () => {
    const c = code('assert tcpi_snd_cwnd == 10 and tcpi_state != TCP_CLOSE');
    assert.equal(c.length, 1);
    assert.deepEqual(c[0], {
      kind: 'assert',
      line: 1,
      text: 'tcpi_snd_cwnd == 10 and tcpi_state != TCP_CLOSE',
      expr: {
        kind: 'and',
        terms: [
          { kind: 'cmp', ops: ['=='], operands: [{ kind: 'ident', name: 'tcpi_snd_cwnd' }, { kind: 'num', value: 10 }] },
          { kind: 'cmp', ops: ['!='], operands: [{ kind: 'ident', name: 'tcpi_state' }, { kind: 'ident', name: 'TCP_CLOSE' }] },
        ],
      },
    });
  });

  it('parses chained comparisons, bit and arithmetic operators with Python precedence', () => {
    const [a] = code('assert 98000 <= tcpi_rtt <= 110000, tcpi_rtt');
    assert.deepEqual(a!.kind === 'assert' && a.expr, {
      kind: 'cmp',
      ops: ['<=', '<='],
      operands: [{ kind: 'num', value: 98000 }, { kind: 'ident', name: 'tcpi_rtt' }, { kind: 'num', value: 110000 }],
    });
    const [b] = code('assert tcpi_options & TCPI_OPT_SACK | 1 << 2 == 6');
    // Python: comparison binds looser than |, which is looser than &, looser than <<.
    assert.deepEqual(b!.kind === 'assert' && b.expr, {
      kind: 'cmp',
      ops: ['=='],
      operands: [
        {
          kind: 'binary',
          op: '|',
          left: { kind: 'binary', op: '&', left: { kind: 'ident', name: 'tcpi_options' }, right: { kind: 'ident', name: 'TCPI_OPT_SACK' } },
          right: { kind: 'binary', op: '<<', left: { kind: 'num', value: 1 }, right: { kind: 'num', value: 2 } },
        },
        { kind: 'num', value: 6 },
      ],
    });
    const [c] = code('assert -2 ** 2 + 10 // 3 * 2 == -0x4 + 6');
    assert.ok(c!.kind === 'assert');
    const [d] = code('assert tcpi_ca_state in (TCP_CA_Open, TCP_CA_Disorder) and tcpi_lost is not None');
    assert.ok(d!.kind === 'assert' && d.expr.kind === 'and');
    const [e] = code('assert abs(tcpi_rtt - 100000) < max(1000, tcpi_rttvar) if tcpi_rtt else True');
    assert.ok(e!.kind === 'assert' && e.expr.kind === 'cond');
  });

  it('takes several statements over lines, with ;, \\ continuations, messages and # comments', () => {
    const s = parseScript("0 close(4) = 0\n+0 %{\n# check the window\nassert tcpi_rto >= 200000, 'rto=%d' % tcpi_rto\nassert (tcpi_unacked < 3 or\n  tcpi_unacked > 5) and not tcpi_total_retrans; x = 3\nassert x \\\n == 3\npass\n}%\n");
    const c = (s.lines[1]!.event as CodeEvent).statements;
    assert.deepEqual(
      c.map((a) => [a.kind, a.line, a.kind === 'assert' ? a.text : a.kind === 'assign' ? a.name : '']),
      [
        ['assert', 4, 'tcpi_rto >= 200000'],
        ['assert', 5, '(tcpi_unacked < 3 or tcpi_unacked > 5) and not tcpi_total_retrans'],
        ['assign', 6, 'x'],
        ['assert', 7, 'x == 3'],
      ],
    );
  });

  it('parses assignments, augmented assignments and print', () => {
    const [a, b, p] = code('cwnd = 10; cwnd += 2; print(tcpi_snd_cwnd, "segments")');
    assert.deepEqual(a, { kind: 'assign', line: 1, name: 'cwnd', expr: { kind: 'num', value: 10 } });
    assert.deepEqual(b, { kind: 'assign', line: 1, name: 'cwnd', expr: { kind: 'binary', op: '+', left: { kind: 'ident', name: 'cwnd' }, right: { kind: 'num', value: 2 } } });
    assert.deepEqual(p, { kind: 'print', line: 1, args: [{ kind: 'ident', name: 'tcpi_snd_cwnd' }, { kind: 'str', value: 'segments' }] });
  });

  it('refuses other Python, with the line', () => {
    throwsAt('0 close(4) = 0\n+0 %{\nimport os\n}%', 3, /unsupported code 'import os'/);
    throwsAt('0 %{ assert tcpi_rto == }%', 1, /ends unexpectedly/);
    throwsAt('0 %{ assert open("x") }%', 1, /function 'open' is not available/);
    throwsAt('0 %{ assert tcpi_rto @ 2 }%', 1, /unsupported character '@'/);
    throwsAt('0 %{ assert tcpi_rto == 1', 1, /unterminated %\{/);
    throwsAt('0 %{ assert }%', 1, /assert without a condition/);
  });
});

describe('options and commands', () => {
  it('reads --options before the events, and --define substitutes words', () => {
    const s = parseScript('--tolerance_usecs=10000\n--ip_version=ipv4 --local_ip=fd::1\n--define=FD=4 --define=NAME="x"\n0 close(FD) = 0');
    assert.deepEqual(
      s.options.map((o) => [o.name, o.value]),
      [
        ['tolerance_usecs', '10000'],
        ['ip_version', 'ipv4'],
        ['local_ip', 'fd::1'],
        ['define', 'FD=4'],
        ['define', 'NAME="x"'],
      ],
    );
    assert.deepEqual((s.lines[0]!.event as SyscallEvent).args, [{ kind: 'number', value: 4 }]);
    throwsAt('0 close(4) = 0\n--verbose', 2, /must come before the first event/);
  });

  it('keeps init, cleanup and timed commands', () => {
    const s = parseScript('`../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=0`\n0 close(3) = 0\n+0 `sysctl -q net.ipv4.tcp_timestamps=0`\n`/tmp/restore.sh`\n');
    assert.deepEqual(s.initCommand, { line: 1, command: '../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=0' });
    assert.deepEqual(s.lines[1]!.event, { kind: 'command', command: 'sysctl -q net.ipv4.tcp_timestamps=0' });
    assert.deepEqual(s.cleanupCommand, { line: 5, command: '/tmp/restore.sh' });
  });
});

describe('comments and directives', () => {
  it('skips // and /* */ comments and keeps line numbers', () => {
    const s = parseScript('// first\n/* a\n   b */ 0 close(4) = 0 // trailing\n\n+0 /* mid */ close(5) = 0\n');
    assert.deepEqual(
      s.lines.map((l) => [l.line, l.text]),
      [
        [3, '0 close(4) = 0'],
        [5, '+0 close(5) = 0'],
      ],
    );
  });

  it('reads @stevens directives', () => {
    const s = parseScript(
      '// @stevens isn=4294967000 peer_isn=0xfffffff0 ts_offset=7\n// @stevens tolerance=0 seed=3 config.delayedAckMs=40 config.profile=game config.noDelay=true\n// @stevens requires=prr,fastopen\n0 close(4) = 0\n',
    );
    assert.equal(s.directives.isn, 4294967000);
    assert.equal(s.directives.peerIsn, 0xfffffff0);
    assert.equal(s.directives.tsOffset, 7);
    assert.equal(s.directives.toleranceMs, 0);
    assert.equal(s.directives.seed, 3);
    assert.deepEqual(s.directives.config, { delayedAckMs: 40, profile: 'game', noDelay: true });
    assert.deepEqual(s.directives.requires, ['prr', 'fastopen']);
  });

  it('includes a defaults file in place', () => {
    const files: Record<string, string> = { 'defaults.stevens': '// Linux defaults\n// @stevens config.sack=false tolerance=9\n' };
    const include = (path: string, line: number) => {
      assert.equal(line, 1);
      return lex(files[path]!).directives.map((d) => ({ ...d, line }));
    };
    const s = parseScript('// @stevens include=defaults.stevens tolerance=2\n0 close(4) = 0', { include });
    assert.deepEqual(s.directives.config, { sack: false });
    assert.equal(s.directives.toleranceMs, 2);
    throwsAt('// @stevens include=x\n0 close(4) = 0', 1, /include needs the script to be read from a file/);
  });

  it('has defaults', () => {
    const d = parseScript('0 close(4) = 0').directives;
    assert.equal(d.isn, undefined);
    assert.equal(d.peerIsn, 0);
    assert.equal(d.tsOffset, 0);
    assert.equal(d.seed, 1);
    assert.equal(d.toleranceMs, undefined);
    assert.deepEqual(d.requires, []);
  });

  it('rejects bad directives', () => {
    throwsAt('// @stevens isn=-1\n0 close(4) = 0', 1, /isn must be an integer/);
    throwsAt('// @stevens isn=4294967296\n0 close(4) = 0', 1, /isn must be an integer/);
    throwsAt('\n// @stevens tolerance\n0 close(4) = 0', 2, /expects key=value/);
    throwsAt('// @stevens color=red', 1, /unknown @stevens directive 'color'/);
    throwsAt('// @stevens requires=warp', 1, /unknown feature 'warp'/);
    throwsAt('0 close(4) = 0\n// @stevens isn=1', 2, /before the first event/);
    throwsAt('/* never closed\n0 close(4) = 0', 1, /unterminated \/\*/);
  });

  it('does not take an ordinary comment mentioning stevens for a directive', () => {
    assert.deepEqual(parseScript('// @stevensfoo=1\n// stevens isn=3\n0 close(4) = 0').directives.isn, undefined);
  });
});

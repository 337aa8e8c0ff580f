// Unit tests of the drill script parser: time column, packets, options, syscalls, assertions, directives,
// comments and error messages (each names its line).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript } from '../src/drill/parser.js';
import type { CodeEvent, PacketEvent, ScriptEvent, SyscallEvent } from '../src/drill/ast.js';
import { wire } from '../src/core/index.js';

const { ACK, CWR, ECE, FIN, PSH, RST, SYN } = wire;

function only(src: string): { time: unknown; event: ScriptEvent; line: number; text: string } {
  const s = parseScript(src);
  assert.equal(s.lines.length, 1);
  return s.lines[0]!;
}

const packet = (src: string) => only(`0 ${src}`).event as PacketEvent;
const syscall = (src: string) => only(`0 ${src}`).event as SyscallEvent;

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

  it('rejects bad times', () => {
    throwsAt('close(4) = 0', 1, /expected a time/);
    throwsAt('\n\nx1 close(4) = 0', 3, /expected a time/);
    throwsAt('0.2~0.1 close(4) = 0', 1, /ends before it starts/);
    throwsAt('0...0.1 accept(3, ..., ...) = 4', 1, /blocking-call/);
    throwsAt('0.1', 1, /no event/);
  });
});

describe('packets', () => {
  it('parses an inbound SYN with options', () => {
    const p = packet('< S 0:0(0) win 65535 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>');
    assert.deepEqual(p, {
      kind: 'packet',
      direction: 'in',
      flags: SYN,
      seq: 0,
      end: 0,
      length: 0,
      window: 65535,
      options: [{ kind: 'mss', value: 1000 }, { kind: 'sackOK' }, { kind: 'ts', value: 100, echo: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    });
  });

  it('parses flags in any combination', () => {
    assert.equal(packet('> S. 0:0(0) ack 1 <...>').flags, SYN | ACK);
    assert.equal(packet('> . 1:1(0) ack 1').flags, ACK);
    assert.equal(packet('> P. 1:101(100) ack 1').flags, PSH | ACK);
    assert.equal(packet('> FP. 1:1(0) ack 1').flags, FIN | PSH | ACK);
    assert.equal(packet('> R 1:1(0)').flags, RST);
    assert.equal(packet('> R. 1:1(0) ack 1').flags, RST | ACK);
    assert.equal(packet('< SEW 0:0(0)').flags, SYN | ECE | CWR);
  });

  it('keeps what an outbound line leaves unchecked', () => {
    const p = packet('> . 1:1001(1000) ack 1');
    assert.equal(p.window, undefined);
    assert.equal(p.options, undefined);
    assert.equal(packet('> . 1:1(0) ack 1 win 257 <...>').options, 'any');
    assert.equal(packet('> . 1:1(0) <...>').ack, undefined);
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

  it('rejects malformed packets with their line', () => {
    throwsAt('0 < S 0:10(0) win 1', 1, /does not match length/);
    throwsAt('0 < X 0:0(0)', 1, /bad TCP flags 'X'/);
    throwsAt('0 < SS 0:0(0)', 1, /repeated/);
    throwsAt('0 < . 1:1(0) win 1', 1, /needs 'ack N'/);
    throwsAt('0 < S 0:0(0) win 70000', 1, /window 70000 out of range/);
    throwsAt('0 < S 0:0(0) <...>', 1, /only makes sense on outbound/);
    throwsAt('0 > S 0:0(0) <mss 1000,...>', 1, /whole option list/);
    throwsAt('0 > S 0:0(0) <TS val 1>', 1, /TS val N ecr N/);
    throwsAt('0 > S 0:0(0) <FO abcd>', 1, /unsupported TCP option 'FO abcd'/);
    throwsAt('0 > S 0:0(0) [ect0]', 1, /unsupported packet field '\[ect0\]'/);
    throwsAt('0 > S 0:0(0) <mss 1000', 1, /must end the line/);
    throwsAt('0 > S 0:0', 1, /bad packet/);
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
    const f = syscall('fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
    assert.deepEqual(f.args[2], { kind: 'or', terms: [{ kind: 'name', name: 'O_RDWR' }, { kind: 'name', name: 'O_NONBLOCK' }] });
    assert.equal(syscall('fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)').result, 2);
    const g = syscall('getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0');
    assert.deepEqual(g.args[3], { kind: 'list', items: [{ kind: 'name', name: 'ECONNREFUSED' }] });
    assert.deepEqual(syscall('close(4) = 0').args, [{ kind: 'number', value: 4 }]);
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

  it('rejects malformed calls', () => {
    throwsAt('0 close(4)', 1, /expected '= RESULT/);
    throwsAt('0 read(4, ..., 10) = -1', 1, /needs an errno name/);
    throwsAt('0 read(4, ..., 10) = 5 EAGAIN', 1, /goes with result -1/);
    throwsAt('0 close(4 = 0', 1, /unbalanced brackets/);
    throwsAt('0 close(4)) = 0', 1, /unbalanced closing bracket/);
    throwsAt('0 hello', 1, /unrecognized event 'hello'/);
  });
});

describe('assertions', () => {
  it('parses assert lines joined by and/or', () => {
    const c = only('+0 %{ assert tcpi_snd_cwnd == 10 and tcpi_state != TCP_CLOSE }%').event as CodeEvent;
    assert.equal(c.assertions.length, 1);
    assert.deepEqual(c.assertions[0]!.expr, {
      kind: 'and',
      terms: [
        { kind: 'cmp', op: '==', left: { kind: 'ident', name: 'tcpi_snd_cwnd' }, right: { kind: 'num', value: 10 } },
        { kind: 'cmp', op: '!=', left: { kind: 'ident', name: 'tcpi_state' }, right: { kind: 'ident', name: 'TCP_CLOSE' } },
      ],
    });
  });

  it('takes several asserts over several lines, ignoring messages and # comments', () => {
    const s = parseScript('0 close(4) = 0\n+0 %{\n# check the window\nassert tcpi_rto >= 200000, tcpi_rto\nassert (tcpi_unacked < 3 or tcpi_unacked > 5) and not tcpi_total_retrans\n}%\n');
    const c = s.lines[1]!.event as CodeEvent;
    assert.deepEqual(
      c.assertions.map((a) => [a.line, a.text]),
      [
        [4, 'tcpi_rto >= 200000'],
        [5, '(tcpi_unacked < 3 or tcpi_unacked > 5) and not tcpi_total_retrans'],
      ],
    );
  });

  it('refuses anything but asserts, with the line', () => {
    throwsAt('0 close(4) = 0\n+0 %{\nimport os\n}%', 3, /only 'assert <condition>'/);
    throwsAt('0 %{ assert tcpi_rto == }%', 1, /ends unexpectedly/);
    throwsAt('0 %{ assert 1 < tcpi_rto < 3 }%', 1, /chained comparisons/);
    throwsAt('0 %{ assert tcpi_rto * 2 == 3 }%', 1, /unsupported character '\*'/);
    throwsAt('0 %{ assert tcpi_rto == 1', 1, /unterminated %\{/);
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
    const s = parseScript('// @stevens isn=4294967000 peer_isn=0xfffffff0 ts_offset=7\n// @stevens tolerance=0 seed=3 config.delayedAckMs=40 config.profile=game config.noDelay=true\n0 close(4) = 0\n');
    assert.equal(s.directives.isn, 4294967000);
    assert.equal(s.directives.peerIsn, 0xfffffff0);
    assert.equal(s.directives.tsOffset, 7);
    assert.equal(s.directives.toleranceMs, 0);
    assert.equal(s.directives.seed, 3);
    assert.deepEqual(s.directives.config, { delayedAckMs: 40, profile: 'game', noDelay: true });
  });

  it('has defaults', () => {
    const d = parseScript('0 close(4) = 0').directives;
    assert.equal(d.isn, undefined);
    assert.equal(d.peerIsn, 0);
    assert.equal(d.tsOffset, 0);
    assert.equal(d.seed, 1);
    assert.equal(d.toleranceMs, undefined);
  });

  it('rejects bad directives', () => {
    throwsAt('// @stevens isn=-1\n0 close(4) = 0', 1, /isn must be an integer/);
    throwsAt('// @stevens isn=4294967296\n0 close(4) = 0', 1, /isn must be an integer/);
    throwsAt('\n// @stevens tolerance\n0 close(4) = 0', 2, /expects key=value/);
    throwsAt('// @stevens color=red', 1, /unknown @stevens directive 'color'/);
    throwsAt('0 close(4) = 0\n// @stevens isn=1', 2, /before the first event/);
    throwsAt('/* never closed\n0 close(4) = 0', 1, /unterminated \/\*/);
  });

  it('does not take an ordinary comment mentioning stevens for a directive', () => {
    assert.deepEqual(parseScript('// @stevensfoo=1\n// stevens isn=3\n0 close(4) = 0').directives.isn, undefined);
  });
});

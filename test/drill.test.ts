// Runs every test/drill/**/*.pkt script against a fresh stevens Endpoint, one subtest per script, and checks
// that the runner itself catches what it must (wrong packets, wrong times, unexpected packets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectScripts, FEATURES, runScript, runScriptFile } from '../src/drill/index.js';
import { main } from '../src/cli/main.js';

// Compiled to dist/test/drill.test.js; the scripts stay in the source tree.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPTS = fileURLToPath(new URL('../../test/drill/', import.meta.url));

describe('drill scripts', () => {
  const files = existsSync(SCRIPTS) ? collectScripts([SCRIPTS]) : [];
  if (files.length === 0) {
    it('has scripts', { skip: 'no test/drill/**/*.pkt scripts' }, () => {});
    return;
  }
  for (const file of files) {
    it(relative(ROOT, file), () => {
      const r = runScriptFile(file);
      if (r.passed) return;
      // A script that declares `@stevens requires=F` while the core lacks F must fail with exactly F's line, at
      // the directive; once F is available (features.ts) it runs and must pass like any other.
      if (r.unsupported?.declared) {
        assert.equal(r.unsupported.kind, 'not-yet', r.message);
        assert.match(r.unsupported.construct, /^@stevens requires=/, r.message);
        assert.match(r.message, new RegExp(`^${FEATURES[r.unsupported.feature].name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not supported yet \\(line \\d+: @stevens requires=`));
        return;
      }
      assert.fail(r.message);
    });
  }

  it('has Linux-style scripts waiting for each feature issue 19 adds, and they wait only while it is missing', () => {
    const linux = files.filter((f) => f.includes(`${join('drill', 'linux')}`));
    assert.ok(linux.length >= 20, `${linux.length} scripts under test/drill/linux`);
    const waiting = new Set<string>();
    for (const f of linux) {
      const r = runScriptFile(f);
      if (!r.passed && r.unsupported?.declared) waiting.add(r.unsupported.feature);
    }
    for (const id of ['fastopen', 'prr', 'quickack', 'psh-per-write'] as const) {
      assert.equal(waiting.has(id), !FEATURES[id].available, `${id}: available=${FEATURES[id].available}`);
    }
  });
});

/** Runs an inline script and returns its failure message ('' when it passed). */
function failure(script: string): string {
  const r = runScript(script);
  return r.passed ? '' : r.message;
}

const CONNECT = `
0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
`;
const SYN_OUT = '> S 0:0(0) win 65535 <mss 1206,sackOK,TS val 0 ecr 0,nop,wscale 5>';

describe('drill runner', () => {
  it('matches the SYN of an active open', () => {
    assert.equal(failure(`${CONNECT}+0 ${SYN_OUT}\n`), '');
  });

  it('reports a flag mismatch with the line, expected and actual', () => {
    const msg = failure(`${CONNECT}+0 > S. 0:0(0) <...>\n`);
    assert.match(msg, /^line 4: flags: expected S\., actual S; expected "\+0 > S\. 0:0\(0\) <\.\.\.>", actual "> S 0:0\(0\) win 65535 <mss 1206,/);
  });

  it('reports an option mismatch', () => {
    const msg = failure(`${CONNECT}+0 > S 0:0(0) <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 5>\n`);
    assert.match(msg, /^line 4: options: option 1 expected mss 1460, actual mss 1206/);
  });

  it('reports a packet at the wrong time', () => {
    const msg = failure(`${CONNECT}+0.1 ${SYN_OUT}\n`);
    assert.match(msg, /^line 4: time: expected 0\.100 \(±4 ms\), actual 0\.000/);
  });

  it('accepts a packet inside a time window and fails outside it', () => {
    assert.equal(failure(`${CONNECT}0~0.01 ${SYN_OUT}\n`), '');
    assert.match(failure(`${CONNECT}0.01~0.02 ${SYN_OUT}\n`), /time: expected \[0\.010, 0\.020\], actual 0\.000/);
    assert.equal(failure(`${CONNECT}* ${SYN_OUT}\n`), '');
  });

  it('fires timers to find a retransmission', () => {
    assert.equal(failure(`${CONNECT}+0 ${SYN_OUT}\n+1 ${SYN_OUT.replace('TS val 0', 'TS val 1000')}\n`), '');
  });

  it('fails on a packet nobody expected', () => {
    assert.match(failure(CONNECT), /^line 3: unexpected outbound packet "> S 0:0\(0\) .*" at 0\.000, after the last line$/);
    assert.match(failure(`${CONNECT}+0.5 close(3) = 0\n`), /^line 4: unexpected outbound packet "> S 0:0\(0\) .*" at 0\.000, before "\+0\.5 close\(3\) = 0"$/);
  });

  it('fails when the expected packet never comes', () => {
    assert.match(failure(`${CONNECT}+0 ${SYN_OUT}\n+0.1 > . 1:1(0) ack 1 <...>\n`), /^line 5: expected "\+0\.1 > \. 1:1\(0\) ack 1 <\.\.\.>" but nothing was sent by 0\.104$/);
  });

  it('answers a segment to a closed port with RST', () => {
    assert.equal(failure('0 < S 0:0(0) win 1000\n+0 > R. 0:0(0) ack 1 win 0\n'), '');
  });

  it('checks syscall results', () => {
    const listen = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n';
    assert.match(failure(`${listen}+0 accept(3, ..., ...) = 4\n`), /^line 4: accept: expected 4, actual -1 EAGAIN: accept would block/);
    assert.equal(failure(`${listen}+0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)\n`), '');
  });

  it('reports a refused connection through SO_ERROR', () => {
    const refused = `${CONNECT}+0 ${SYN_OUT}\n+.01 < R. 0:0(0) ack 1 win 0\n`;
    assert.equal(failure(`${refused}+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n`), '');
    assert.match(failure(`${refused}+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n`), /^line 6: SO_ERROR: expected 0, actual ECONNREFUSED/);
  });

  it('evaluates assertions', () => {
    assert.equal(failure(`${CONNECT}+0 ${SYN_OUT}\n+0 %{ assert tcpi_state == TCP_SYN_SENT }%\n`), '');
    assert.match(
      failure(`${CONNECT}+0 ${SYN_OUT}\n+0 %{\nassert tcpi_state == TCP_ESTABLISHED\n}%\n`),
      /^line 6: assertion failed: tcpi_state == TCP_ESTABLISHED \(tcpi_state = TCP_SYN_SENT\)$/,
    );
  });

  it('names unsupported syscalls and syntax', () => {
    assert.match(failure('0 frobnicate(3, ..., 0) = 10\n'), /^line 1: unsupported syscall 'frobnicate'/);
    assert.equal(failure('0 epoll_create(1) = 5\n'), 'epoll is Linux-only (line 1: epoll_create(...))');
    assert.equal(failure('0 < S 0:0(0) win 1000 <md5 abc>\n'), 'a TCP MD5 signature (RFC 2385) is Linux-only (line 1: <...md5 abc...>)');
    assert.match(failure('0 < S 0:0(0) win 1000 <frob 1>\n'), /^line 1: unsupported TCP option 'frob 1'/);
    assert.match(failure('// @stevens nonsense=1\n0 close(3) = 0\n'), /^line 1: unknown @stevens directive 'nonsense'/);
  });

  it('passes config overrides to the endpoint', () => {
    assert.equal(failure(`// @stevens config.timestamps=false config.sack=false\n${CONNECT}+0 > S 0:0(0) win 65535 <mss 1206,nop,wscale 5>\n`), '');
    assert.match(failure(`// @stevens config.maxDatagramBytes=1\n${CONNECT}`), /^line 1: the endpoint rejected the configuration: maxDatagramBytes/);
    assert.match(failure(`\n// @stevens config.delayedAck=40\n${CONNECT}`), /^line 2: unknown config key 'delayedAck' \(known: profile, /);
    assert.match(failure(`// @stevens config.noDelay=1\n${CONNECT}`), /^line 1: config\.noDelay takes a boolean, got '1'/);
  });

  it('uses the isn and ts_offset directives', () => {
    const script = `// @stevens isn=4294967295 ts_offset=4294967290\n${CONNECT}+0 ${SYN_OUT.replace('TS val 0', 'TS val 4294967290')}\n`;
    assert.equal(failure(script), '');
  });
});

const SERVER = `
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 0:0(0) win 20000 <mss 1000,sackOK,nop,nop,nop,wscale 6>
+0   > S. 0:0(0) ack 1 win 65535 <mss 1206,nop,nop,sackOK,nop,wscale 5>
+.1  < . 1:1(0) ack 1 win 313
+0   accept(3, ..., ...) = 4
`;

describe('drill runner: packetdrill constructs', () => {
  it('checks when a blocking call returns', () => {
    const data = '+.05 < P. 1:101(100) ack 1 win 313\n';
    assert.equal(failure(`// @stevens config.delayedAckMs=0\n${SERVER}+0...0.050 read(4, ..., 1000) = 100\n${data}+0 > . 1:1(0) ack 101\n`), '');
    assert.match(
      failure(`// @stevens config.delayedAckMs=0\n${SERVER}+0...0.080 read(4, ..., 1000) = 100\n${data}+0 > . 1:1(0) ack 101\n`),
      /^line 10: read\(\) returned at 0\.150, expected 0\.180 \(±4 ms\)/,
    );
    assert.match(failure(`${SERVER}+0...0.050 read(4, ..., 1000) = 100\n+0 close(4) = 0\n`), /^line 9: read\(\) still blocked at 0\.154, expected to return at 0\.150/);
    assert.match(failure(`${SERVER}+0...0.200 read(4, ..., 1000) = 100\n`), /^line 9: read\(\) still blocked at 0\.304/);
    // The result is checked when it returns.
    assert.match(failure(`// @stevens config.delayedAckMs=0\n${SERVER}+0...0.050 read(4, ..., 1000) = 5\n${data}+0 > . 1:1(0) ack 101\n`), /^line 10: read: expected 5, actual 100/);
  });

  it('runs a call that blocks by its arguments (a poll timeout) in virtual time', () => {
    // The call returns at 0.350; the next line's +0 counts from there.
    assert.equal(failure(`${SERVER}+0 poll([{fd=4, events=POLLIN}], 1, 250) = 0\n+0 close(4) = 0\n0.350 > F. 1:1(0) ack 1\n`), '');
    assert.match(failure(`${SERVER}+0 poll([{fd=4, events=POLLIN}], 1, -1) = 1\n`), /would block forever/);
    assert.match(failure(`${SERVER}+0 poll([{fd=4, events=POLLIN|POLLOUT}], 1, 0) = 1\n`), /^line 9: fd 4 revents: expected 0, actual POLLOUT/);
  });

  it('gives Linux errnos for calls on the wrong socket', () => {
    assert.equal(failure(`${SERVER}+0 read(7, ..., 10) = -1 EBADF (Bad file descriptor)\n`), '');
    assert.equal(failure(`${SERVER}+0 read(3, ..., 10) = -1 ENOTCONN (not connected)\n`), '');
    assert.equal(failure(`${SERVER}+0 write(3, ..., 10) = -1 EPIPE (Broken pipe)\n`), '');
    assert.equal(failure(`${SERVER}+0 accept(4, ..., ...) = -1 EINVAL (Invalid argument)\n`), '');
    // `= -1` alone accepts any errno.
    assert.equal(failure(`${SERVER}+0 read(7, ..., 10) = -1\n`), '');
    assert.match(failure(`${SERVER}+0 read(7, ..., 10) = 0\n`), /^line 9: read: expected 0, actual -1 EBADF: fd 7 is not open/);
  });

  it('answers read() after shutdown(SHUT_RD) and SHUT_RDWR with 0, not EAGAIN', () => {
    assert.equal(failure(`${SERVER}+0 read(4, ..., 10) = -1 EAGAIN (x)\n+0 shutdown(4, SHUT_RD) = 0\n+0 read(4, ..., 10) = 0\n`), '');
    assert.equal(failure(`${SERVER}+0 shutdown(4, SHUT_RDWR) = 0\n+0 > F. 1:1(0) ack 1\n+0 read(4, ..., 10) = 0\n`), '');
    assert.equal(failure(`${SERVER}+0 shutdown(3, SHUT_WR) = 0\n+0 shutdown(4, SHUT_XX) = -1 EINVAL (x)\n`), '');
  });

  it('fails constructs the core lacks with one "not supported yet" line', () => {
    const cases: [string, string][] = [
      ['+0 < S 0:10(10) win 1 <mss 1000,FO 0011223344556677>', 'TCP Fast Open (RFC 7413) is not supported yet (line 9: <...FO 0011223344556677...>)'],
      ['+0 setsockopt(4, SOL_TCP, TCP_CORK, [1], 4) = 0', 'TCP_CORK is not supported yet (line 9: setsockopt(4, SOL_TCP, TCP_CORK, [1], ...))'],
      ['+0 send(4, ..., 10, MSG_MORE) = 10', 'corking (TCP_CORK, MSG_MORE) is not supported yet (line 9: send(..., MSG_MORE))'],
      ['+0 setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [1], 4) = 0', 'TCP_NOTSENT_LOWAT is not supported yet (line 9: setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [1], ...))'],
      ['+0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [1], 4) = 0', 'setsockopt(TCP_USER_TIMEOUT) on a connected socket is not supported yet (line 9: setsockopt(4, ..., TCP_USER_TIMEOUT, ...))'],
      ['+0 %{ assert tcpi_busy_time == 0 }%', 'the TCP_INFO field tcpi_busy_time is not supported yet (line 9: assert tcpi_busy_time == 0)'],
      ['+0 recv(4, ..., 10, MSG_PEEK) = 0', 'MSG_PEEK is not supported yet (line 9: recv(..., MSG_PEEK))'],
      ['+0 > [ect0] . 1:1(0) ack 1', 'the ECN mark ect0 is not supported yet (line 9: [ect0])'],
      ['+0 < [ce] . 1:1(0) ack 1 win 313', 'the ECN mark ce is not supported yet (line 9: [ce])'],
      ['+0 < U. 1:2(1) ack 1 win 313 urg 1', 'urgent data (MSG_OOB, SIOCATMARK) is not supported yet (line 9: flags U.)'],
      ['+0 `sysctl -q net.ipv4.tcp_fastopen=3`', 'TCP Fast Open (RFC 7413) is not supported yet (line 9: net.ipv4.tcp_fastopen=3: stevens has no Fast Open: only 0 holds)'],
    ];
    for (const [line, message] of cases) assert.equal(failure(`${SERVER}${line}\n`), message, line);
    const r = runScript(`${SERVER}+0 sendto(4, ..., 10, MSG_FASTOPEN, ..., ...) = 10\n`);
    assert.deepEqual(r.passed ? undefined : r.unsupported, { feature: 'fastopen', kind: 'not-yet', construct: 'sendto(..., MSG_FASTOPEN)', declared: false });
  });

  it('fails Linux-only constructs the same way', () => {
    const cases: [string, string][] = [
      ['+0 epoll_create(1) = 5', 'epoll is Linux-only (line 9: epoll_create(...))'],
      ['+0 sendfile(4, 5, ..., 10) = 10', 'sendfile() is Linux-only (line 9: sendfile(...))'],
      ['+0 `sysctl -q net.ipv4.tcp_frto=2`', 'the sysctl net.ipv4.tcp_frto is Linux-only (line 9: net.ipv4.tcp_frto=2)'],
      ['+0 `../common/defaults.sh`', 'a shell command is Linux-only (line 9: `../common/defaults.sh`)'],
      ['+0 < udp (10)', 'a UDP packet from the script peer is Linux-only (line 9: < udp (10))'],
      ['+0 setsockopt(4, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0', 'setsockopt(SOL_SOCKET, SO_ZEROCOPY) is Linux-only (line 9: setsockopt(4, SOL_SOCKET, SO_ZEROCOPY, [1], ...))'],
    ];
    for (const [line, message] of cases) assert.equal(failure(`${SERVER}${line}\n`), message, line);
    assert.equal(failure(`--strict_segments\n${SERVER}`), 'the packetdrill option --strict_segments is packetdrill-only (line 1: --strict_segments)');
  });

  it('waits, as expected, on a feature a script requires', () => {
    const r = runScript('// @stevens requires=quickack\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n');
    assert.ok(!r.passed);
    assert.equal(r.message, 'quick-ACK mode (an ACK for every segment at connection start) is not supported yet (line 1: @stevens requires=quickack)');
    assert.deepEqual(r.unsupported, { feature: 'quickack', kind: 'not-yet', construct: '@stevens requires=quickack', declared: true });
  });

  it('maps sysctl commands and socket options onto the configuration of later sockets', () => {
    const noOptions = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 6>\n`;
    assert.equal(failure(`\`sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0\`\n${noOptions}+0 > S. 0:0(0) ack 1 win 65535 <mss 1206>\n`), '');
    assert.equal(
      failure(`${noOptions.replace('+0 listen', '+0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [700], 4) = 0\n+0 listen')}+0 > S. 0:0(0) ack 1 win 65535 <mss 700,sackOK,TS val 0 ecr 1,nop,wscale 5>\n`),
      '',
    );
    assert.equal(failure(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [300], 4) = 0\n`), 'TCP_MAXSEG 300 is not supported yet (line 2: setsockopt(3, SOL_TCP, TCP_MAXSEG, [300], ...))');
  });

  it('evaluates Python with Python semantics', () => {
    const ok = (expr: string) => assert.equal(failure(`${SERVER}+0 %{ assert ${expr} }%\n`), '', expr);
    ok('7 // 2 == 3 and -7 // 2 == -4 and -7 % 3 == 2 and 7 / 2 == 3.5 and 2 ** 10 == 1024');
    ok('(1 << 40) | 1 == 1099511627777 and ~0 == -1 and 6 ^ 3 == 5');
    ok('1 < 2 < 3 and not 1 < 3 < 2 and (1 or 0) == 1 and (0 and 1) == 0');
    ok('True == 1 and None is None and 3 in (1, 2, 3) and 4 not in [1, 2] and "ab" + "c" == "abc"');
    ok('abs(-3) == 3 and min(4, 2, 8) == 2 and max([1, 5]) == 5 and round(2.5) == 2 and int(3.9) == 3 and len((1, 2)) == 2');
    ok('(tcpi_state if tcpi_state else 0) == TCP_ESTABLISHED');
    assert.equal(failure(`${SERVER}+0 %{ limit = tcpi_snd_cwnd * 2 }%\n+0 %{ limit += 1 }%\n+0 %{ assert limit == 21 }%\n`), '');
    assert.match(failure(`${SERVER}+0 %{ assert 1 / 0 }%\n`), /^line 9: cannot evaluate '1 \/ 0': division by zero/);
    assert.match(failure(`${SERVER}+0 %{ assert 1.5 & 1 }%\n`), /unsupported operand type for &: 'float'/);
    assert.match(failure(`${SERVER}+0 %{ x = 3 }%\n+0 %{ assert tcpi_snd_cwnd < x, tcpi_snd_cwnd }%\n`), /^line 10: assertion failed: tcpi_snd_cwnd < x \(tcpi_snd_cwnd = 10, x = 3\)$/);
  });

  it('lets a client script connect again: each connection learns its port and ISN from its SYN', () => {
    const first = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 connect(3, ..., ...) = -1 EINPROGRESS (x)\n+0 > S 0:0(0) <...>\n+.01 < R. 0:0(0) ack 1 win 0\n`;
    const second = `+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n+0 connect(4, ..., ...) = -1 EINPROGRESS (x)\n+0 > S 0:0(0) <...>\n+.01 < S. 0:0(0) ack 1 win 1000 <mss 1000>\n+0 > . 1:1(0) ack 1\n`;
    assert.equal(failure(first + second), '');
  });
});

describe('stevens drill (CLI)', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => {} });
    return { code, out, err };
  }

  function withScripts(files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'stevens-drill-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
  }

  it('prints PASS/FAIL per script, sorted, and a summary', () =>
    withScripts(
      {
        'b/ok.pkt': `${CONNECT}+0 ${SYN_OUT}\n`,
        'a/bad.pkt': `${CONNECT}+0.2 ${SYN_OUT}\n`,
        'a/notes.txt': 'not a script',
      },
      async (dir) => {
        const r = await cli(['drill', dir]);
        assert.equal(r.code, 1);
        assert.deepEqual(r.err, []);
        assert.equal(r.out.length, 3);
        assert.match(r.out[0]!, new RegExp(`^FAIL ${join(dir, 'a', 'bad.pkt').replace(/[.\\\\]/g, '\\$&')}: line 4: time: expected 0\.200`));
        assert.equal(r.out[1], `PASS ${join(dir, 'b', 'ok.pkt')}`);
        assert.equal(r.out[2], '1 passed, 1 failed');
        const ok = await cli(['drill', join(dir, 'b', 'ok.pkt')]);
        assert.equal(ok.code, 0);
        assert.deepEqual(ok.out, [`PASS ${join(dir, 'b', 'ok.pkt')}`, '1 passed, 0 failed']);
      },
    ));

  it('counts scripts waiting for a required feature apart, without failing the run', () =>
    withScripts(
      {
        'a/ok.pkt': `${CONNECT}+0 ${SYN_OUT}\n`,
        'b/waits.pkt': `// @stevens requires=prr\n${CONNECT}`,
      },
      async (dir) => {
        const r = await cli(['drill', dir]);
        assert.equal(r.code, 0);
        assert.deepEqual(r.out, [
          `PASS ${join(dir, 'a', 'ok.pkt')}`,
          `NOT-YET ${join(dir, 'b', 'waits.pkt')}: Proportional Rate Reduction (RFC 6937) is not supported yet (line 1: @stevens requires=prr)`,
          '1 passed, 0 failed, 1 waiting for features not supported yet',
        ]);
      },
    ));

  it('reads @stevens include files next to the script', () =>
    withScripts(
      {
        'defaults.stevens': '// shared\n// @stevens config.sack=false\n',
        'bad.stevens': '0 close(3) = 0\n',
        'a/ok.pkt': `// @stevens include=../defaults.stevens\n${CONNECT}+0 > S 0:0(0) win 65535 <mss 1206,nop,nop,TS val 0 ecr 0,nop,wscale 5>\n`,
        'a/bad.pkt': `// @stevens include=../bad.stevens\n${CONNECT}`,
        'a/missing.pkt': `// @stevens include=../nope.stevens\n${CONNECT}`,
      },
      async (dir) => {
        const r = await cli(['drill', join(dir, 'a')]);
        assert.match(r.out[0]!, /bad\.pkt: line 1: the included file \.\.\/bad\.stevens may hold only comments and @stevens directives \(line 1: '0'\)$/);
        assert.match(r.out[1]!, /missing\.pkt: line 1: cannot read the included file \.\.\/nope\.stevens/);
        assert.equal(r.out[2], `PASS ${join(dir, 'a', 'ok.pkt')}`);
      },
    ));

  it('--verbose shows packets with times; --tolerance widens the window', () =>
    withScripts({ 's.pkt': `${CONNECT}+0.01 ${SYN_OUT}\n` }, async (dir) => {
      const file = join(dir, 's.pkt');
      assert.equal((await cli(['drill', file])).code, 1);
      const r = await cli(['drill', '--verbose', '--tolerance', '10', file]);
      assert.equal(r.code, 0);
      assert.ok(r.out.includes(`  0.000 ${SYN_OUT}`), r.out.join('\n'));
    }));

  it('reports usage errors in one line', async () => {
    const missing = await cli(['drill', '/nonexistent/x.pkt']);
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.err, ['stevens: no such file or directory: /nonexistent/x.pkt']);
    const badTol = await cli(['drill', '--tolerance', 'soon', 'x.pkt']);
    assert.notEqual(badTol.code, 0);
    assert.equal(badTol.err.length, 1);
    assert.match(badTol.err[0]!, /--tolerance/);
    const unknown = await cli(['frobnicate']);
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.err.length, 1);
  });

  it('runs as the stevens binary without stack traces', () => {
    const bin = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'drill', '/nonexistent'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'stevens: no such file or directory: /nonexistent\n');
  });
});

// Runs every test/drill/**/*.pkt script against a fresh stevens Endpoint, one subtest per script, and checks
// that the runner itself catches what it must (wrong packets, wrong times, unexpected packets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectScripts, runScript, runScriptFile } from '../src/drill/index.js';
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
      if (!r.passed) assert.fail(r.message);
    });
  }
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

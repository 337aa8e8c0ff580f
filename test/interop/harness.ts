// The conformance suite's lab: a network namespace per test (always deleted, with every process in it killed),
// peers spawned inside it that talk JSON lines, a tcpdump capture of the TUN device, and tshark's reading of it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

const TOOLS = ['ip', 'socat', 'tcpdump', 'tshark', 'ss'];

/** Why the interop tests cannot run here, or undefined when they can. */
export function interopSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces and TUN devices)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (network namespaces, TUN devices, tcpdump)';
  for (const tool of TOOLS) {
    if (!onPath(tool)) return `needs ${tool} (apt-get install ${tool === 'ip' || tool === 'ss' ? 'iproute2' : tool})`;
  }
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  const probe = `stv-${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create a network namespace: ${(r.stderr || '').trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Whether an executable named `tool` is on PATH (looked up, never run). */
function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

let nsCounter = 0;
const DIST = 'dist/test/interop';

type JsonEvent = Record<string, unknown> & { event: string };

/** A process in the namespace speaking JSON lines on stdout; stderr is kept for failure messages. */
export class Peer {
  readonly child: ChildProcess;
  readonly events: JsonEvent[] = [];
  stderr = '';
  private waiters: { name: string; resolve: (e: JsonEvent) => void }[] = [];
  private exitWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr += d));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let ev: JsonEvent;
      try {
        ev = JSON.parse(line) as JsonEvent;
      } catch {
        this.stderr += `${line}\n`;
        return;
      }
      this.events.push(ev);
      for (const w of this.waiters.filter((w) => w.name === ev.event)) w.resolve(ev);
      this.waiters = this.waiters.filter((w) => w.name !== ev.event);
    });
    child.once('exit', () => {
      for (const w of this.exitWaiters) w();
    });
  }

  /** The first `name` event (already seen or coming), or an error after timeoutMs or if the process exits first. */
  next(name: string, timeoutMs = 60_000): Promise<JsonEvent> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${this.name}: ${why} while waiting for '${name}'; events ${JSON.stringify(this.events.map((e) => e.event))}; stderr: ${this.stderr.trim().slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`no event after ${timeoutMs} ms`), timeoutMs);
      this.waiters.push({
        name,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
      const fatal = this.events.find((e) => e.event === 'fatal');
      if (fatal) fail(`fatal: ${String(fatal.message)}`);
      const onExit = () => setTimeout(() => fail(`exited (code ${this.child.exitCode})`), 50);
      if (this.child.exitCode !== null) onExit();
      else this.exitWaiters.push(onExit);
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  exited(timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}

export interface Capture {
  path: string;
  stop(): Promise<string>;
}

/** One network namespace with its peers, captures and temporary files. */
export class Lab {
  readonly ns: string;
  readonly dir: string;
  private readonly children: ChildProcess[] = [];

  private constructor(ns: string) {
    this.ns = ns;
    this.dir = mkdtempSync(join(tmpdir(), `${ns}-`));
  }

  static create(): Lab {
    const ns = `stv-${process.pid}-${nsCounter++}`;
    const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
    const lab = new Lab(ns);
    lab.exec(['ip', 'link', 'set', 'lo', 'up']);
    return lab;
  }

  /** Run a command inside the namespace; throws with its stderr when it fails. */
  exec(cmd: string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', this.ns, ...cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${(r.stderr || r.stdout || '').trim()}`);
    return r.stdout;
  }

  spawn(args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** A compiled helper (kernel-peer or stevens-peer) in the namespace with its JSON config. */
  peer(script: 'kernel-peer' | 'stevens-peer', config: object): Peer {
    return new Peer(script, this.spawn([process.execPath, join(DIST, `${script}.js`), JSON.stringify(config)]));
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /** tcpdump on `device` into a file; resolves once it is listening. stop() ends it and returns its summary. */
  async capture(device: string, name = 'tun.pcap'): Promise<Capture> {
    const path = this.file(name);
    const child = this.spawn(['tcpdump', '-i', device, '-n', '-s', '0', '-B', '65536', '-U', '-Z', 'root', '-w', path]);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
      child.stderr!.on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited: ${stderr}`));
      });
    });
    return {
      path,
      stop: async () => {
        if (child.exitCode === null) {
          // Not in immediate mode (which drops packets under a 20 MB burst), libpcap hands packets over when a
          // buffer block fills or after its 1 s timeout: wait that long, so the last packets (a RST, the final ACKs)
          // are in the file.
          await new Promise((r) => setTimeout(r, 1100));
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGINT');
          await exited;
        }
        return stderr;
      },
    };
  }

  /** Kill every process in the namespace (ours: it was made for this test), delete it, remove the files. */
  destroy(keepFiles = process.env.STEVENS_INTEROP_KEEP === '1'): void {
    const pids = spawnSync('ip', ['netns', 'pids', this.ns], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.ns]);
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What tshark says about a capture. */
export interface CaptureAnalysis {
  packets: number;
  tcpPackets: number;
  malformed: number;
  badChecksums: number;
  /** Expert infos of severity warning or error, by summary text. */
  warnings: Record<string, number>;
  errors: Record<string, number>;
  /** SYN and SYN-ACK options, by source address. */
  syns: { src: string; ack: boolean; mss?: number; wscale?: number; sackPermitted: boolean; timestamps: boolean }[];
  /** Largest calculated window (tcp.window_size) advertised by each source, outside SYNs. */
  maxWindow: Record<string, number>;
  /** Packets carrying SACK blocks, by source. */
  sackPackets: Record<string, number>;
  /** RST segments by source, and those of them with the ACK bit (an abort's RST carries it; answers to segments
   * for no connection that themselves carry ACK do not, RFC 9293 3.10.7.1). */
  rsts: Record<string, number>;
  rstAcks: Record<string, number>;
  /** Segments other than SYNs and RSTs, and those of them with a timestamps option, by source. */
  nonSyn: Record<string, number>;
  withTimestamps: Record<string, number>;
  zeroWindows: Record<string, number>;
  retransmissions: Record<string, number>;
  /** Data segments whose sequence number was already seen from the same source (retransmissions on the wire). */
  repeatedSegments: Record<string, number>;
  /** TCP checksum fields of 0xffff where 0x0000 is computed (valid, but tshark warns: RFC 1624), by source. */
  checksumFfff: Record<string, number>;
}

/** The test's service ports are decoded as plain data (random payload must not look like Thrift or the like). */
const DATA_PORTS = [5001, 7, 7000];

function tshark(args: string[]): string {
  const decodeAs = DATA_PORTS.flatMap((p) => ['-d', `tcp.port==${p},data`]);
  const r = spawnSync('tshark', ['-n', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', ...decodeAs, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function bump(rec: Record<string, number>, key: string): void {
  rec[key] = (rec[key] ?? 0) + 1;
}

export function analyzeCapture(path: string): CaptureAnalysis {
  const fields = ['frame.number', 'ip.src', 'ipv6.src', 'tcp.flags', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm', 'tcp.options.timestamp.tsval', 'tcp.window_size', 'tcp.options.sack.count', '_ws.malformed', 'tcp.checksum.status', 'ip.checksum.status', 'tcp.analysis.zero_window', 'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.len', 'tcp.seq_raw', 'tcp.checksum.ffff'];
  const out = tshark(['-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])]);
  const a: CaptureAnalysis = { packets: 0, tcpPackets: 0, malformed: 0, badChecksums: 0, warnings: {}, errors: {}, syns: [], maxWindow: {}, sackPackets: {}, rsts: {}, rstAcks: {}, nonSyn: {}, withTimestamps: {}, zeroWindows: {}, retransmissions: {}, repeatedSegments: {}, checksumFfff: {} };
  const seen = new Map<string, Set<number>>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [, ip4, ip6, flagsHex, mss, wscale, sackPerm, tsval, win, sackCount, malformed, tcpCk, ipCk, zeroWin, retrans, fastRetrans, len, seqRaw, ffff] = line.split('\t');
    a.packets++;
    if (malformed) a.malformed++;
    // tshark 4.0 gives a checksum field of 0xffff where 0x0000 is computed the status "bad"; RFC 1624 says both
    // are the one's complement zero (receivers accept it), so it is counted apart (checksumFfff), not as bad.
    if ((tcpCk === '0' && !ffff) || ipCk === '0') a.badChecksums++;
    if (!flagsHex) continue;
    a.tcpPackets++;
    const src = ip4 || ip6 || '?';
    const flags = parseInt(flagsHex, 16);
    const syn = (flags & 0x02) !== 0;
    if (syn) {
      a.syns.push({ src, ack: (flags & 0x10) !== 0, mss: mss ? Number(mss) : undefined, wscale: wscale ? Number(wscale) : undefined, sackPermitted: sackPerm !== undefined && sackPerm !== '', timestamps: tsval !== undefined && tsval !== '' });
    } else if (win) {
      a.maxWindow[src] = Math.max(a.maxWindow[src] ?? 0, Number(win));
    }
    if (sackCount && Number(sackCount) > 0) bump(a.sackPackets, src);
    if (flags & 0x04) {
      bump(a.rsts, src);
      if (flags & 0x10) bump(a.rstAcks, src);
    } else if (!syn) {
      bump(a.nonSyn, src);
      if (tsval) bump(a.withTimestamps, src);
    }
    if (zeroWin) bump(a.zeroWindows, src);
    if (retrans || fastRetrans) bump(a.retransmissions, src);
    if (ffff) bump(a.checksumFfff, src);
    if (len && Number(len) > 0 && seqRaw) {
      let set = seen.get(src);
      if (!set) seen.set(src, (set = new Set()));
      if (set.has(Number(seqRaw))) bump(a.repeatedSegments, src);
      else set.add(Number(seqRaw));
    }
  }
  // Expert infos: the summary table of `-z expert`, severity warning and up.
  const expert = tshark(['-r', path, '-q', '-z', 'expert,warn']);
  let section: 'warnings' | 'errors' | undefined;
  for (const line of expert.split('\n')) {
    if (/^Errors \(\d+\)/.test(line)) section = 'errors';
    else if (/^Warns \(\d+\)/.test(line)) section = 'warnings';
    else if (/^(Notes|Chats|Comments) \(\d+\)/.test(line)) section = undefined;
    const m = /^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*\S)\s*$/.exec(line);
    if (section && m && m[1] !== undefined && !/Frequency/.test(line)) a[section][`${m[3]}: ${m[4]}`] = (a[section][`${m[3]}: ${m[4]}`] ?? 0) + Number(m[1]);
  }
  return a;
}

/** The kernel's view of one connection from `ss -tni`: options in use and the segment size. */
export function parseSs(text: string): { timestamps: boolean; sack: boolean; sndWscale?: number; rcvWscale?: number; mss?: number; advmss?: number } {
  const w = /\bwscale:(\d+),(\d+)/.exec(text);
  const mss = /\bmss:(\d+)/.exec(text);
  const adv = /\badvmss:(\d+)/.exec(text);
  return {
    timestamps: /\bts\b/.test(text),
    sack: /\bsack\b/.test(text),
    sndWscale: w ? Number(w[1]) : undefined,
    rcvWscale: w ? Number(w[2]) : undefined,
    mss: mss ? Number(mss[1]) : undefined,
    advmss: adv ? Number(adv[1]) : undefined,
  };
}

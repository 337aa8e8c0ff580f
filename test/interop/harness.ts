// What the conformance tests read from their captures and from the kernel: tshark's analysis of a capture
// (checksums, expert infos, options, windows, retransmissions) and the kernel's view of a connection (`ss -tni`).
// The namespace lab itself (namespaces, peers, tcpdump) is src/tun/lab/namespace-lab.ts.
import { spawnSync } from 'node:child_process';

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

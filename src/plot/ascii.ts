// `stevens plot --ascii`: a summary and two small text plots for terminals: sequence number over time ('.' sent,
// 'R' retransmitted, '-' the ACK line) and cwnd over time ('*'; bytes in flight, 'o', when there is no cwnd).
import type { ConnectionPlot, PlotInput, Point } from './model.js';

const WIDTH = 72;
const HEIGHT = 14;

function fmtBytes(v: number): string {
  if (v >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)}M`;
  if (v >= 1024) return `${(v / 1024).toFixed(0)}K`;
  return `${Math.round(v)}`;
}

interface Layer {
  points: Point[];
  mark: string;
}

function textPlot(title: string, layers: Layer[], t0: number, t1: number): string[] {
  let yMax = 0;
  for (const l of layers) for (const [, v] of l.points) if (v > yMax) yMax = v;
  if (yMax <= 0) yMax = 1;
  const grid: string[][] = Array.from({ length: HEIGHT }, () => new Array<string>(WIDTH).fill(' '));
  const span = t1 > t0 ? t1 - t0 : 1;
  for (const l of layers) {
    for (const [t, v] of l.points) {
      const x = Math.min(WIDTH - 1, Math.max(0, Math.floor(((t - t0) / span) * (WIDTH - 1))));
      const y = Math.min(HEIGHT - 1, Math.max(0, Math.round((v / yMax) * (HEIGHT - 1))));
      grid[HEIGHT - 1 - y]![x] = l.mark;
    }
  }
  const label = fmtBytes(yMax);
  const pad = Math.max(label.length, 1);
  const out = [title];
  grid.forEach((row, i) => {
    const tag = i === 0 ? label : i === HEIGHT - 1 ? '0' : '';
    out.push(`${tag.padStart(pad)} |${row.join('')}`);
  });
  out.push(`${' '.repeat(pad)} +${'-'.repeat(WIDTH)}`);
  const left = `${t0.toFixed(2)} s`;
  const right = `${t1.toFixed(2)} s`;
  out.push(`${' '.repeat(pad + 2)}${left}${right.padStart(WIDTH - left.length)}`);
  return out;
}

export function renderAscii(input: PlotInput, c: ConnectionPlot): string {
  const lines: string[] = [];
  const dur = Math.max(0, c.lastS - c.firstS);
  const rtts = c.rtt.map((p) => p[1]);
  lines.push(`connection ${c.index} of ${input.connections.length}: ${c.label} (${input.description})`);
  lines.push(
    `${c.dataBytes} bytes in ${c.dataSegments} segments, ${c.retransmissions} retransmitted, ${dur.toFixed(3)} s` +
      (dur > 0 ? `, ${((c.dataBytes * 8) / dur / 1e6).toFixed(2)} Mbit/s` : ''),
  );
  if (rtts.length > 0) {
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    lines.push(`RTT min/avg/max ${Math.min(...rtts).toFixed(1)}/${avg.toFixed(1)}/${Math.max(...rtts).toFixed(1)} ms over ${rtts.length} samples`);
  }
  lines.push('');
  lines.push(
    ...textPlot(
      "sequence number ('.' sent, 'R' retransmitted, '-' ACK)",
      [
        { points: c.ack, mark: '-' },
        { points: c.sent, mark: '.' },
        { points: c.retransmitted, mark: 'R' },
      ],
      c.firstS,
      c.lastS,
    ),
  );
  lines.push('');
  if (c.cwnd.length > 0) {
    lines.push(...textPlot("cwnd ('*') and ssthresh ('s')", [{ points: c.ssthresh, mark: 's' }, { points: c.cwnd, mark: '*' }], c.firstS, c.lastS));
  } else {
    lines.push(...textPlot("bytes in flight ('o', estimated; a capture has no cwnd)", [{ points: c.inFlight, mark: 'o' }], c.firstS, c.lastS));
  }
  return `${lines.join('\n')}\n`;
}

/** `--list`: one line per connection. */
export function renderList(input: PlotInput, chosen: number): string {
  const lines = [`${input.description}: ${input.connections.length} connection${input.connections.length === 1 ? '' : 's'}`];
  for (const c of input.connections) {
    lines.push(
      `${c.index === chosen ? '*' : ' '} ${String(c.index).padStart(3)}  ${c.label}  ${c.dataBytes} bytes, ${c.dataSegments} segments, ${c.retransmissions} retransmitted, ${Math.max(0, c.lastS - c.firstS).toFixed(3)} s`,
    );
  }
  return `${lines.join('\n')}\n`;
}

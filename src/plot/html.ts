// The report: one self-contained HTML page (uPlot and its CSS inlined from node_modules, the data as JSON, no
// network), four charts on one time axis with a synced cursor and synced zoom (drag to zoom, double-click to
// reset): the time-sequence graph; cwnd, ssthresh and bytes in flight; RTT samples, SRTT and RTO; goodput.
// The page sets window.__stevensReport = { ready, connection, charts, series: { id: points drawn } } for tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConnectionPlot, PlotInput } from './model.js';

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

/** Text safe inside <script> and <style> elements. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Values (not times) rounded to `digits` decimals. */
function round(points: number[][], digits: number): number[][] {
  const f = 10 ** digits;
  return points.map((p) => p.map((v, i) => (i === 0 ? v : Math.round(v * f) / f)));
}

/** The data handed to the page: times rounded to the microsecond, values as they are. */
function pageData(input: PlotInput, c: ConnectionPlot, title: string) {
  const t = (pts: number[][]) => pts.map((p) => [Math.round(p[0]! * 1e6) / 1e6, ...p.slice(1)]);
  return {
    title,
    input: input.description,
    connection: { index: c.index, label: c.label, source: c.source },
    summary: {
      dataBytes: c.dataBytes,
      dataSegments: c.dataSegments,
      retransmissions: c.retransmissions,
      durationS: Math.max(0, c.lastS - c.firstS),
    },
    notes: c.notes,
    connections: input.connections.map((x) => ({ index: x.index, label: x.label, dataBytes: x.dataBytes })),
    series: {
      sent: t(c.sent),
      retransmitted: t(c.retransmitted),
      ack: t(c.ack),
      window: t(c.windowEdge),
      sack: t(c.sack),
      cwnd: t(c.cwnd),
      ssthresh: t(c.ssthresh),
      inflight: t(c.inFlight),
      rtt: round(t(c.rtt), 3),
      srtt: round(t(c.srtt), 3),
      rto: round(t(c.rto), 3),
      timeouts: round(t(c.timeouts), 3),
      goodput: round(t(c.goodput), 0),
    },
  };
}

export function renderHtml(input: PlotInput, connectionIndex: number, title = 'stevens plot'): string {
  const c = input.connections.find((x) => x.index === connectionIndex);
  if (c === undefined) throw new RangeError(`no connection ${connectionIndex}`);
  const data = JSON.stringify(pageData(input, c, title)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}: ${escapeHtml(c.label)}</title>
<style>${scriptSafe(asset('uplot/dist/uPlot.min.css'))}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <p class="sub"><span id="input"></span> &middot; connection <span id="conn"></span></p>
  <table id="summary"></table>
  <ul id="notes"></ul>
  <p class="help">Drag across a chart to zoom every chart to that time range, double-click to zoom back out; hover to read every chart at one instant.</p>
</header>
<main id="charts"></main>
<script>${scriptSafe(asset('uplot/dist/uPlot.iife.min.js'))}</script>
<script type="application/json" id="stevens-data">${data}</script>
<script>${scriptSafe(PAGE_JS)}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px 24px 40px; max-width: 1400px; color: #1d2330; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 22px 0 4px; }
.sub { color: #555; margin: 0 0 8px; }
#summary { border-collapse: collapse; margin: 6px 0; }
#summary td { padding: 1px 14px 1px 0; }
#summary td:first-child { color: #666; }
#notes { color: #666; font-size: 12px; margin: 6px 0; padding-left: 18px; }
.help { color: #888; font-size: 12px; margin: 4px 0 0; }
.chart { margin-bottom: 6px; }
.u-legend { font-size: 12px; }
`;

// Runs in the browser: plain ES2017, no modules, no network.
const PAGE_JS = String.raw`
(function () {
  'use strict';
  var report = { ready: false, charts: 0, series: {}, errors: [], dataRange: null };
  report.xRanges = function () { return charts.map(function (u) { return [u.scales.x.min, u.scales.x.max]; }); };
  window.__stevensReport = report;
  var D = JSON.parse(document.getElementById('stevens-data').textContent);
  var S = D.series;
  document.getElementById('input').textContent = D.input;
  document.getElementById('conn').textContent = D.connection.index + ' of ' + D.connections.length + ': ' + D.connection.label;
  report.connection = D.connection;

  function bytes(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    if (a >= 1048576) return (v / 1048576).toFixed(2) + ' MB';
    if (a >= 1024) return (v / 1024).toFixed(1) + ' KB';
    return Math.round(v) + ' B';
  }
  function bits(v) {
    if (v == null) return '';
    if (v >= 1e9) return (v / 1e9).toFixed(2) + ' Gbit/s';
    if (v >= 1e6) return (v / 1e6).toFixed(2) + ' Mbit/s';
    if (v >= 1e3) return (v / 1e3).toFixed(1) + ' kbit/s';
    return Math.round(v) + ' bit/s';
  }
  function ms(v) { return v == null ? '' : v.toFixed(1) + ' ms'; }
  function secs(v) { return v == null ? '' : v.toFixed(3) + ' s'; }

  var sum = D.summary;
  var rows = [
    ['data', bytes(sum.dataBytes) + ' in ' + sum.dataSegments + ' segments'],
    ['retransmissions', String(sum.retransmissions)],
    ['duration', sum.durationS.toFixed(3) + ' s'],
    ['average goodput', sum.durationS > 0 ? bits(sum.dataBytes * 8 / sum.durationS) : '-']
  ];
  var table = document.getElementById('summary');
  rows.forEach(function (r) {
    var tr = document.createElement('tr');
    r.forEach(function (c) { var td = document.createElement('td'); td.textContent = c; tr.appendChild(td); });
    table.appendChild(tr);
  });
  var notes = document.getElementById('notes');
  D.notes.forEach(function (n) { var li = document.createElement('li'); li.textContent = n; notes.appendChild(li); });

  // Aligned data for uPlot: every point of every series gets its own x slot (several segments may share one
  // instant), the other series are null there.
  function align(list) {
    var entries = [];
    list.forEach(function (pts, si) { pts.forEach(function (p) { entries.push([p[0], si, p[1]]); }); });
    entries.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var xs = new Array(entries.length);
    var ys = list.map(function () { return new Array(entries.length).fill(null); });
    entries.forEach(function (e, i) { xs[i] = e[0]; ys[e[1]][i] = e[2]; });
    return [xs].concat(ys);
  }

  var charts = [];
  var syncing = false;
  var container = document.getElementById('charts');
  function width() { return Math.max(320, container.clientWidth); }

  function scatter(label, id, color, size) {
    return { id: id, label: label, stroke: color, fill: color, width: 0, paths: function () { return null; }, points: { show: true, size: size || 4, stroke: color, fill: color }, spanGaps: true };
  }
  function line(label, id, color, dash, stepped) {
    var s = { id: id, label: label, stroke: color, width: 1.5, spanGaps: true, points: { show: false }, carry: true };
    if (dash) s.dash = dash;
    if (stepped) s.paths = uPlot.paths.stepped({ align: 1 });
    return s;
  }

  function addChart(title, id, height, defs, yFmt, extraHooks) {
    var present = defs.filter(function (d) { return d.points.length > 0; });
    present.forEach(function (d) { d.carry = !!d.series.carry; delete d.series.carry; });
    var h2 = document.createElement('h2');
    h2.textContent = title;
    container.appendChild(h2);
    if (present.length === 0) {
      var p = document.createElement('p');
      p.className = 'help';
      p.textContent = 'nothing to show for this connection';
      container.appendChild(p);
      return;
    }
    var div = document.createElement('div');
    div.className = 'chart';
    div.id = 'chart-' + id;
    container.appendChild(div);
    var data = align(present.map(function (d) { return d.points; }));
    var opts = {
      width: width(),
      height: height,
      scales: { x: { time: false } },
      cursor: { sync: { key: 'stevens', setSeries: false }, drag: { x: true, y: false } },
      legend: { live: true },
      axes: [
        { label: 'time (s)', values: function (u, vals) { return vals.map(function (v) { return +v.toFixed(3); }); } },
        { size: 96, values: function (u, vals) { return vals.map(yFmt); } }
      ],
      series: [{ label: 'time', value: function (u, v) { return secs(v); } }].concat(present.map(function (d) {
        var s = d.series;
        // Lines hold their last value between their own points (each point has its own x slot).
        s.value = function (u, v, si, idx) {
          if (v == null && d.carry && idx != null) {
            var col = u.data[si];
            for (var j = idx; j >= 0 && idx - j < 20000; j--) if (col[j] != null) { v = col[j]; break; }
          }
          return v == null ? '-' : yFmt(v);
        };
        return s;
      })),
      hooks: {
        setScale: [function (u, key) {
          if (key !== 'x' || syncing) return;
          syncing = true;
          var min = u.scales.x.min, max = u.scales.x.max;
          charts.forEach(function (o) { if (o !== u) o.setScale('x', { min: min, max: max }); });
          syncing = false;
        }]
      }
    };
    if (extraHooks) Object.keys(extraHooks).forEach(function (k) { opts.hooks[k] = extraHooks[k]; });
    var u = new uPlot(opts, data, div);
    charts.push(u);
    report.charts++;
    present.forEach(function (d, i) {
      var col = u.data[i + 1];
      var n = 0;
      for (var j = 0; j < col.length; j++) if (col[j] != null) n++;
      report.series[d.series.id] = n;
    });
    defs.forEach(function (d) { if (!(d.series.id in report.series)) report.series[d.series.id] = 0; });
  }

  try {
    // SACK blocks: a bar from the left to the right edge at the time of the ACK that carried it.
    var sackHook = {
      draw: [function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#ff7f0e';
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.beginPath();
        S.sack.forEach(function (b) {
          var x = u.valToPos(b[0], 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.moveTo(x, u.valToPos(b[1], 'y', true));
          ctx.lineTo(x, u.valToPos(b[2], 'y', true));
        });
        ctx.stroke();
        ctx.restore();
      }]
    };
    // A receive window far above the data would flatten the graph: it starts hidden (its legend entry shows it).
    var maxOf = function (pts) { return pts.reduce(function (m, p) { return p[1] > m ? p[1] : m; }, 0); };
    var seqMax = Math.max(maxOf(S.sent), maxOf(S.retransmitted), maxOf(S.ack), 1);
    var windowSeries = line('receive window edge', 'window', '#9467bd', [6, 4], true);
    if (maxOf(S.window) > 3 * seqMax) {
      windowSeries.show = false;
      var li = document.createElement('li');
      li.textContent = 'the receive window edge reaches ' + bytes(maxOf(S.window)) + ', far above the data: hidden at first (click "receive window edge" below the graph to show it)';
      notes.appendChild(li);
    }
    addChart('Time-sequence (relative sequence numbers; SACK blocks as orange bars)', 'sequence', 380, [
      { points: S.window, series: windowSeries },
      { points: S.ack, series: line('ACK', 'ack', '#2ca02c', null, true) },
      { points: S.sack.map(function (b) { return [b[0], b[2]]; }), series: scatter('SACK right edge', 'sack', '#ff7f0e', 3) },
      { points: S.sent, series: scatter('sent', 'sent', '#1f77b4', 4) },
      { points: S.retransmitted, series: scatter('retransmitted', 'retransmitted', '#d62728', 7) }
    ], bytes, sackHook);
    addChart('Congestion window, slow-start threshold, bytes in flight', 'window', 240, [
      { points: S.cwnd, series: line('cwnd', 'cwnd', '#1f77b4', null, true) },
      { points: S.ssthresh, series: line('ssthresh', 'ssthresh', '#d62728', [4, 4], true) },
      { points: S.inflight, series: line('in flight', 'inflight', '#7f7f7f', null, true) }
    ], bytes);
    addChart('Round-trip time', 'rtt', 240, [
      { points: S.rtt, series: scatter('RTT sample', 'rtt', '#1f77b4', 4) },
      { points: S.srtt, series: line('SRTT', 'srtt', '#2ca02c', null, false) },
      { points: S.rto, series: line('RTO', 'rto', '#d62728', [4, 4], true) },
      { points: S.timeouts, series: scatter('RTO fired', 'timeouts', '#000000', 8) }
    ], ms);
    addChart('Goodput (acknowledged data)', 'goodput', 200, [
      { points: S.goodput, series: line('goodput', 'goodput', '#17becf', null, true) }
    ], bits);
    var xs = [];
    charts.forEach(function (u) { if (u.data[0].length > 0) { xs.push(u.data[0][0]); xs.push(u.data[0][u.data[0].length - 1]); } });
    report.dataRange = xs.length > 0 ? [Math.min.apply(null, xs), Math.max.apply(null, xs)] : null;
    window.addEventListener('resize', function () { charts.forEach(function (u) { u.setSize({ width: width(), height: u.height }); }); });
  } catch (err) {
    report.errors.push(String(err && err.stack || err));
    throw err;
  }
  report.ready = true;
})();
`;

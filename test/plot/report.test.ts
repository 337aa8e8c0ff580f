// The HTML report in headless Chromium (Debian's, driven by playwright-core; no browser is downloaded): it opens
// from a file with no network, logs no console error, its charts hold the points the input has, zooming one chart
// zooms them all, and a screenshot is kept under artifacts/ for a person to look at.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wire } from '../../src/core/index.js';
import { dissectCapture, readCapture, traceLine } from '../../src/capture/index.js';
import { main } from '../../src/cli/main.js';
import { CHROMIUM, simLossyTransfer, tempDir } from '../support/capture.js';

const { ACK, FIN, SYN } = wire;

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface PageReport {
  ready: boolean;
  charts: number;
  series: Record<string, number>;
  errors: string[];
  connection: { index: number; label: string };
}

async function plot(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const code = await main(['plot', ...args], { out: (l) => out.push(l), err: (l) => out.push(l), setExitCode: () => undefined });
  assert.equal(code, 0, out.join('\n'));
  return out;
}

describe('stevens plot: the HTML report in Chromium', { timeout: 60_000 }, () => {
  it('trace and capture reports: no console errors, every point drawn, synced zoom, screenshots', async (t) => {
    if (CHROMIUM === undefined) {
      t.skip('chromium is not installed (apt-get install chromium; .ci/run installs it)');
      return;
    }
    const { chromium } = await import('playwright-core');
    const { dir, cleanup } = tempDir('plot');
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const r = simLossyTransfer({ seed: 1, bytes: 300_000 });
      assert.ok(r.done);
      const tracePath = join(dir, 'run.jsonl');
      writeFileSync(tracePath, r.trace.map((e) => traceLine(e, e.endpoint)).join('\n') + '\n');
      const capPath = join(dir, 'run.pcapng');
      writeFileSync(capPath, r.captures['client-tcp']!);
      const traceHtml = join(dir, 'trace.html');
      const capHtml = join(dir, 'capture.html');
      await plot([tracePath, '--out', traceHtml, '--title', 'lossy-5, seed 1 (trace)']);
      await plot([capPath, '--out', capHtml, '--title', 'lossy-5, seed 1 (capture)']);

      // What the charts must hold, counted from the inputs independently of the plot code.
      const mine = r.trace.filter((e) => e.endpoint === 'client' && 'connectionId' in e && e.connectionId === 1);
      const sends = mine.filter((e) => e.type === 'send' && !(e.flags & SYN) && (e.lengthBytes > 0 || e.flags & FIN));
      const cwnd = mine.filter((e) => e.type === 'cwnd');
      const expectTrace = {
        sent: sends.filter((e) => e.type === 'send' && !e.retransmit).length,
        retransmitted: sends.filter((e) => e.type === 'send' && e.retransmit).length,
        ack: mine.filter((e) => e.type === 'receive' && e.flags & ACK).length,
        window: mine.filter((e) => e.type === 'receive' && e.flags & ACK).length,
        sack: 0,
        cwnd: cwnd.length,
        ssthresh: cwnd.filter((e) => e.type === 'cwnd' && e.ssthreshBytes < 0x7fffffff).length,
        rtt: mine.filter((e) => e.type === 'rtt').length,
        srtt: mine.filter((e) => e.type === 'rtt').length,
        rto: mine.filter((e) => e.type === 'rtt').length,
        timeouts: mine.filter((e) => e.type === 'rto').length,
      };
      assert.equal(expectTrace.retransmitted, r.stats[0].segmentsRetransmitted);
      const segs = dissectCapture(readCapture(r.captures['client-tcp']!)).segments;
      const clientPort = r.stats[0].localPort;
      const fromClient = segs.filter((s) => s.src.port === clientPort && !(s.segment.flags & SYN) && (s.segment.payload.length > 0 || s.segment.flags & FIN));
      const toClient = segs.filter((s) => s.dst.port === clientPort && s.segment.flags & ACK);
      const expectCapture = {
        sent: fromClient.length - r.stats[0].segmentsRetransmitted,
        retransmitted: r.stats[0].segmentsRetransmitted,
        ack: toClient.length,
        window: toClient.length,
        sack: toClient.reduce((n, s) => n + (s.segment.options.sack?.length ?? 0), 0),
        cwnd: 0,
        ssthresh: 0,
      };
      assert.ok(expectCapture.sack > 10, 'the capture has SACK blocks to draw');

      mkdirSync(ARTIFACTS, { recursive: true });
      context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 900 },
        timeout: 30_000,
      });
      // Nothing but the file itself may load: any request elsewhere fails the test.
      const requests: string[] = [];
      context.on('request', (req) => {
        if (!req.url().startsWith('file://') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      for (const [name, html, expect, minCharts] of [
        ['trace', traceHtml, expectTrace, 4],
        ['capture', capHtml, expectCapture, 4],
      ] as const) {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await page.goto(`file://${html}`);
        await page.waitForFunction(() => (window as unknown as { __stevensReport?: { ready: boolean } }).__stevensReport?.ready === true, undefined, { timeout: 10_000 });
        const rep = (await page.evaluate(() => (window as unknown as { __stevensReport: unknown }).__stevensReport)) as PageReport;
        t.diagnostic(`${name} report: ${rep.charts} charts, points ${JSON.stringify(rep.series)}`);
        assert.deepEqual(problems, [], `${name}: no console errors`);
        assert.deepEqual(rep.errors, []);
        assert.equal(rep.charts, minCharts);
        for (const [k, v] of Object.entries(expect)) assert.equal(rep.series[k], v, `${name}: points in series ${k}`);
        assert.ok(rep.series.goodput! > 10 && rep.series.inflight! > 10 && rep.series.rtt! > 10);
        await page.screenshot({ path: join(ARTIFACTS, `plot-${name}.png`), fullPage: true });

        // Drag across the middle of the time-sequence chart: every chart zooms to the same time range.
        const over = page.locator('#chart-sequence .u-over');
        const box = (await over.boundingBox())!;
        await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
        await page.mouse.up();
        const ranges = (await page.evaluate(() => (window as unknown as { __stevensReport: { xRanges(): number[][] } }).__stevensReport.xRanges())) as number[][];
        assert.equal(ranges.length, rep.charts);
        for (const rg of ranges) assert.deepEqual(rg, ranges[0]);
        const full = (await page.evaluate(() => (window as unknown as { __stevensReport: { dataRange: number[] } }).__stevensReport.dataRange)) as number[];
        assert.ok(ranges[0]![1]! - ranges[0]![0]! < 0.5 * (full[1]! - full[0]!), `zoomed in: ${JSON.stringify(ranges[0])} of ${JSON.stringify(full)}`);
        await page.screenshot({ path: join(ARTIFACTS, `plot-${name}-zoomed.png`) });
        await page.close();
      }
      assert.deepEqual(requests, [], 'the report loads nothing from the network');
    } finally {
      await context?.close().catch(() => undefined);
      cleanup();
    }
  });
});

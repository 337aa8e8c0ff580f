// What a run writes as it goes: each host's replay log (the record option) and each simulated link's pcapng
// capture (the pcap option), in `<dir>/seed-<seed>/`. Each keeps what it opened and closes exactly that.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CaptureRecorder, SimCapture } from '../capture/index.js';
import { FileSink, RecordingEndpoint } from '../replay/index.js';
import { Endpoint, type EndpointOptions } from '../core/index.js';
import type { PacketEvent, Simulator } from '../sim/index.js';
import { ensureDir } from './output-dir.js';

/** The record option: one RecordingEndpoint per host, logging into `<dir>/seed-<seed>/<host>.stvlog`. */
export class ReplayLogs {
  private readonly recorders: Array<{ ep: RecordingEndpoint; path: string }> = [];

  constructor(
    private readonly dir: string,
    private readonly seed: number,
  ) {}

  /** A recording endpoint for the host `name`. */
  endpoint(name: string, options: EndpointOptions): Endpoint {
    const path = join(this.dir, `seed-${this.seed}`, `${name}.stvlog`);
    // The server comes first: the seed's folder then holds this run's logs only.
    if (name === 'server') rmSync(dirname(path), { recursive: true, force: true });
    ensureDir(dirname(path), 'replay logs');
    const ep = new RecordingEndpoint(options, new FileSink(path), { label: name, meta: { soakSeed: this.seed } });
    this.recorders.push({ ep, path });
    return ep;
  }

  /** Closes every log; their paths, in the order the hosts were made (the server's first). */
  close(): string[] {
    for (const r of this.recorders) r.ep.closeLog();
    return this.recorders.map((r) => r.path);
  }
}

/** The pcap option: one capture per link of `sim`, written as the run goes (synchronously: a run is one thread's work). */
export class LinkCaptures {
  private readonly captures: Array<{ cap: SimCapture; rec: CaptureRecorder; fd: number }> = [];

  constructor(sim: Simulator, dir: string, seed: number) {
    const folder = join(dir, `seed-${seed}`);
    rmSync(folder, { recursive: true, force: true });
    ensureDir(folder, 'captures');
    const byLink = new Map<string, SimCapture>();
    for (const link of sim.links) {
      const fd = openSync(join(folder, `${link.name.replace('->', '_to_')}.pcapng`), 'w');
      const rec = new CaptureRecorder((chunk: Uint8Array) => void writeSync(fd, chunk), { view: 'tcp', comment: `stevens soak seed ${seed}, link ${link.name}` });
      const cap = new SimCapture(rec, { at: 'wire' });
      byLink.set(link.name, cap);
      this.captures.push({ cap, rec, fd });
    }
    const previous = sim.onPacket;
    sim.onPacket = (pe: PacketEvent) => {
      previous?.(pe);
      byLink.get(pe.link.name)?.onPacket(pe);
    };
  }

  close(): void {
    for (const c of this.captures) {
      c.cap.flush();
      c.rec.close();
      closeSync(c.fd);
    }
    this.captures.length = 0;
  }
}

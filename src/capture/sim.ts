// Captures of simulated traffic, from the simulator's packet hook (Simulator.onPacket, src/sim/link.ts's
// PacketEvent). Two places to stand:
//   'wire' (default): every datagram as it enters a link, i.e. everything every host sent; a datagram the link
//                     then dropped carries the reason as a comment ("sim: dropped (loss)");
//   a host:           what tcpdump on that host would see: what it sent (dropped ones commented too) and the copies
//                     delivered to it (duplicated, corrupted or truncated copies commented).
// The simulator reports a drop right after the datagram's 'send', so one packet is held back until the next
// event (or flush()) to attach the comment.
import type { Remote } from '../core/index.js';
import type { CaptureRecorder } from './recorder.js';
import type { PacketEvent } from '../sim/link.js';

/** The fields of the simulator's PacketEvent used here (anything shaped so can be captured). */
export type SimPacketEvent = Omit<PacketEvent, 'link'>;

export interface SimCaptureOptions {
  /** Stand on the wire (default) or on the host with these addresses. */
  at?: 'wire' | { host: readonly Remote[] };
  /** Added to every simulated time (ms): e.g. Date.now() to date a capture; default 0 (the Unix epoch). */
  epochMs?: number;
}

export class SimCapture {
  private pending: { ev: SimPacketEvent; original: Uint8Array; comment: string[] } | undefined;
  private readonly hostKeys: Set<string> | undefined;
  private readonly epochMs: number;

  constructor(
    private readonly recorder: CaptureRecorder,
    options: SimCaptureOptions = {},
  ) {
    const at = options.at ?? 'wire';
    this.hostKeys = at === 'wire' ? undefined : new Set(at.host.map(key));
    this.epochMs = options.epochMs ?? 0;
  }

  /** Give this to the simulator: `sim.onPacket = (ev) => capture.onPacket(ev)`. */
  readonly onPacket = (ev: SimPacketEvent): void => {
    if (ev.kind === 'drop') {
      if (this.pending !== undefined && this.pending.original === ev.bytes) this.pending.comment.push(`sim: dropped (${ev.reason ?? 'unknown'})`);
      return;
    }
    this.flush();
    const hk = this.hostKeys;
    if (ev.kind === 'send') {
      // Held past the call: a copy (the simulator's array is only lent for the call).
      if (hk === undefined || hk.has(key(ev.from))) this.pending = { ev: { ...ev, bytes: ev.bytes.slice() }, original: ev.bytes, comment: [] };
      return;
    }
    // 'deliver': seen on the receiving host only.
    if (hk === undefined || !hk.has(key(ev.to))) return;
    const notes: string[] = [];
    if (ev.duplicate) notes.push('duplicated');
    if (ev.corrupted) notes.push('corrupted');
    if (ev.truncated) notes.push('truncated');
    this.write(ev, notes.length > 0 ? `sim: ${notes.join(', ')} copy` : undefined);
  };

  /** Writes the datagram held back (call before closing the recorder). */
  flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    this.write(p.ev, p.comment.length > 0 ? p.comment.join('; ') : undefined);
  }

  private write(ev: SimPacketEvent, comment: string | undefined): void {
    this.recorder.record(ev.atMs + this.epochMs, ev.from, ev.to, ev.bytes, comment);
  }
}

function key(r: Remote): string {
  return `${r.address.toLowerCase()}|${r.port}`;
}

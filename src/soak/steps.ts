// A run's outputs as a sequence of steps: every packet event of the simulator (a datagram entering a link, a copy
// delivered, a drop) and every endpoint event handed to an application. Two observers of that sequence: a
// SHA-256 over all of it (the digest option), and the step log of --check-determinism, which keeps a 32-bit
// hash per step of the first run and stops the second at the first step whose hash differs (madsim's
// MADSIM_TEST_CHECK_DETERMINISTIC does the same with its random draws).
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { EndpointEvent } from '../core/index.js';
import type { PacketEvent } from '../sim/index.js';

export interface StepObserver {
  /** One output: its text (time, kind, where, what) and the bytes it carried, if any. */
  step(text: string, bytes?: Uint8Array): void;
}

export function packetStep(pe: PacketEvent): string {
  return `${pe.kind}|${pe.atMs}|${pe.link.name}|${pe.reason ?? ''}|${pe.duplicate ? 'd' : ''}${pe.corrupted ? 'c' : ''}${pe.truncated ? 't' : ''}|`;
}

export function eventStep(nowMs: number, host: string, ev: EndpointEvent): string {
  return `${nowMs}|${host}|${ev.type}|${ev.connection.id}|${ev.type === 'closed' ? (ev.error?.code ?? '') : ''}|${ev.type === 'datagram' ? ev.bytes.length : ''}\n`;
}

/** The digest option: SHA-256 over every step. */
export class StepDigest implements StepObserver {
  private readonly hash: Hash = createHash('sha256');
  step(text: string, bytes?: Uint8Array): void {
    this.hash.update(text);
    if (bytes !== undefined) this.hash.update(bytes);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Where the second run's outputs first differed from the first run's. */
export interface Divergence {
  /** The step's index (0: the first output). */
  step: number;
  /** The second run's output there (absent: the second run ended there, the first went on). */
  second?: string;
  /** The outputs before it (equal in both runs), oldest first. */
  before: string[];
  /** The first run's step count, when the second run went past it. */
  firstRunSteps: number;
}

const CONTEXT_STEPS = 6;

/** The first run's step hashes, grown in chunks (4 bytes a step). */
export class StepLog implements StepObserver {
  private chunks: Uint32Array[] = [];
  private n = 0;
  private static readonly CHUNK = 1 << 16;

  get steps(): number {
    return this.n;
  }

  step(text: string, bytes?: Uint8Array): void {
    const i = this.n++;
    const c = i >>> 16;
    if (c === this.chunks.length) this.chunks.push(new Uint32Array(StepLog.CHUNK));
    this.chunks[c]![i & 0xffff] = stepHash(text, bytes);
  }

  at(i: number): number {
    return this.chunks[i >>> 16]![i & 0xffff]!;
  }
}

/** The second run: compares each step with the first run's log, and reports the first that differs. */
export class StepCheck implements StepObserver {
  private n = 0;
  private readonly recent: string[] = [];
  divergence: Divergence | undefined;

  constructor(
    private readonly first: StepLog,
    private readonly onDivergence: (d: Divergence) => void,
  ) {}

  get steps(): number {
    return this.n;
  }

  step(text: string, bytes?: Uint8Array): void {
    if (this.divergence !== undefined) return;
    const i = this.n++;
    if (i >= this.first.steps || this.first.at(i) !== stepHash(text, bytes)) {
      this.diverge({ step: i, second: describe(text, bytes), before: [...this.recent], firstRunSteps: this.first.steps });
      return;
    }
    this.recent.push(describe(text, bytes));
    if (this.recent.length > CONTEXT_STEPS) this.recent.shift();
  }

  /** The second run is over: fewer steps than the first is a divergence too. */
  end(): void {
    if (this.divergence === undefined && this.n < this.first.steps) {
      this.diverge({ step: this.n, before: [...this.recent], firstRunSteps: this.first.steps });
    }
  }

  private diverge(d: Divergence): void {
    this.divergence = d;
    this.onDivergence(d);
  }
}

function stepHash(text: string, bytes?: Uint8Array): number {
  const h = crc32(text);
  return bytes === undefined ? h : crc32(bytes, h);
}

/** A step as a reader wants it: "send at 432.441 ms on client0->server (290 bytes, crc32 6c96b584)". */
function describe(text: string, bytes?: Uint8Array): string {
  const f = text.replace(/\n$/, '').split('|');
  const ms = (t: string | undefined) => `${Math.round(Number(t) * 1000) / 1000} ms`;
  let words: string;
  if (Number.isFinite(Number(f[0]))) {
    // An endpoint event: time|host|type|connection|error code|datagram length.
    words = `${f[1]} '${f[2]}'${f[4] ? ` ${f[4]}` : ''} on connection ${f[3]} at ${ms(f[0])}${f[5] ? ` (${f[5]}-byte datagram)` : ''}`;
  } else {
    // A packet event: kind|time|link|drop reason|flags.
    const flags = [f[4]?.includes('d') ? 'duplicate' : '', f[4]?.includes('c') ? 'corrupted' : '', f[4]?.includes('t') ? 'truncated' : ''].filter(Boolean);
    words = `${f[0]}${f[3] ? ` (${f[3]})` : ''} at ${ms(f[1])} on ${f[2]}${flags.length > 0 ? `, ${flags.join(' ')}` : ''}`;
  }
  return bytes === undefined ? words : `${words} (${bytes.length} bytes, crc32 ${crc32(bytes).toString(16).padStart(8, '0')})`;
}

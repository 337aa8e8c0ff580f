// Always-on recording in bounded space: the log is cut into chunks, each a standalone log that starts with a
// snapshot of the endpoint (so it replays on its own), and the oldest chunks are dropped once the ring holds more
// than its budget. Chunks live in memory or as files `<prefix>-<index>.stvlog` in a directory.
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_EXTENSION } from './format.js';
import { writeAll, type LogSink } from './writer.js';

export interface RingOptions {
  /** The most bytes kept, all chunks together (the newest chunk may overshoot by up to one block). */
  ringBytes: number;
  /** Keep chunks as files in this directory (created if missing); absent: in memory. */
  dir?: string;
  /** File names are `<prefix>-<index, 6 digits>.stvlog` (default 'ring'). */
  prefix?: string;
  /** How many chunks the budget is cut into (default 4): each chunk is about ringBytes / chunks. */
  chunks?: number;
}

interface Chunk {
  index: number;
  bytes: number;
  /** Writes so far (the header is the first, the block holding the chunk's snapshot the second). */
  writes: number;
  /** Bytes up to and including the snapshot's block. */
  baseBytes: number;
  path?: string;
  buffers?: Buffer[];
}

export class RingSink implements LogSink {
  readonly ringBytes: number;
  readonly chunkBytes: number;
  readonly dir: string | undefined;
  readonly prefix: string;
  /** Chunks dropped so far to stay within the budget. */
  evicted = 0;
  private readonly kept: Chunk[] = [];
  private fd: number | undefined;
  private nextIndex = 0;
  private closed = false;

  constructor(opts: RingOptions) {
    if (!(opts.ringBytes > 0)) throw new RangeError(`ringBytes must be > 0, got ${opts.ringBytes}`);
    const chunks = opts.chunks ?? 4;
    if (!Number.isInteger(chunks) || chunks < 2) throw new RangeError(`a ring needs at least 2 chunks, got ${chunks}`);
    this.ringBytes = opts.ringBytes;
    this.chunkBytes = Math.max(1, Math.floor(opts.ringBytes / chunks));
    this.dir = opts.dir;
    this.prefix = opts.prefix ?? 'ring';
    if (!/^[\w.@-]+$/.test(this.prefix)) throw new RangeError(`ring prefix must be a plain file name part, got '${this.prefix}'`);
    if (this.dir !== undefined) mkdirSync(this.dir, { recursive: true });
  }

  /**
   * The current chunk is full: it reached chunkBytes, and holds at least as many bytes of records as of
   * snapshot (a big endpoint's snapshot must not crowd the records out: its chunks grow instead).
   */
  get wantsNewFile(): boolean {
    const cur = this.kept[this.kept.length - 1];
    if (cur === undefined || cur.writes < 2) return false;
    return cur.bytes >= this.chunkBytes && cur.bytes - cur.baseBytes >= cur.baseBytes;
  }

  /** Bytes held by every kept chunk. */
  get bytes(): number {
    let n = 0;
    for (const c of this.kept) n += c.bytes;
    return n;
  }

  startFile(): number {
    if (this.closed) throw new Error('the ring is closed');
    this.closeFd();
    const index = this.nextIndex++;
    const chunk: Chunk = { index, bytes: 0, writes: 0, baseBytes: 0 };
    if (this.dir !== undefined) {
      chunk.path = join(this.dir, `${this.prefix}-${String(index).padStart(6, '0')}${FILE_EXTENSION}`);
      this.fd = openSync(chunk.path, 'w');
    } else chunk.buffers = [];
    this.kept.push(chunk);
    // Room for the new chunk to fill up: drop the oldest until the others leave a chunk's worth of budget.
    while (this.kept.length > 1 && this.bytes + this.chunkBytes > this.ringBytes) this.drop(this.kept.shift()!);
    return index;
  }

  write(bytes: Buffer, more?: Buffer): void {
    const cur = this.kept[this.kept.length - 1];
    if (cur === undefined || this.closed) throw new Error('the ring has no open chunk');
    if (cur.buffers !== undefined) {
      cur.buffers.push(bytes);
      if (more !== undefined) cur.buffers.push(more);
    } else writeAll(this.fd!, bytes, more);
    cur.bytes += bytes.length + (more?.length ?? 0);
    if (++cur.writes === 2) cur.baseBytes = cur.bytes;
  }

  close(): void {
    this.closeFd();
    this.closed = true;
  }

  /** In memory: every kept chunk, oldest first, each a standalone log. */
  logs(): Buffer[] {
    return this.kept.map((c) => (c.buffers !== undefined ? Buffer.concat(c.buffers) : Buffer.alloc(0)));
  }

  /** In a directory: the kept chunk files, oldest first. */
  paths(): string[] {
    return this.kept.flatMap((c) => (c.path !== undefined ? [c.path] : []));
  }

  private drop(c: Chunk): void {
    this.evicted++;
    if (c.path !== undefined) {
      try {
        unlinkSync(c.path);
      } catch {
        // Gone already: nothing to free.
      }
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The chunk files of the ring in `dir`, oldest first. With several rings in the directory, `prefix` picks one;
 * without it, an error names them.
 */
export function ringFiles(dir: string, prefix?: string): string[] {
  const groups = new Map<string, string[]>();
  for (const name of readdirSync(dir).sort()) {
    const m = /^(.*)-(\d{6,})\.stvlog$/.exec(name);
    if (m === null || !statSync(join(dir, name)).isFile()) continue;
    const list = groups.get(m[1]!) ?? [];
    list.push(join(dir, name));
    groups.set(m[1]!, list);
  }
  if (prefix !== undefined) {
    const files = groups.get(prefix);
    if (files === undefined) throw new Error(`no ring '${prefix}' in ${dir} (found: ${[...groups.keys()].join(', ') || 'none'})`);
    return sortByIndex(files);
  }
  if (groups.size === 0) throw new Error(`no ring chunks (<prefix>-<index>.stvlog) in ${dir}`);
  if (groups.size > 1) throw new Error(`${dir} holds several rings (${[...groups.keys()].join(', ')}): pass the chunk files of one, e.g. ${join(dir, `${[...groups.keys()][0]}-*.stvlog`)}`);
  return sortByIndex([...groups.values()][0]!);
}

function sortByIndex(files: string[]): string[] {
  const idx = (f: string) => Number(/-(\d+)\.stvlog$/.exec(f)![1]);
  return [...files].sort((a, b) => idx(a) - idx(b));
}

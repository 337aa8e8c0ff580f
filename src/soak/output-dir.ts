// The folders and files a soak writes (captures, replay logs, shard results): made before the run starts, so a
// path that cannot be written is one error line instead of a failure inside every seed, and written so that a
// reader (a merge, an object-storage sync) never sees half a file.
import { accessSync, constants, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A folder the soak was asked to write into cannot be made or written. */
export class OutputDirError extends Error {
  override name = 'OutputDirError';
}

/**
 * mkdir -p, one level at a time from the nearest folder that exists. (Node 20's recursive mkdirSync never returns
 * for a path under /proc: it retries the ENOENT it gets there forever.) Throws an OutputDirError naming `what`.
 */
export function ensureDir(path: string, what: string): string {
  const full = resolve(path);
  const missing: string[] = [];
  let at = full;
  for (;;) {
    const kind = kindOf(at);
    if (kind === 'dir') break;
    if (kind === 'other') throw new OutputDirError(`${what} ${path}: ${at} is not a folder`);
    const up = dirname(at);
    if (up === at) break;
    missing.unshift(at);
    at = up;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && kindOf(dir) === 'dir') continue;
      throw new OutputDirError(`${what} ${path}: cannot create ${dir} (${err.code ?? err.message})`);
    }
  }
  try {
    accessSync(full, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutputDirError(`${what} ${path}: not writable (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return full;
}

function kindOf(path: string): 'dir' | 'other' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

/** Writes `text` to `path` whole or not at all: into a temporary name beside it, then renamed over it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

// Finding scripts: files as given, directories searched recursively for *.pkt, sorted.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const SCRIPT_EXTENSION = '.pkt';

function walk(dir: string, out: string[]): void {
  const names = readdirSync(dir).sort();
  for (const name of names) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) walk(path, out);
    else if (st.isFile() && name.endsWith(SCRIPT_EXTENSION)) out.push(path);
  }
}

/** Expands files and directories into script paths (directories: every *.pkt below, sorted). Throws for a missing path. */
export function collectScripts(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`no such file or directory: ${p}`);
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(p, found);
      out.push(...found.sort());
    } else out.push(p);
  }
  return out;
}

// Whether a module is the script node was started with (also through npm's bin symlink), so a file can be both
// a runnable command and an importable module.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Pass the module's own import.meta.url. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

// What build of stevens made a result: the package's version and, when known, the git commit, so a seed plus
// the options and these reproduces a run anywhere (TigerBeetle's VOPR prints the same), and a merge can refuse
// shards of different builds. The commit comes from STEVENS_COMMIT (the image build and CI set it; a checkout
// with local changes should end it in "-dirty"), else from git in the package's own folder.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Provenance {
  version: string;
  /** The git commit, "-dirty" appended when the work tree had changes; absent when unknown. */
  commit?: string;
}

/** The package root, from this file's place in it (src/soak/ or dist/src/soak/). */
function packageRoot(): URL {
  const here = new URL('.', import.meta.url);
  return here.pathname.includes('/dist/src/') ? new URL('../../../', here) : new URL('../../', here);
}

let cached: Provenance | undefined;

export function provenance(): Provenance {
  if (cached !== undefined) return cached;
  const root = packageRoot();
  let version = 'unknown';
  try {
    version = String((JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    // Not in a package: leave it unknown.
  }
  cached = { version };
  // Only stevens' own checkout: installed under a project's node_modules, git would answer for that project.
  const commit = process.env.STEVENS_COMMIT?.trim() || (existsSync(new URL('.git', root)) ? gitCommit(fileURLToPath(root)) : undefined);
  if (commit !== undefined) cached.commit = commit;
  return cached;
}

function gitCommit(cwd: string): string | undefined {
  const git = (args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  const head = git(['rev-parse', '--verify', 'HEAD']);
  const sha = head.status === 0 ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{40}$/.test(sha)) return undefined;
  // Only the tracked files count: a run's own output folders are not changes to stevens.
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return status.status === 0 && status.stdout.trim() !== '' ? `${sha}-dirty` : sha;
}

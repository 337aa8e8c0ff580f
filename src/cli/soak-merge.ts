// `stevens soak merge DIR...`: the shard files of a sweep (`stevens soak --out DIR` on each machine) as one report:
// the tables of a local run over every seed, the totals, connection-hours simulated, and every failing seed with
// the commands that reproduce and replay it. Exit status 0 when every seed held, 1 when one failed, 2 when the
// files cannot be merged (a shard missing or twice, mixed versions or options, a bad file).
import { CommanderError, type Command } from 'commander';
import { findShardFiles, MergeError, mergeShardFiles } from '../soak/merge.js';
import { formatSummary, jsonReport } from '../soak/report.js';
import { ShardFileError } from '../soak/shard-file.js';
import type { CliIo } from './io.js';

export function runSoakMerge(args: string[], opts: { json?: boolean }, io: CliIo): number {
  let merged;
  try {
    merged = mergeShardFiles(findShardFiles(args));
  } catch (e) {
    if (!(e instanceof MergeError || e instanceof ShardFileError)) throw e;
    io.err(`error: ${e.message}`);
    return 2;
  }
  const { results, desc, shards } = merged;
  if (opts.json) {
    const shardList = shards.map((s) => ({ file: s.path, shard: s.shard, seeds: s.seeds.length, wallMs: s.wallMs, workers: s.workers }));
    io.out(JSON.stringify({ ...jsonReport(results, desc), shards: shardList }));
  } else {
    const lines = formatSummary(results, desc);
    lines.splice(1, 0, `merged ${shards.length} shard file${shards.length === 1 ? '' : 's'}: ${shards.map((s) => s.path).join(', ')}`);
    for (const line of lines) io.out(line);
  }
  return results.some((r) => r.violationCount > 0) ? 1 : 0;
}

export function registerSoakMerge(soak: Command, io: CliIo): void {
  soak
    .command('merge')
    .description('merge shard results (soak --out DIR on each machine) into one report; refuses missing or duplicate shards and mixed versions or options')
    .argument('<paths...>', 'folders holding shard-<I>-of-<N>.json files, or the files')
    .option('--json', 'print one JSON object instead of the summary')
    .exitOverride((err) => {
      if (err.exitCode !== 0) throw new CommanderError(2, err.code, err.message);
      throw err;
    })
    .action((paths: string[], _opts: unknown, cmd: Command) => {
      // `soak` has a --json of its own, which commander gives the option to when it follows the subcommand.
      io.setExitCode(runSoakMerge(paths, cmd.optsWithGlobals<{ json?: boolean }>(), io));
    });
}

// The shipped manifests for running soak shards on engines users have: the Kubernetes Indexed Job
// (deploy/k8s/soak-job.yaml), the GitHub Actions matrix (.github/workflows/soak.yml) and the Dockerfile. The YAML
// is parsed and checked for what each engine needs; the image is built and run where a Docker engine answers,
// and the build test says why it skips where none does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseAllDocuments, parse } from 'yaml';
import { parseShard, parseSeedRange } from '../../src/soak/options.js';

const run = promisify(execFile);

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

/** The value after `flag` in an argument list. */
function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

test('deploy/k8s/soak-job.yaml: an Indexed Job whose pods run their shard with --shard auto/N and write to a volume', () => {
  const docs = parseAllDocuments(readFileSync('deploy/k8s/soak-job.yaml', 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], String(d.errors));
  const objects = docs.map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec: any });
  const job = objects.find((o) => o.kind === 'Job')!;
  assert.equal(job.apiVersion, 'batch/v1');
  const spec = job.spec;
  assert.equal(spec.completionMode, 'Indexed');
  assert.ok(Number.isInteger(spec.completions) && spec.completions > 1);
  assert.ok(Number.isInteger(spec.parallelism) && spec.parallelism >= 1 && spec.parallelism <= spec.completions);
  // A failed pod is retried with its index; a shard that found a bug (exit 1) is not run again for nothing.
  assert.ok(spec.backoffLimitPerIndex >= 1);
  const rules = spec.podFailurePolicy.rules as Array<{ action: string; onExitCodes?: { values: number[] } }>;
  assert.deepEqual(rules.find((r) => r.onExitCodes?.values.includes(1))?.action, 'FailIndex');
  assert.deepEqual(rules.find((r) => r.onExitCodes?.values.includes(2))?.action, 'FailJob');
  const pod = spec.template.spec;
  assert.equal(pod.restartPolicy, 'Never');
  const c = (pod.containers as Container[]).find((x) => x.name === 'soak')!;
  const args = [...(c.command ?? []), ...(c.args ?? [])];
  assert.equal(args[0], 'soak');
  const shard = parseShard(after(args, '--shard')!);
  assert.ok('auto' in shard, 'the index comes from JOB_COMPLETION_INDEX');
  assert.equal(shard.count, spec.completions, '--shard auto/N with N = completions');
  const seeds = parseSeedRange(after(args, '--seeds')!);
  assert.ok(seeds.to - seeds.from + 1 >= spec.completions, 'every shard has seeds');
  const out = after(args, '--out')!;
  const mount = c.volumeMounts!.find((m) => m.mountPath === out)!;
  assert.ok(mount, `--out ${out} is a mounted volume`);
  const volume = (pod.volumes as Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>).find((v) => v.name === mount.name)!;
  const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === volume.persistentVolumeClaim?.claimName);
  assert.ok(claim, 'the claim the job mounts is in the file');
  assert.ok(claim.spec.accessModes.includes('ReadWriteMany'), 'every pod writes its own file into it');
  // Sized as measured: two cores (two worker threads), and memory above the ~500 MB a 2-worker soak peaks at.
  assert.equal(c.resources!.requests!.cpu, '2');
  assert.equal(c.resources!.limits!.memory, c.resources!.requests!.memory);
  assert.match(c.resources!.requests!.memory!, /^1Gi$/);
});

test('.github/workflows/soak.yml: a matrix of shards, each uploading its result, then a merge job', () => {
  const wf = parse(readFileSync('.github/workflows/soak.yml', 'utf8'));
  assert.ok(wf.on.schedule?.[0]?.cron, 'runs nightly');
  assert.ok('workflow_dispatch' in wf.on);
  const shard = wf.jobs.shard;
  const matrix = shard.strategy.matrix.shard as number[];
  assert.ok(matrix.length > 1);
  assert.deepEqual(matrix, [...matrix.keys()]);
  assert.equal(shard.strategy['fail-fast'], false, 'a failing shard does not cancel the others');
  assert.equal(shard.env.STEVENS_SHARD_INDEX, '${{ strategy.job-index }}');
  const soakStep = (shard.steps as Array<{ run?: string }>).find((s) => s.run?.includes('stevens soak'))!;
  assert.match(soakStep.run!, /--shard auto\/\$\{\{ strategy\.job-total \}\}/);
  assert.match(soakStep.run!, /--out soak-out/);
  const upload = (shard.steps as Array<{ uses?: string; if?: string; with?: Record<string, string> }>).find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  assert.equal(upload.if, 'always()', "a failing shard's result and logs are kept too");
  assert.match(upload.with!.name!, /\$\{\{ matrix\.shard \}\}/, 'one artifact per shard');
  const merge = wf.jobs.merge;
  assert.equal(merge.needs, 'shard');
  assert.equal(merge.if, 'always()');
  const steps = merge.steps as Array<{ uses?: string; run?: string; with?: Record<string, unknown> }>;
  const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact'))!;
  assert.equal(download.with!.pattern, 'soak-shard-*');
  assert.ok(steps.some((s) => s.run?.includes('stevens soak merge soak-out')));
  assert.ok(wf.jobs.docker.steps.some((s: { run?: string }) => s.run?.includes('docker build')));
});

test('the Dockerfile builds the CLI from what the repository has and runs it as its entry point', () => {
  const text = readFileSync('Dockerfile', 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const froms = lines.filter((l) => /^FROM /.test(l));
  assert.equal(froms.length, 2, 'a build stage and a runtime stage');
  for (const f of froms) assert.match(f, /^FROM node:\$\{NODE_VERSION\}/);
  assert.match(text, /^ARG NODE_VERSION=20$/m);
  for (const l of lines.filter((x) => /^COPY (?!--from)/.test(x))) {
    for (const src of l.split(/\s+/).slice(1, -1)) assert.ok(existsSync(src), `${l}: ${src} is in the repository`);
  }
  assert.match(text, /RUN npx tsc -p \./);
  assert.match(text, /npm ci --omit=dev/);
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(text)!;
  assert.deepEqual(JSON.parse(entry[1]!), ['node', '/app/dist/src/cli/main.js']);
  assert.ok(existsSync('dist/src/cli/main.js'), 'what the build stage compiles to');
  assert.match(text, /ENV STEVENS_COMMIT=/);
  const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
  for (const x of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(x), `.dockerignore leaves out ${x}`);
});

const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
const noEngine =
  engine.error !== undefined
    ? `no docker client (${(engine.error as NodeJS.ErrnoException).code})`
    : engine.status !== 0
      ? `no Docker engine answers (docker info: ${(engine.stderr || engine.stdout).trim().split('\n')[0]})`
      : false;

test('the image builds and runs a soak', { skip: noEngine, timeout: 600_000 }, async () => {
  const tag = `stevens-test:${process.pid}`;
  try {
    await run('docker', ['build', '--build-arg', 'STEVENS_COMMIT=test', '-t', tag, '.'], { timeout: 540_000, maxBuffer: 64 << 20 });
    const { stdout } = await run('docker', ['run', '--rm', tag, 'soak', '--profile', 'lan', '--connections', '2', '--duration', '5s', '--seed', '1', '--json'], { timeout: 60_000 });
    const j = JSON.parse(stdout);
    assert.equal(j.ok, true);
    assert.equal(j.commit, 'test');
  } finally {
    spawnSync('docker', ['rmi', '-f', tag], { timeout: 60_000 });
  }
});

/**
 * @module bench/offline
 * The offline engine at scale: real GSM8K model solutions (../shared/data), replicated under new
 * problem ids into one problems file and one paths-jsonl file of N paths (as a user's batch job
 * writes them), run through `tracepipe run` in a child process with no model: ingest, align,
 * score, calibrate, filter, emit, report and publish. Wall time and peak RSS (`/usr/bin/time`) at
 * 100k paths and at N, so flat memory shows. The replicas' texts repeat, but nothing in the
 * pipeline caches a result across shards, and each replica's question and steps carry a tag of
 * letters of its own (`Replica bc:`, no digit, so nothing it reads changes), so no text repeats
 * and every path is aligned and scored afresh even by the caches a shard keeps of its texts.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingest } from '../stages/ingest/ingest.ts';
import { nodeFiles } from '../pipeline/io/files.ts';
import { byProblemId } from '../stages/lib/group.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)), '..');
const repo = existsSync(join(root, 'package.json')) ? root : resolve(root, '..');
const shared = (...p: string[]) => resolve(repo, '..', 'shared', 'data', ...p);

/** `r` in letters (1 → b, 26 → bb ...): a tag with no digit in it. */
function letters(r: number): string {
  let out = '';
  do {
    out = String.fromCharCode(97 + (r % 26)) + out;
    r = Math.floor(r / 26);
  } while (r > 0);
  return out;
}

/** Writes `problems.jsonl` and `paths.jsonl` with `total` paths built from GSM8K; returns their paths. */
export async function writeReplicas(
  dir: string,
  total: number,
): Promise<{ problems: string; paths: string; count: number }> {
  const src = await ingest(
    [
      { path: shared('gsm8k', 'test_socratic.jsonl'), format: 'gsm8k-socratic' },
      { path: shared('gsm8k', 'example_model_solutions.jsonl'), format: 'gsm8k-solutions' },
    ],
    { runId: 'bench', files: nodeFiles() },
  );
  const nodesOf = byProblemId(src.nodes);
  const pathsOf = byProblemId(src.paths);
  const withPaths = src.problems.filter((p) => pathsOf.has(p.problem_id));
  const perRound = withPaths.reduce((n, p) => n + pathsOf.get(p.problem_id)!.length, 0);
  const rounds = Math.ceil(total / perRound);
  await mkdir(dir, { recursive: true });
  const problems = join(dir, 'problems.jsonl');
  const paths = join(dir, 'paths.jsonl');
  const po = createWriteStream(problems);
  const pa = createWriteStream(paths);
  let count = 0;
  const write = async (s: NodeJS.WritableStream, line: string) => {
    if (!s.write(`${line}\n`)) await once(s, 'drain');
  };
  for (let r = 0; r < rounds && count < total; r++) {
    const tag = r === 0 ? '' : `Replica ${letters(r)}: `;
    for (const p of withPaths) {
      if (count >= total) break;
      const id = `${p.problem_id}~${r}`;
      const ars = (nodesOf.get(p.problem_id) ?? [])
        .filter((n) => !n.is_final)
        .map((n) => ({
          node_id: n.node_id,
          question: n.question,
          depends_on: n.depends_on,
          answer: n.answer,
          answer_spec: n.answer_spec,
        }));
      await write(
        po,
        JSON.stringify({
          problem_id: id,
          domain: p.domain,
          question: tag + p.question,
          answer: p.answer,
          answer_spec: p.answer_spec,
          ars,
        }),
      );
      for (const x of pathsOf.get(p.problem_id)!) {
        if (count >= total) break;
        await write(
          pa,
          JSON.stringify({
            problem_id: id,
            path_id: `${id}/${x.sample_index}`,
            steps: x.steps.map((t) => tag + t),
            final_answer: x.final_answer,
            correct: x.given_correct,
            model: x.model,
          }),
        );
        count++;
      }
    }
  }
  po.end();
  pa.end();
  await Promise.all([once(po, 'finish'), once(pa, 'finish')]);
  return { problems, paths, count };
}

/** The replicas of `writeReplicas`, written once per folder (a marker file records the count). */
async function replicas(dir: string, total: number) {
  const marker = join(dir, 'complete.json');
  if (existsSync(marker)) {
    const m = JSON.parse(await readFile(marker, 'utf8')) as { version: number; total: number; count: number };
    if (m.version === REPLICA_VERSION && m.total === total)
      return { problems: join(dir, 'problems.jsonl'), paths: join(dir, 'paths.jsonl'), count: m.count };
  }
  const r = await writeReplicas(dir, total);
  await writeFile(marker, JSON.stringify({ version: REPLICA_VERSION, total, count: r.count }));
  return r;
}

/** Bumped when `writeReplicas` writes other files. */
const REPLICA_VERSION = 2;

/** Shards for a run of `paths` paths: about 4,000 paths a shard (a power of two, at least 64), as the README advises. */
export const shardsFor = (paths: number) => Math.max(64, 2 ** Math.round(Math.log2(paths / 4000)));

/** Runs the CLI on the replicas; returns wall seconds, peak RSS in MB, and per-stage seconds. */
export async function runOffline(
  dir: string,
  inputs: { problems: string; paths: string; count: number },
  name: string,
) {
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      name,
      runs_dir: join(dir, 'runs'),
      inputs: [{ path: inputs.problems }, { path: inputs.paths, format: 'paths-jsonl' }],
      engine: { shards: shardsFor(inputs.count) },
    }),
  );
  await rm(join(dir, 'runs', name), { recursive: true, force: true });
  const cli = join(repo, 'dist', 'pipeline', 'cli', 'main.js');
  const t0 = performance.now();
  const { stderr, stdout } = await new Promise<{ stderr: string; stdout: string }>((ok, fail) =>
    execFile(
      '/usr/bin/time',
      ['-f', 'MAXRSS %M', process.execPath, cli, 'run', '--config', config],
      { maxBuffer: 256 << 20, env: { ...process.env, TRACEPIPE_LOG: 'json' } },
      (e, out, err) =>
        e ? fail(new Error(`offline run failed: ${e.message}\n${err.slice(-2000)}`)) : ok({ stdout: out, stderr: err }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const rss = Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    status: string;
    stages: Record<string, { seconds: number }>;
  };
  if (summary.status !== 'done') throw new Error(`offline run ended ${summary.status}`);
  const manifest = JSON.parse(await readFile(join(dir, 'runs', name, 'manifest.json'), 'utf8')) as {
    read: { seconds: number };
  };
  const stages = Object.fromEntries([
    ['read', Number(manifest.read.seconds.toFixed(1))],
    ...Object.entries(summary.stages).map(([k, v]) => [k, Number(v.seconds.toFixed(1))]),
  ]);
  return { wall, rss, stages };
}

const round = (x: number, d = 1) => Number(x.toFixed(d));

/** The `offline` line: `paths` paths (default 1M), and the same at 100k for the memory comparison. */
export async function benchOffline(paths = Number(process.env.TRACEPIPE_BENCH_OFFLINE_PATHS ?? 1_000_000)) {
  if (!existsSync(shared('gsm8k', 'test_socratic.jsonl')))
    throw new Error(`the offline bench reads ${shared('gsm8k')}, which is missing`);
  const dir = join(repo, 'build', 'bench-offline');
  const small = await replicas(join(dir, 'in-100k'), Math.min(100_000, paths));
  const r100 = await runOffline(dir, small, 'offline-100k');
  const big = paths > 100_000 ? await replicas(join(dir, `in-${paths}`), paths) : small;
  const r = paths > 100_000 ? await runOffline(dir, big, 'offline') : r100;
  return {
    bench: 'offline',
    paths: big.count,
    shards: shardsFor(big.count),
    wall_s: round(r.wall),
    paths_per_s: Math.round(big.count / r.wall),
    peak_rss_mb: round(r.rss),
    peak_rss_mb_100k: round(r100.rss),
    wall_s_100k: round(r100.wall),
    stages_s: r.stages,
  };
}

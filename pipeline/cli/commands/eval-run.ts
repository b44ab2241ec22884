/**
 * @module pipeline/cli/commands/eval-run
 * What the evaluations share: they write input files to a work folder, run the pipeline itself
 * on them (`runPipeline`), and read the rows it emitted from the published Parquet outputs, so
 * every number they report is a measure of what ships.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../../schemas/config.ts';
import { runPipeline, type RunResult } from '../../engine/run.ts';
import { datasetDir } from '../../engine/layout.ts';
import { sqlString, Store } from '../../io/store.ts';
import { wilson } from '../../../stages/lib/metrics.ts';
import type { FfsEvidence } from '../../../schemas/index.ts';

/** A work folder: `dir` when given (kept), else a fresh temporary one removed by `done`. */
export async function workFolder(dir?: string): Promise<{ dir: string; done: () => Promise<void> }> {
  if (dir) {
    await mkdir(dir, { recursive: true });
    return { dir, done: async () => {} };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'tracepipe-eval-'));
  return { dir: tmp, done: () => rm(tmp, { recursive: true, force: true }) };
}

/** Writes rows as JSONL (one object a line). */
export async function writeJsonl(file: string, rows: Iterable<unknown>): Promise<void> {
  const lines: string[] = [];
  for (const r of rows) lines.push(JSON.stringify(r));
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '');
}

/** A config for an evaluation run in `dir` (runs under `dir/runs`), validated like a user's. */
export function evalConfig(dir: string, name: string, raw: Record<string, unknown>): Config {
  return parseConfig({ name, runs_dir: 'runs', ...raw }, `${name} config`, dir);
}

/**
 * Runs every stage (`force`: a previous run in the same folder is redone, its request cache kept)
 * with a fixed run id, so two runs on the same inputs publish byte-identical outputs. `signal`
 * stops the run at once: requests in flight are cancelled, finished replies stay in the cache.
 */
export async function runEval(
  config: Config,
  opts: { runId: string; log: (line: string) => void; signal?: AbortSignal | undefined },
): Promise<RunResult> {
  return runPipeline(config, {
    force: true,
    runId: opts.runId,
    log: opts.log,
    ...(opts.signal ? { signal: opts.signal, abort: opts.signal } : {}),
  });
}

/** The rows of one published dataset of a run (the columns asked for), read back from its Parquet parts. */
export async function readDataset<R>(runDir: string, name: string, columns: readonly string[]): Promise<R[]> {
  const store = await Store.open(':memory:');
  try {
    const glob = join(datasetDir(runDir, name), 'part-*.parquet');
    return await store.query<R>(
      `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM read_parquet(${sqlString(glob)})`,
    );
  } finally {
    store.close();
  }
}

/** Precision of a selection against the truth and its coverage of the truly correct paths, with Wilson 95% intervals. */
export function graded(selected: Iterable<string>, truth: ReadonlyMap<string, boolean>) {
  const ids = [...new Set(selected)].filter((id) => truth.has(id));
  const hit = ids.filter((id) => truth.get(id)).length;
  const correct = [...truth.values()].filter(Boolean).length;
  return {
    n: ids.length,
    precision: ids.length ? hit / ids.length : null,
    precision_ci: wilson(hit, ids.length),
    coverage: correct ? hit / correct : null,
    coverage_ci: wilson(hit, correct),
  };
}

/** The `ffs_step` (the `label` column) and `ffs_evidence` of every process_eval row a run published. */
export async function emittedSteps(
  runDir: string,
): Promise<Map<string, { step: number; evidence: FfsEvidence | null }>> {
  const rows = await readDataset<{ id: string; label: number; ffs_evidence: FfsEvidence | null }>(
    runDir,
    'process_eval',
    ['id', 'label', 'ffs_evidence'],
  );
  return new Map(rows.map((r) => [r.id, { step: r.label, evidence: r.ffs_evidence }]));
}

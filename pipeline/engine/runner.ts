/**
 * @module pipeline/engine/runner
 * Chains stage descriptors and resumes a run from the last finished stage. It knows no stage
 * by name: a stage is skipped when it finished before with the same fingerprint (its own
 * config slice chained with every upstream fingerprint), and everything after a re-run stage re-runs.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../../schemas/config.ts';
import type { Store } from '../io/store.ts';

export interface StageContext {
  store: Store;
  config: Config;
  runId: string;
  runDir: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface Stage {
  name: string;
  /** One line for `--help` and the manifest. */
  describe: string;
  /** Tables (or files) read and written, for the manifest and the docs. */
  inputs: readonly string[];
  outputs: readonly string[];
  /** The part of the config this stage's output depends on. */
  configSlice(config: Config): unknown;
  /** Does the work; returns counts and stats for the manifest. */
  run(ctx: StageContext): Promise<Record<string, unknown>>;
}

export interface StageRecord {
  name: string;
  status: 'done' | 'skipped' | 'failed';
  seconds: number;
  stats: Record<string, unknown>;
}

const STAGE_RUNS = `CREATE TABLE IF NOT EXISTS stage_runs (name VARCHAR PRIMARY KEY, fingerprint VARCHAR, finished_at VARCHAR, seconds DOUBLE, stats VARCHAR)`;

const hash = (v: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(v) ?? 'null')
    .digest('hex')
    .slice(0, 16);

/**
 * Runs `stages` in order. `only` runs one stage (its upstream must have finished);
 * `force` re-runs everything. `onStage` sees each record as soon as it exists.
 */
export async function runStages(
  stages: readonly Stage[],
  ctx: StageContext,
  opts: { only?: string; force?: boolean; onStage?: (r: StageRecord) => Promise<void> | void } = {},
): Promise<StageRecord[]> {
  await ctx.store.run(STAGE_RUNS);
  const previous = new Map(
    (
      await ctx.store.query<{ name: string; fingerprint: string; seconds: number; stats: string }>(
        'SELECT name, fingerprint, seconds, stats FROM stage_runs',
      )
    ).map((r) => [r.name, r]),
  );
  if (opts.only && !stages.some((s) => s.name === opts.only))
    throw new Error(`no stage named ${opts.only}; stages are ${stages.map((s) => s.name).join(', ')}`);
  const records: StageRecord[] = [];
  let upstream = '';
  let dirty = opts.force ?? false;
  for (const stage of stages) {
    const fingerprint = hash([upstream, stage.name, stage.configSlice(ctx.config)]);
    upstream = fingerprint;
    const prev = previous.get(stage.name);
    const finished = prev?.fingerprint === fingerprint;
    if (opts.only && stage.name !== opts.only) {
      if (!finished && stages.findIndex((s) => s.name === stage.name) < stages.findIndex((s) => s.name === opts.only)) {
        throw new Error(
          `stage ${opts.only} needs ${stage.name} to have finished with the current config; run it first (or use \`tracepipe run\`)`,
        );
      }
      continue;
    }
    if (finished && !dirty && !opts.only) {
      const r: StageRecord = {
        name: stage.name,
        status: 'skipped',
        seconds: prev.seconds,
        stats: JSON.parse(prev.stats) as Record<string, unknown>,
      };
      records.push(r);
      ctx.log(`${stage.name}: already finished with this config, skipped`);
      await opts.onStage?.(r);
      continue;
    }
    dirty = true;
    if (ctx.signal.aborted) break;
    ctx.log(`${stage.name}: ${stage.describe}`);
    const t0 = performance.now();
    let stats: Record<string, unknown>;
    try {
      stats = await stage.run(ctx);
    } catch (e) {
      const r: StageRecord = {
        name: stage.name,
        status: 'failed',
        seconds: (performance.now() - t0) / 1000,
        stats: { error: (e as Error).message },
      };
      records.push(r);
      await opts.onStage?.(r);
      throw e;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (ctx.signal.aborted) {
      // Interrupted: the stage kept its finished work (e.g. the request cache) but is not done.
      records.push({ name: stage.name, status: 'failed', seconds, stats: { ...stats, interrupted: true } });
      await opts.onStage?.(records.at(-1)!);
      break;
    }
    await ctx.store.run(
      `INSERT OR REPLACE INTO stage_runs VALUES ('${stage.name}', '${fingerprint}', '${new Date().toISOString()}', ${seconds}, '${JSON.stringify(stats).replaceAll("'", "''")}')`,
    );
    const r: StageRecord = { name: stage.name, status: 'done', seconds, stats };
    records.push(r);
    ctx.log(
      `${stage.name}: done in ${seconds.toFixed(1)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB ${JSON.stringify(stats)}`,
    );
    await opts.onStage?.(r);
  }
  return records;
}

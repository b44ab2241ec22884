/**
 * @module stages/generate
 * The generate stage: K reasoning paths per problem and mode from the model server (with adaptive
 * sampling, fewer once a problem is settled). Without a model configured it writes nothing (a run
 * of imported paths). Its fingerprint is the model's name and the sampling settings (with
 * adaptive sampling, also what its stopping rule weighs), never the server's address,
 * concurrency, limits or budget. It keeps how many samples each problem drew (`draws`).
 */
import type { Config } from '../../schemas/config.ts';
import type { ArsNode } from '../../schemas/index.ts';
import type { DrawRow } from '../../schemas/state.ts';
import { rowsOf, type ProblemStage, type StageTotals } from '../lib/stage.ts';
import { generate } from './generate.ts';
import type { StopSettings } from './adaptive.ts';

/** What adaptive sampling's rule weighs besides its own settings: the thresholds and emit's caps. */
export const stopSettings = (c: Config): Omit<StopSettings, 'rule' | 'paths_max'> => ({
  thresholds: c.thresholds,
  sft_per_problem: c.emit.sft_per_problem,
  pairs_per_problem: c.emit.pairs_per_problem,
  rectify: Boolean(c.rectify),
});

/** Samples drawn against what fixed K would have drawn, summed over problems and modes. */
export function drawCounts(rows: readonly DrawRow[]) {
  const out = { samples_fixed_k: 0, samples_drawn: 0, settled_early: 0 };
  for (const d of rows) {
    if (d.stop === 'rejected') continue;
    out.samples_fixed_k += d.k;
    out.samples_drawn += d.k_drawn;
    if (d.stop === 'settled') out.settled_early++;
  }
  return out;
}

/** The run's adaptive-sampling numbers: samples drawn, requests saved (one request per sample) and their share. */
function adaptiveTotals(t: StageTotals) {
  const d = (t.summaries.draws as ReturnType<typeof drawCounts> | undefined) ?? drawCounts([]);
  const saved = d.samples_fixed_k - d.samples_drawn;
  return {
    samples_fixed_k: d.samples_fixed_k,
    samples_drawn: d.samples_drawn,
    requests_saved: saved,
    saved_share: d.samples_fixed_k ? saved / d.samples_fixed_k : 0,
    settled_early: d.settled_early,
  };
}

export const generateStage: ProblemStage = {
  kind: 'problem',
  name: 'generate',
  describe: 'sample K reasoning paths per problem from the model server',
  version: 1,
  reads: ['ars_nodes'],
  writes: ['paths', 'draws'],
  // Draws are counts, not items: a failed request is one of the paths it should have given.
  items: ['paths'],
  // With no model under the config it only copies or passes rows: a worker runs it in the CPU chain.
  cpu: true,
  models: (c) => (c.model && c.generate ? ['generate'] : []),
  produces: (c) => Boolean(c.model && c.generate),
  config: (c) =>
    c.model && c.generate
      ? {
          model: c.model.model,
          k: c.generate.k,
          modes: c.generate.modes,
          temperature: c.generate.temperature,
          top_p: c.generate.top_p,
          max_tokens: c.generate.max_tokens,
          seed: c.generate.seed,
          max_reasks: c.generate.max_reasks,
          use_n: c.generate.use_n,
          // Absent without adaptive sampling: a fixed-K run keeps the fingerprint it had. `rules`
          // versions the stopping rules' code (2: shares of the paths drawn, stages/generate/adaptive.ts).
          ...(c.generate.adaptive ? { adaptive: c.generate.adaptive, stop: stopSettings(c), rules: 2 } : {}),
        }
      : null,
  totals: (t) => ({
    generated_paths: t.rows.paths ?? 0,
    ...(t.summaries.draws ? { adaptive: adaptiveTotals(t) } : {}),
    rejects: t.rejects,
  }),
  flow: (t) => {
    const a = adaptiveTotals(t);
    return [
      { step: 'generate: paths', outcome: 'kept', rows: t.rows.paths ?? 0 },
      ...Object.entries(t.rejects).map(([outcome, rows]) => ({ step: 'generate: paths', outcome, rows })),
      // Samples adaptive sampling did not draw: the report shows them beside those drawn.
      ...(a.requests_saved > 0
        ? [
            { step: 'generate: samples', outcome: 'kept', rows: a.samples_drawn },
            { step: 'generate: samples', outcome: 'saved by adaptive sampling', rows: a.requests_saved },
          ]
        : []),
    ];
  },
  summarize: { draws: (rows) => drawCounts(rows as DrawRow[]) },
  async run(bundles, ctx) {
    const g = ctx.config.generate;
    if (!ctx.config.model || !g) return { rows: {}, rejects: [], stats: { generated: 0, note: 'no model configured' } };
    const out = await generate(
      { problems: bundles.map((b) => b.problem), nodes: bundles.flatMap((b) => rowsOf<ArsNode>(b, 'ars_nodes')) },
      { generate: g, runId: ctx.runId, stop: stopSettings(ctx.config) },
      {
        model: ctx.model('generate'),
        images: ctx.images,
        log: ctx.log,
        ...(ctx.progress ? { progress: ctx.progress } : {}),
      },
    );
    return {
      rows: { paths: out.paths, draws: out.draws },
      rejects: out.rejects.map((r) => ({ ...r, problem_id: r.source })),
      stats: { ...out.stats, generated: out.paths.length },
      // Samples skipped because the run stopped: these problems are not done, the next run redoes them (from the cache).
      incomplete: out.stats.skipped > 0,
      // A request that failed after its retries is tried again by the next run.
      retry: [...new Set(out.rejects.filter((r) => r.path === 'request').map((r) => r.source))],
    };
  },
};

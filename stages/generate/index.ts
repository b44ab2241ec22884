/**
 * @module stages/generate
 * The generate stage: K reasoning paths per problem and mode from the model server. Without a
 * model configured it writes nothing (a run of imported paths). Its fingerprint is the model's
 * name and the sampling settings, never the server's address, concurrency, limits or budget.
 */
import type { ArsNode } from '../../schemas/index.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';
import { generate } from './generate.ts';

export const generateStage: ProblemStage = {
  kind: 'problem',
  name: 'generate',
  describe: 'sample K reasoning paths per problem from the model server',
  version: 1,
  reads: ['ars_nodes'],
  writes: ['paths'],
  cpu: false,
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
        }
      : null,
  totals: (t) => ({ generated_paths: t.rows.paths ?? 0, rejects: t.rejects }),
  flow: (t) => [
    { step: 'generate: paths', outcome: 'kept', rows: t.rows.paths ?? 0 },
    ...Object.entries(t.rejects).map(([outcome, rows]) => ({ step: 'generate: paths', outcome, rows })),
  ],
  async run(bundles, ctx) {
    const g = ctx.config.generate;
    if (!ctx.config.model || !g) return { rows: {}, rejects: [], stats: { generated: 0, note: 'no model configured' } };
    const out = await generate(
      { problems: bundles.map((b) => b.problem), nodes: bundles.flatMap((b) => rowsOf<ArsNode>(b, 'ars_nodes')) },
      { generate: g, runId: ctx.runId },
      {
        model: ctx.model('generate'),
        images: ctx.images,
        log: ctx.log,
        ...(ctx.progress ? { progress: ctx.progress } : {}),
      },
    );
    return {
      rows: { paths: out.paths },
      rejects: out.rejects.map((r) => ({ ...r, problem_id: r.source })),
      stats: { ...out.stats, generated: out.paths.length },
      // Samples skipped because the run stopped: these problems are not done, the next run redoes them (from the cache).
      incomplete: out.stats.skipped > 0,
    };
  },
};

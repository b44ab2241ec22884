/**
 * @module stages/rectify
 * The rectify stage: chosen steps for step pairs, written by the model itself continuing each
 * failing path from the prefix before its FFS (TRACE.md "Preference, step level"). It runs after
 * filter and before emit when `rectify` and a model are configured; otherwise it writes nothing
 * and emit keeps the peer rule. Its fingerprint is its own settings and the model's name, and it
 * comes after every stage it reads, so turning it on re-runs nothing upstream.
 */
import type { ArsNode, PathRow } from '../../schemas/index.ts';
import type { RectifyStatsRow, ScoreRow } from '../../schemas/state.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';
import { sumRectifyStats } from './totals.ts';

export const rectifyStage: ProblemStage = {
  kind: 'problem',
  name: 'rectify',
  describe: 'continue each path with an FFS from the prefix before it; keep continuations that pass the check',
  version: 1,
  reads: ['ars_nodes', 'imported_paths', 'paths', 'scores'],
  writes: ['rectified', 'rectify_stats'],
  cpu: true,
  models: (c) => (c.rectify && c.model ? ['generate'] : []),
  produces: (c) => Boolean(c.rectify && c.model),
  // Its progress counts problems whose failing paths were all continued.
  progressUnits: () => 1,
  config: (c) =>
    c.rectify && c.model
      ? {
          model: c.model.model,
          ...c.rectify,
          // The continuation starts with the original request: its token budget and the seed shape the reply.
          original_max_tokens: c.generate?.max_tokens ?? null,
          seed: c.generate?.seed ?? null,
          top_p: c.generate?.top_p ?? null,
          use_n: c.generate?.use_n ?? null,
        }
      : null,
  totals: (t) => ({ ...sumRectifyStats(t.summaries.rectify_stats), rectified_steps: t.rows.rectified ?? 0 }),
  flow: (t) => {
    const s = sumRectifyStats(t.summaries.rectify_stats);
    return s.ffs_paths
      ? [
          { step: 'rectify: FFS paths', outcome: 'kept', rows: s.rectified_paths },
          { step: 'rectify: FFS paths', outcome: 'no continuation passed', rows: s.ffs_paths - s.rectified_paths },
        ]
      : [];
  },
  summarize: { rectify_stats: (rows) => sumRectifyStats(rows as RectifyStatsRow[]) },
  async run(bundles, ctx) {
    const r = ctx.config.rectify;
    if (!r || !ctx.config.model) return { rows: {}, rejects: [], stats: { note: 'rectification is off' } };
    const { rectify } = await import('./rectify.ts');
    const out = await rectify(
      bundles.map((b) => ({
        problem: b.problem,
        nodes: rowsOf<ArsNode>(b, 'ars_nodes'),
        paths: [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')],
        scores: rowsOf<ScoreRow>(b, 'scores'),
      })),
      {
        ...r,
        original_max_tokens: ctx.config.generate?.max_tokens ?? 1024,
        concurrency: ctx.config.generate?.concurrency ?? 64,
      },
      { model: ctx.model('generate'), images: ctx.images, ...(ctx.progress ? { progress: ctx.progress } : {}) },
    );
    return {
      rows: { rectified: out.rows, rectify_stats: out.stats },
      rejects: out.rejects,
      stats: { ...sumRectifyStats(out.stats), rectified_steps: out.rows.length },
      incomplete: out.incomplete,
      retry: out.retry,
    };
  },
};

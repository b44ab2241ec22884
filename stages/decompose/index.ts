/**
 * @module stages/decompose
 * The decompose stage: a problem keeps its given ARS; a problem without one gets an ARS from the
 * teacher model when `decompose` is configured (otherwise only F). It writes every problem's ARS,
 * so later stages read one table.
 */
import type { ArsNode } from '../../schemas/index.ts';
import { intermediate } from '../lib/prompts.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';
import { decompose } from './decompose.ts';

export const decomposeStage: ProblemStage = {
  kind: 'problem',
  name: 'decompose',
  describe: 'keep each given ARS; ask the teacher model for the missing ones',
  version: 1,
  reads: ['given_ars'],
  writes: ['ars_nodes', 'decomposed'],
  items: ['ars_nodes'],
  // With no model under the config it only copies or passes rows: a worker runs it in the CPU chain.
  cpu: true,
  models: (c) => (c.decompose ? ['teacher'] : []),
  config: (c) =>
    c.decompose && {
      model: c.decompose.model,
      temperature: c.decompose.temperature,
      max_tokens: c.decompose.max_tokens,
    },
  totals: (t) => ({
    problems: t.problems,
    ars_nodes: t.rows.ars_nodes ?? 0,
    decomposed: t.rows.decomposed ?? 0,
    rejects: t.rejects,
  }),
  flow: (t) => Object.entries(t.rejects).map(([outcome, rows]) => ({ step: 'decompose: problems', outcome, rows })),
  async run(bundles, ctx) {
    const given = bundles.flatMap((b) => rowsOf<ArsNode>(b, 'given_ars'));
    const missing = bundles.filter((b) => intermediate(rowsOf<ArsNode>(b, 'given_ars')).length === 0);
    const t = ctx.config.decompose;
    if (!t || missing.length === 0) {
      return {
        rows: { ars_nodes: [...given] },
        rejects: [],
        stats: { kept: bundles.length - missing.length, without_ars: missing.length },
      };
    }
    const out = await decompose(
      { problems: bundles.map((b) => b.problem), nodes: given },
      {
        generate: {
          max_tokens: t.max_tokens,
          max_reasks: ctx.config.generate?.max_reasks ?? 2,
          concurrency: ctx.config.generate?.concurrency ?? 16,
        },
      },
      { model: ctx.model('teacher'), images: ctx.images, log: ctx.log },
    );
    // Problems that came without an ARS and got one from the teacher: the summary counts them.
    const wanted = new Set(missing.map((b) => b.problem.problem_id));
    const written = new Map<string, number>();
    for (const n of intermediate(out.nodes))
      if (wanted.has(n.problem_id)) written.set(n.problem_id, (written.get(n.problem_id) ?? 0) + 1);
    return {
      rows: {
        ars_nodes: out.nodes,
        decomposed: [...written].map(([problem_id, nodes]) => ({ problem_id, nodes })),
      },
      rejects: out.rejects.map((r) => ({ ...r, problem_id: r.source })),
      stats: { ...out.stats },
      incomplete: out.stats.stopped_by_budget || out.stats.stopped_by_signal,
      retry: [...new Set(out.rejects.filter((r) => r.path === 'request').map((r) => r.source))],
    };
  },
};

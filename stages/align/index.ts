/**
 * @module stages/align
 * The align stage: every path's node answers. Ars-guided paths carry them; free paths are aligned
 * numerically (no model) or, with `align.mode: "extractor"`, by the extractor model.
 */
import type { ArsNode, PathRow } from '../../schemas/index.ts';
import type { AlignedRow, StateReject } from '../../schemas/state.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';

const alignedRow = (p: PathRow): AlignedRow => ({
  problem_id: p.problem_id,
  path_id: p.path_id,
  node_answers: p.node_answers,
  final_answer: p.final_answer,
});

export const alignStage: ProblemStage = {
  kind: 'problem',
  name: 'align',
  describe: 'map each path to node answers (numeric alignment, or an extractor model, for free text)',
  version: 1,
  reads: ['ars_nodes', 'imported_paths', 'paths'],
  writes: ['aligned'],
  cpu: true,
  models: (c) => (c.align.mode === 'extractor' ? ['extractor'] : []),
  config: (c) =>
    c.align.mode === 'numeric' ? 'numeric' : { mode: c.align.mode, model: c.align.extractor?.model ?? null },
  totals: (t) => ({ paths: t.rows.aligned ?? 0, rejects: t.rejects }),
  async run(bundles, ctx) {
    const input = {
      paths: bundles.flatMap((b) => [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')]),
      nodes: bundles.flatMap((b) => rowsOf<ArsNode>(b, 'ars_nodes')),
    };
    let paths: PathRow[];
    let rejects: StateReject[] = [];
    let extra: Record<string, unknown> = {};
    if (ctx.config.align.mode === 'extractor') {
      const { alignAllWithExtractor } = await import('./extract-all.ts');
      const r = await alignAllWithExtractor(
        input,
        { max_reasks: ctx.config.generate?.max_reasks ?? 2 },
        { model: ctx.model('extractor') },
      );
      paths = r.paths;
      rejects = r.rejects.map((x) => ({ ...x, problem_id: x.source }));
      extra = { ...r.stats };
    } else paths = (await import('./align.ts')).align(input).paths;
    const answered = paths.flatMap((p) => p.node_answers.filter((x) => x.node_id !== 'F'));
    return {
      rows: { aligned: paths.map(alignedRow) },
      rejects,
      stats: {
        mode: ctx.config.align.mode,
        paths: paths.length,
        node_answers: answered.length,
        unaligned: answered.filter((x) => x.answer === null).length,
        ...extra,
      },
    };
  },
};

/**
 * @module stages/align
 * The align stage: every path's node answers. Ars-guided paths carry them; free paths are aligned
 * numerically (no model) or, with `align.mode: "extractor"`, by the extractor model.
 */
import type { ArsNode, PathRow } from '../../schemas/index.ts';
import type { AlignedRow, StateReject } from '../../schemas/state.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';
import { warmUp } from '../lib/equivalence/index.ts';

const alignedRow = (p: PathRow, by: AlignedRow['aligned_by']): AlignedRow => ({
  problem_id: p.problem_id,
  path_id: p.path_id,
  node_answers: p.node_answers,
  final_answer: p.final_answer,
  aligned_by: by,
});

/** Paths per aligner (given, numeric, extractor): the summary shows how many the extractor aligned. */
const byAligner = (rows: readonly unknown[]) => {
  const out: Record<string, number> = {};
  for (const r of rows as AlignedRow[]) out[r.aligned_by ?? 'unknown'] = (out[r.aligned_by ?? 'unknown'] ?? 0) + 1;
  return { by_aligner: out };
};

export const alignStage: ProblemStage = {
  kind: 'problem',
  name: 'align',
  describe: 'map each path to node answers (numeric alignment, or an extractor model, for free text)',
  version: 1,
  reads: ['ars_nodes', 'imported_paths', 'paths'],
  writes: ['aligned'],
  cpu: true,
  // The unit and LaTeX engines, built once in a thread (about 0.1 s), in a later turn of its event loop.
  warm: () => new Promise<void>((done) => setImmediate(() => done(warmUp()))),
  models: (c) => (c.align.mode === 'extractor' ? ['extractor'] : []),
  config: (c) =>
    c.align.mode === 'numeric'
      ? 'numeric'
      : {
          mode: c.align.mode,
          model: c.align.extractor?.model ?? null,
          // A share below 1 is in the fingerprint; the default (every free path) keeps the fingerprint of before.
          ...(c.align.extractor_share < 1 ? { share: c.align.extractor_share } : {}),
        },
  totals: (t) => ({
    paths: t.rows.aligned ?? 0,
    by_aligner: (t.summaries.aligned as { by_aligner?: Record<string, number> } | undefined)?.by_aligner ?? {},
    rejects: t.rejects,
  }),
  summarize: { aligned: byAligner },
  async run(bundles, ctx) {
    const input = {
      paths: bundles.flatMap((b) => [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')]),
      nodes: bundles.flatMap((b) => rowsOf<ArsNode>(b, 'ars_nodes')),
    };
    let paths: PathRow[];
    let extracted = new Set<string>();
    let rejects: StateReject[] = [];
    let extra: Record<string, unknown> = {};
    if (ctx.config.align.mode === 'extractor') {
      const { alignAllWithExtractor } = await import('./extract-all.ts');
      const r = await alignAllWithExtractor(
        input,
        { max_reasks: ctx.config.generate?.max_reasks ?? 2, share: ctx.config.align.extractor_share },
        { model: ctx.model('extractor') },
      );
      paths = r.paths;
      extracted = r.extractedIds;
      rejects = r.rejects.map((x) => ({ ...x, problem_id: x.source }));
      extra = { ...r.stats };
    } else paths = (await import('./align.ts')).align(input).paths;
    const answered = paths.flatMap((p) => p.node_answers.filter((x) => x.node_id !== 'F'));
    const before = new Map(input.paths.map((p) => [p.path_id, p]));
    const by = (p: PathRow): AlignedRow['aligned_by'] =>
      extracted.has(p.path_id)
        ? 'extractor'
        : p.mode !== 'free' || (before.get(p.path_id)?.node_answers.length ?? 0) > 0
          ? 'given'
          : 'numeric';
    return {
      rows: { aligned: paths.map((p) => alignedRow(p, by(p))) },
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

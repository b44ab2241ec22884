/**
 * @module stages/score
 * The score stage: verdicts, PC, GC, final correctness, regions under the configured thresholds,
 * and the First Failure Step of every path (TRACE.md). Its rows keep no step text (the paths
 * tables have it). Per segment it keeps what calibration counts, so calibrate never reads paths.
 */
import type { ArsNode, PathRow, ScoredPath } from '../../schemas/index.ts';
import type { AlignedRow, DrawRow, ScoreRow } from '../../schemas/state.ts';
import { rowsOf, type ProblemBundle, type ProblemStage } from '../lib/stage.ts';

/** A problem's paths with the node answers align gave them. */
export function alignedPaths(b: ProblemBundle): PathRow[] {
  const aligned = new Map(rowsOf<AlignedRow>(b, 'aligned').map((a) => [a.path_id, a]));
  return [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')].map((p) => {
    const a = aligned.get(p.path_id);
    return a ? { ...p, node_answers: a.node_answers, final_answer: a.final_answer } : p;
  });
}

/**
 * Samples a problem drew per mode (TRACE.md "Adaptive sampling"): generate's record where it drew
 * them, else (imported paths) the problem's paths of that mode.
 */
export function drawnByMode(b: ProblemBundle): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of alignedPaths(b)) out.set(p.mode, (out.get(p.mode) ?? 0) + 1);
  for (const d of rowsOf<DrawRow>(b, 'draws')) out.set(d.mode, d.k_drawn);
  return out;
}

/** What calibration counts of a scored path. */
export type Labeled = Pick<ScoredPath, 'PC' | 'GC' | 'final_correct' | 'domain' | 'label_source'>;

const countBy = <T>(rows: readonly T[], key: (r: T) => string) => {
  const m: Record<string, number> = {};
  for (const r of rows) m[key(r)] = (m[key(r)] ?? 0) + 1;
  return m;
};

/** Counts of scored paths: what the summary prints (numbers add up across shards). */
export function scoreCounts(rows: readonly ScoreRow[]) {
  return {
    paths: rows.length,
    by_category: countBy(rows, (s) => s.category),
    by_mode_correct: countBy(
      rows,
      (s) => `${s.mode} ${s.final_correct === null ? 'unlabeled' : s.final_correct ? 'correct' : 'incorrect'}`,
    ),
    ffs_step_histogram: countBy(
      rows.filter((s) => s.ffs_step >= 0),
      (s) => String(s.ffs_step),
    ),
    ffs_node_histogram: countBy(
      rows.filter((s) => s.ffs_node !== null),
      (s) => s.ffs_node!,
    ),
    silent_failures: rows.filter((s) => s.silent_failure_node !== null).length,
  };
}

export const scoreStage: ProblemStage = {
  kind: 'problem',
  name: 'score',
  describe: 'verdicts, PC, GC, final correctness, regions, First Failure Step',
  // 2: rows carry k_drawn.
  version: 2,
  reads: ['ars_nodes', 'imported_paths', 'paths', 'aligned', 'draws'],
  writes: ['scores'],
  cpu: true,
  config: (c) => c.thresholds,
  totals: (t) => {
    const { labeled: _labeled, ...counts } = (t.summaries.scores ?? {}) as Record<string, unknown>;
    return counts;
  },
  async run(bundles, ctx) {
    const { score } = await import('./score.ts');
    const out = score(
      {
        problems: bundles.map((b) => b.problem),
        nodes: bundles.flatMap((b) => rowsOf<ArsNode>(b, 'ars_nodes')),
        paths: bundles.flatMap(alignedPaths),
      },
      { runId: ctx.runId, thresholds: ctx.config.thresholds },
    );
    const drawn = new Map(bundles.map((b) => [b.problem.problem_id, drawnByMode(b)]));
    const rows: ScoreRow[] = out.scored.map(({ steps: _steps, ...s }) => ({
      ...s,
      k_drawn: drawn.get(s.problem_id)?.get(s.mode) ?? null,
    }));
    return { rows: { scores: rows }, rejects: [], stats: scoreCounts(rows) };
  },
  summarize: {
    // The counts the summary prints, and the labeled points calibration needs (a few numbers per path).
    scores: (rows) => ({
      ...scoreCounts(rows as ScoreRow[]),
      labeled: (rows as ScoreRow[]).map((s): Labeled => ({
        PC: s.PC,
        GC: s.GC,
        final_correct: s.final_correct,
        domain: s.domain,
        label_source: s.label_source,
      })),
    }),
  },
};

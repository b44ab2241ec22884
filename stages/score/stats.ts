/**
 * @module stages/score/stats
 * The counts a run's summary shows after scoring: categories, final correctness by mode, the
 * FFS histograms with what placed each cut, silent failures, and final agreement FA.
 */
import type { ScoredPath } from '../../schemas/index.ts';

const countBy = <T>(rows: readonly T[], key: (r: T) => string) => {
  const m: Record<string, number> = {};
  for (const r of rows) m[key(r)] = (m[key(r)] ?? 0) + 1;
  return m;
};

/** Score's stats for the manifest and the summary. Memory: a few counters per distinct value. */
export function scoreStats(scored: readonly ScoredPath[]): Record<string, unknown> {
  const fa = scored.filter((s) => s.FA !== null).map((s) => s.FA!);
  return {
    paths: scored.length,
    by_category: countBy(scored, (s) => s.category),
    by_mode_correct: countBy(
      scored,
      (s) => `${s.mode} ${s.final_correct === null ? 'unlabeled' : s.final_correct ? 'correct' : 'incorrect'}`,
    ),
    by_label_source: countBy(scored, (s) => s.label_source),
    ffs_step_histogram: countBy(
      scored.filter((s) => s.ffs_step >= 0),
      (s) => String(s.ffs_step),
    ),
    ffs_node_histogram: countBy(
      scored.filter((s) => s.ffs_node !== null),
      (s) => s.ffs_node!,
    ),
    ffs_evidence: countBy(
      scored.filter((s) => s.ffs_evidence !== null),
      (s) => s.ffs_evidence!,
    ),
    silent_failures: scored.filter((s) => s.silent_failure_node !== null).length,
    // FA takes K distinct values (k / (K-1)), so the histogram stays small.
    FA_histogram: countBy(
      scored.filter((s) => s.FA !== null),
      (s) => s.FA!.toFixed(2),
    ),
    FA_mean: fa.length ? fa.reduce((a, b) => a + b, 0) / fa.length : null,
    FA_null: scored.length - fa.length,
  };
}

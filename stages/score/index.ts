/**
 * @module stages/score
 * The score stage: verdicts, PC, GC, FA, final correctness, regions under the configured
 * thresholds, and the First Failure Step of every path with what placed it (TRACE.md). Its rows
 * keep no step text (the paths tables have it). Per segment it keeps the counts the summary
 * prints and the calibration counts, so calibrate never reads paths.
 */
import type { ArsNode, PathRow, ScoredPath } from '../../schemas/index.ts';
import type { AlignedRow, DrawRow, ScoreRow } from '../../schemas/state.ts';
import { mergeSummaries } from '../lib/summary.ts';
import { rowsOf, type ProblemBundle, type ProblemStage } from '../lib/stage.ts';
import { calibrationCounts, mergeCalibrationCounts, type CalibrationCounts } from '../calibrate/counts.ts';
import { scoreStats } from './stats.ts';

/** A problem's paths with the node answers align gave them. */
export function alignedPaths(b: ProblemBundle): PathRow[] {
  const aligned = new Map(rowsOf<AlignedRow>(b, 'aligned').map((a) => [a.path_id, a]));
  return [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')].map((p) => {
    const a = aligned.get(p.path_id);
    return a ? { ...p, node_answers: a.node_answers, final_answer: a.final_answer } : p;
  });
}

/** Score's counts that add up across shards (its stats without the mean, which does not). */
export function scoreCounts(rows: readonly ScoreRow[]): Record<string, unknown> {
  const { FA_mean: _mean, ...counts } = scoreStats(rows as unknown as readonly ScoredPath[]);
  return counts;
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

/** Per segment: the counts the summary prints, and calibration's counts. */
interface ScoreSummary {
  counts: Record<string, unknown>;
  calibration: CalibrationCounts;
}

export const scoreStage: ProblemStage = {
  kind: 'problem',
  name: 'score',
  describe: 'verdicts, PC, GC, FA, final correctness, regions, First Failure Step',
  // 2: FA and ffs_evidence; 3: rows carry k_drawn.
  version: 3,
  reads: ['ars_nodes', 'imported_paths', 'paths', 'aligned', 'draws'],
  writes: ['scores'],
  cpu: true,
  config: (c) => c.thresholds,
  totals: (t) => (t.summaries.scores as ScoreSummary | undefined)?.counts ?? {},
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
    scores: (rows, config): ScoreSummary => ({
      counts: scoreCounts(rows as ScoreRow[]),
      calibration: calibrationCounts(rows as ScoredPath[], { thresholds: config.thresholds }),
    }),
  },
  merge: {
    scores: (parts) => {
      const ps = parts as ScoreSummary[];
      return {
        counts: mergeSummaries(ps.map((p) => p.counts)),
        calibration: mergeCalibrationCounts(ps.map((p) => p.calibration)),
      };
    },
  },
};

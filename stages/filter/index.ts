/**
 * @module stages/filter
 * The filter stage: every path in its region under the thresholds in force for its domain
 * (calibrated where calibration met its target). A problem re-runs when those thresholds move.
 * Per segment it keeps what the report counts, so the report never reads paths.
 */
import type { ArsNode, ScoredPath } from '../../schemas/index.ts';
import type { FilteredRow, ScoreRow } from '../../schemas/state.ts';
import { depths } from '../lib/ars.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';
import { thresholdsInForce, type CalibrationResult } from '../calibrate/index.ts';
import { summarizeReport } from '../report/summary.ts';

const calibrationOf = (globals: Readonly<Record<string, unknown>>) =>
  globals.calibrate as CalibrationResult | undefined;

export const filterStage: ProblemStage = {
  kind: 'problem',
  name: 'filter',
  describe: 'place paths in regions under the thresholds in force',
  version: 1,
  reads: ['scores', 'ars_nodes'],
  writes: ['filtered'],
  cpu: true,
  config: (c) => [c.thresholds, c.calibrate.enabled],
  global: (c, globals, problem) => thresholdsInForce(c, calibrationOf(globals), problem.domain),
  totals: (t) => ({
    categories: (t.summaries.filtered as { categories?: Record<string, number> } | undefined)?.categories ?? {},
  }),
  flow: (t) =>
    Object.entries((t.summaries.filtered as { categories?: Record<string, number> } | undefined)?.categories ?? {}).map(
      ([c, rows]) => ({ step: 'filter: paths', outcome: c === 'reliable-correct' ? 'kept' : c, rows }),
    ),
  async run(bundles, ctx) {
    const { filter } = await import('./filter.ts');
    const rows: FilteredRow[] = [];
    const categories: Record<string, number> = {};
    let moved = 0;
    for (const b of bundles) {
      const scored = rowsOf<ScoreRow>(b, 'scores') as unknown as ScoredPath[];
      const out = filter(scored, (d) => thresholdsInForce(ctx.config, calibrationOf(ctx.globals), d));
      moved += out.moved;
      for (const [k, v] of Object.entries(out.categories)) categories[k] = (categories[k] ?? 0) + v;
      const depth = depths(rowsOf<ArsNode>(b, 'ars_nodes'));
      const at = (n: string | null) => (n === null ? null : (depth.get(n) ?? null));
      for (const p of out.paths) {
        const s = p as ScoredPath & { FA?: number | null; k_drawn?: number | null };
        rows.push({
          problem_id: s.problem_id,
          path_id: s.path_id,
          domain: s.domain,
          mode: s.mode,
          PC: s.PC,
          GC: s.GC,
          FA: s.FA ?? null,
          region: s.region,
          category: s.category,
          final_correct: s.final_correct,
          label_source: s.label_source,
          ffs_node: s.ffs_node,
          ffs_step: s.ffs_step,
          ffs_depth: at(s.ffs_node),
          silent_failure_node: s.silent_failure_node,
          silent_depth: at(s.silent_failure_node),
          k_drawn: s.k_drawn ?? null,
        });
      }
    }
    return { rows: { filtered: rows }, rejects: [], stats: { categories, moved_by_calibration: moved } };
  },
  summarize: {
    filtered: (rows) => {
      const categories: Record<string, number> = {};
      for (const r of rows as FilteredRow[]) categories[r.category] = (categories[r.category] ?? 0) + 1;
      // The report's counts, not the rows: the merged summary stays bounded by bins, whatever the run's size.
      return { categories, report: summarizeReport(rows as FilteredRow[]) };
    },
  },
};

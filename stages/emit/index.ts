/**
 * @module stages/emit
 * The emit stage: the five training datasets' rows for each problem (TRACE.md "What the pipeline
 * emits"), from its scored paths in the regions filter placed them, with their step texts. The
 * engine publishes them as a snapshot; how many rows each problem gave and why others were
 * dropped is kept per problem, so cards count the whole run.
 */
import type { ArsNode, PathRow, ScoredPath } from '../../schemas/index.ts';
import type { FilteredRow, RectifiedRow, ScoreRow, StateTableName } from '../../schemas/state.ts';
import type { StepPreferenceRow } from '../../schemas/outputs.ts';
import { rowsOf, type ProblemStage } from '../lib/stage.ts';

export const DATASET_TABLES = [
  'sft',
  'preference',
  'step_preference',
  'stepwise',
  'process_eval',
] as const satisfies readonly StateTableName[];

export const emitStage: ProblemStage = {
  kind: 'problem',
  name: 'emit',
  describe: 'build the five training datasets',
  version: 1,
  reads: ['ars_nodes', 'imported_paths', 'paths', 'scores', 'filtered', 'rectified'],
  writes: [...DATASET_TABLES, 'emit_stats'],
  cpu: true,
  config: (c) => c.emit,
  totals: (t) => {
    const stats = (t.summaries.emit_stats ?? {}) as Record<
      string,
      { candidates: number; dropped: Record<string, number> }
    >;
    const pairs = t.summaries.step_preference as { by_chosen_source?: Record<string, number> } | undefined;
    return Object.fromEntries(
      DATASET_TABLES.map((d) => [
        d,
        {
          rows: t.rows[d] ?? 0,
          candidates: stats[d]?.candidates ?? 0,
          dropped: stats[d]?.dropped ?? {},
          ...(d === 'step_preference' ? { by_chosen_source: pairs?.by_chosen_source ?? {} } : {}),
        },
      ]),
    );
  },
  flow: (t) => {
    const stats = (t.summaries.emit_stats ?? {}) as Record<string, { dropped: Record<string, number> }>;
    return DATASET_TABLES.flatMap((d) => [
      { step: `emit: ${d}`, outcome: 'kept', rows: t.rows[d] ?? 0 },
      ...Object.entries(stats[d]?.dropped ?? {}).map(([outcome, rows]) => ({ step: `emit: ${d}`, outcome, rows })),
    ]);
  },
  async run(bundles, ctx) {
    const rows: Partial<Record<StateTableName, unknown[]>> = { emit_stats: [] };
    for (const t of DATASET_TABLES) rows[t] = [];
    const totals: Record<string, { rows: number; candidates: number }> = {};
    const { emit } = await import('./emit.ts');
    for (const b of bundles) {
      const steps = new Map(
        [...rowsOf<PathRow>(b, 'imported_paths'), ...rowsOf<PathRow>(b, 'paths')].map((p) => [p.path_id, p.steps]),
      );
      const region = new Map(rowsOf<FilteredRow>(b, 'filtered').map((f) => [f.path_id, f]));
      const scored: ScoredPath[] = rowsOf<ScoreRow>(b, 'scores').map((s) => {
        const f = region.get(s.path_id);
        return { ...s, steps: steps.get(s.path_id) ?? [], ...(f ? { region: f.region, category: f.category } : {}) };
      });
      const datasets = emit(
        {
          problems: [b.problem],
          nodes: rowsOf<ArsNode>(b, 'ars_nodes'),
          scored,
          rectified: rowsOf<RectifiedRow>(b, 'rectified'),
        },
        ctx.config.emit,
      );
      for (const d of datasets) {
        rows[d.name as StateTableName]!.push(...d.built.rows);
        rows.emit_stats!.push({
          problem_id: b.problem.problem_id,
          dataset: d.name,
          candidates: d.built.candidates,
          dropped: JSON.stringify(d.built.dropped),
        });
        const t = (totals[d.name] ??= { rows: 0, candidates: 0 });
        t.rows += d.built.rows.length;
        t.candidates += d.built.candidates;
      }
    }
    return { rows, rejects: [], stats: totals };
  },
  summarize: {
    // Step pairs by where their chosen step came from (rectified, peer): the summary shows the rectified ones.
    step_preference: (rows) => {
      const by_chosen_source: Record<string, number> = {};
      for (const r of rows as StepPreferenceRow[])
        by_chosen_source[r.chosen_source] = (by_chosen_source[r.chosen_source] ?? 0) + 1;
      return { by_chosen_source };
    },
    emit_stats: (rows) => {
      const out: Record<string, { candidates: number; dropped: Record<string, number> }> = {};
      for (const r of rows as { dataset: string; candidates: number; dropped: string }[]) {
        const d = (out[r.dataset] ??= { candidates: 0, dropped: {} });
        d.candidates += r.candidates;
        for (const [k, v] of Object.entries(JSON.parse(r.dropped) as Record<string, number>))
          d.dropped[k] = (d.dropped[k] ?? 0) + v;
      }
      return out;
    },
  },
};

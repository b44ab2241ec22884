/**
 * @module stages/emit/rectified
 * The chosen step of a step pair when rectification found one (TRACE.md "Preference, step level"):
 * the model's own continuation of the rejected path's prefix, whose first step passed the FFS
 * node's check and whose final answer is right. Pure: rows in, the chosen step out.
 */
import type { ScoredPath } from '../../schemas/index.ts';
import type { StepPreferenceRow } from '../../schemas/outputs.ts';
import type { RectifiedRow } from '../../schemas/state.ts';

/** The columns of a step pair that its chosen step fills. */
export type ChosenStep = Pick<StepPreferenceRow, 'chosen' | 'full_chosen' | 'chosen_path_id' | 'chosen_source'>;

/** Rectified rows by the rejected path they continue, in their continuation order. */
export function rectifiedByPath(rows: readonly RectifiedRow[]): Map<string, RectifiedRow[]> {
  const out = new Map<string, RectifiedRow[]>();
  for (const r of [...rows].sort((a, b) => a.rect_path_id.localeCompare(b.rect_path_id, 'en', { numeric: true })))
    (out.get(r.path_id) ?? out.set(r.path_id, []).get(r.path_id)!).push(r);
  return out;
}

/**
 * The first rectified chosen step of `rejected`, or null when it has none. A row cut at another
 * place (the path was scored again since) is not used: its prefix is not this path's prefix.
 */
export function rectifiedChoice(
  byPath: ReadonlyMap<string, readonly RectifiedRow[]>,
  rejected: Pick<ScoredPath, 'path_id' | 'ffs_node' | 'ffs_step'>,
): ChosenStep | null {
  const row = byPath
    .get(rejected.path_id)
    ?.find((r) => r.ffs_node === rejected.ffs_node && r.ffs_step === rejected.ffs_step);
  if (!row) return null;
  return {
    chosen: row.chosen,
    full_chosen: row.steps.join('\n'),
    chosen_path_id: row.rect_path_id,
    chosen_source: 'rectified',
  };
}

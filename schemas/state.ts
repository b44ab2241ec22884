/**
 * @module schemas/state
 * The tables a run keeps in its state, shard by shard, and the row type of each. Every row
 * carries `problem_id`: the engine groups rows by problem and hands each stage its problems.
 */
import { t, table, type Row } from './define.ts';
import { arsNodes, problems } from './problems.ts';
import { nodeAnswer, paths, scoredPaths } from './paths.ts';
import { rejects } from './rejects.ts';
import { preference, processEval, sft, stepPreference, stepwise } from './outputs.ts';

/** One input row as read, before validation: the engine buckets it by its problem id. */
export const rawItems = table('raw', {
  problem_id: t.string(),
  kind: t.enum(['problem', 'path'] as const),
  /** Index of the input in the config's `inputs` (its folder is the root of the problem's images). */
  input: t.int(),
  /** The input file's name and the item in it (`line 12`, `row 3`). */
  source: t.string(),
  item: t.string(),
  /** The row as the adapter read it (project format for problems, paths-jsonl shape for paths). */
  value: t.string(),
  /** An input marked as the calibration set (TRACE.md "Calibration"). */
  calibration: t.bool(),
});
export type RawItem = Row<typeof rawItems>;

/** A path's node answers and final answer, as align maps them. */
export const aligned = table('aligned', {
  problem_id: t.text(),
  path_id: t.text(),
  node_answers: t.list(nodeAnswer),
  final_answer: t.nullable(t.string()),
});
export type AlignedRow = Row<typeof aligned>;

/** A scored path without its step texts (those stay in `paths` / `imported_paths`). */
export const scores = scoredPaths.without('steps').as('scores');
export type ScoreRow = Omit<Row<typeof scoredPaths>, 'steps'>;

/**
 * A path in its region under the thresholds in force, with what the report counts: the scores
 * without verdicts, and the depth of the FFS and silent-failure nodes in the ARS.
 */
export const filtered = table('filtered', {
  problem_id: t.text(),
  path_id: t.text(),
  domain: scoredPaths.shape.domain,
  mode: scoredPaths.shape.mode,
  PC: t.nullable(t.double()),
  GC: t.nullable(t.double()),
  FA: t.nullable(t.double()),
  region: scoredPaths.shape.region,
  category: scoredPaths.shape.category,
  final_correct: t.nullable(t.bool()),
  label_source: scoredPaths.shape.label_source,
  ffs_node: t.nullable(t.string()),
  ffs_step: t.int(),
  ffs_depth: t.nullable(t.int()),
  silent_failure_node: t.nullable(t.string()),
  silent_depth: t.nullable(t.int()),
  k_drawn: t.nullable(t.int()),
});
export type FilteredRow = Row<typeof filtered>;

/** A rejected item kept in the state, keyed by the problem it belongs to. */
export const stateRejects = table('rejects', { problem_id: t.string(), ...rejects.shape });
export type StateReject = Row<typeof stateRejects>;

/** Every table of the state, by name: what stages declare they read and write. */
export const STATE_TABLES = {
  raw: rawItems,
  problems,
  given_ars: arsNodes.as('given_ars'),
  imported_paths: paths.as('imported_paths'),
  ars_nodes: arsNodes,
  paths,
  aligned,
  scores,
  filtered,
  sft,
  preference,
  step_preference: stepPreference,
  stepwise,
  process_eval: processEval,
  emit_stats: table('emit_stats', {
    problem_id: t.text(),
    dataset: t.string(),
    candidates: t.int(),
    /** Rows dropped, by reason (a JSON object). */
    dropped: t.string(),
  }),
  rejects: stateRejects,
} as const;
export type StateTableName = keyof typeof STATE_TABLES;

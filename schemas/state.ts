/**
 * @module schemas/state
 * The tables a run keeps in its state, shard by shard, and the row type of each. Every row
 * carries `problem_id`: the engine groups rows by problem and hands each stage its problems.
 */
import { t, table, type Row } from './define.ts';
import { arsNodes, problems } from './problems.ts';
import { nodeAnswer, PATH_MODES, paths, scoredPaths } from './paths.ts';
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
  /** A path whose missing `path_id` and `sample_index` ingest fills: its index among its problem's rows in its input. */
  defaults: t.bool(),
});
export type RawItem = Row<typeof rawItems>;

/** A path's node answers and final answer, as align maps them. */
export const aligned = table('aligned', {
  problem_id: t.text(),
  path_id: t.text(),
  node_answers: t.list(nodeAnswer),
  final_answer: t.nullable(t.string()),
  /** Who aligned it: the guided reply itself, numeric alignment, or the extractor model (null: not recorded). */
  aligned_by: t.nullable(t.enum(['given', 'numeric', 'extractor'] as const)),
});
export type AlignedRow = Row<typeof aligned>;

/** A scored path without its step texts (those stay in `paths` / `imported_paths`), with how many paths its problem drew. */
export const scores = table('scores', {
  ...scoredPaths.without('steps').shape,
  /** Samples its problem drew in the path's mode (adaptive sampling stops early); imported paths: the problem's paths of that mode. */
  k_drawn: t.nullable(t.int()),
});
export type ScoreRow = Omit<Row<typeof scoredPaths>, 'steps'> & { k_drawn: number | null };

/** How many samples a problem drew in each mode: `k` with fixed sampling, fewer once adaptive sampling settled it. */
export const draws = table('draws', {
  problem_id: t.text(),
  mode: t.enum(PATH_MODES),
  /** The most it could draw (`generate.k`). */
  k: t.int(),
  k_drawn: t.int(),
  /** Rounds drawn (1 with fixed sampling). */
  rounds: t.int(),
  /** Why it stopped: `settled` (the stop rule), `k` (drew them all), `rejected` (no sample could be asked). */
  stop: t.enum(['settled', 'k', 'rejected'] as const),
});
export type DrawRow = Row<typeof draws>;

/** A problem whose ARS the teacher model wrote (decompose), with its intermediate nodes. */
export const decomposed = table('decomposed', { problem_id: t.text(), nodes: t.int() });

/** A continuation of a path with an FFS that gives a chosen step: one row per (rejected path, distinct chosen step). */
export const rectified = table('rectified', {
  problem_id: t.text(),
  /** The rejected path. */
  path_id: t.text(),
  /** The continuation's own id, `<path_id>/rect/<i>` (`i`: its sample index). */
  rect_path_id: t.text(),
  ffs_node: t.string(),
  ffs_step: t.int(),
  /** The continuation's first step: the chosen step for the rejected path's step `ffs_step`. */
  chosen: t.string(),
  /** Every step of the continuation, the chosen one first, "Final answer: ..." last. */
  steps: t.list(t.string()),
  final_answer: t.nullable(t.string()),
  model: t.string(),
});
export type RectifiedRow = Row<typeof rectified>;

/** What rectification asked and got for one problem (summed into the stage's totals). */
export const rectifyStats = table('rectify_stats', {
  problem_id: t.text(),
  /** Paths with an FFS step to continue from. */
  ffs_paths: t.int(),
  continuations: t.int(),
  /** Continuations whose final answer is right and whose first step passes the FFS node's check. */
  passed: t.int(),
  /** FFS paths with at least one rectified chosen step. */
  rectified_paths: t.int(),
  /** Continuations with no usable reply (failed request, cut at max_tokens, no final answer). */
  unusable: t.int(),
  /** Prompt tokens of the continuation prompts (`usage.prompt_tokens`, once per prompt: with `n` it is sent once). */
  prompt_tokens: t.int(),
  /** Of those, the original request's tokens each prompt starts with, byte for byte (what a prefix cache reuses). */
  prefix_shared_tokens: t.int(),
});
export type RectifyStatsRow = Row<typeof rectifyStats>;

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
  draws,
  decomposed,
  filtered,
  rectified,
  rectify_stats: rectifyStats,
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

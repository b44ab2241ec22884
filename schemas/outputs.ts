/** @module schemas/outputs  The five training datasets, with TRL's and ProcessBench's column names. */
import { t, table, type Row } from './define.ts';
import { FFS_EVIDENCE, traceColumns } from './paths.ts';

const evidence = t.enum(FFS_EVIDENCE);

export const message = t.struct({ role: t.enum(['system', 'user', 'assistant'] as const), content: t.string() });
const messages = t.list(message);
/** Samples the row's problem drew in its path's mode (TRACE.md "Adaptive sampling"); null when not recorded. */
const k_drawn = t.nullable(t.int());
/** Where a step pair's chosen step came from (TRACE.md "Preference, step level"). */
export const CHOSEN_SOURCES = ['rectified', 'peer'] as const;

/** TRL conversational SFT. */
export const sft = table('sft', {
  messages,
  images: t.list(t.string()),
  ...traceColumns,
  k_drawn,
});

/** TRL conversational preference (outcome level). `path_id`, PC, GC, FA, region describe the rejected path. */
export const preference = table('preference', {
  prompt: messages,
  chosen: messages,
  rejected: messages,
  images: t.list(t.string()),
  ...traceColumns,
  k_drawn,
  chosen_path_id: t.string(),
  chosen_PC: t.nullable(t.double()),
  chosen_GC: t.nullable(t.double()),
  chosen_FA: t.nullable(t.double()),
  ffs_node: t.string(),
  ffs_step: t.int(),
  ffs_evidence: evidence,
});

/** Step-DPO style pairs cut at the First Failure Step. */
export const stepPreference = table('step_preference', {
  prompt: t.string(),
  initial_reason_steps: t.string(),
  chosen: t.string(),
  rejected: t.string(),
  full_chosen: t.string(),
  full_rejected: t.string(),
  ...traceColumns,
  k_drawn,
  chosen_path_id: t.string(),
  /** `rectified`: the model's own continuation of the prefix (`chosen_path_id` = `<path_id>/rect/<i>`); `peer`: another path. */
  chosen_source: t.enum(CHOSEN_SOURCES),
  ffs_node: t.string(),
  ffs_step: t.int(),
  /** What placed the cut; only the kinds in `emit.cut_evidence` are emitted. */
  ffs_evidence: evidence,
});

/** TRL stepwise supervision (PRM). */
export const stepwise = table('stepwise', {
  prompt: t.string(),
  completions: t.list(t.string()),
  labels: t.list(t.bool()),
  ...traceColumns,
  k_drawn,
  ffs_step: t.int(),
  /** Null on a correct path; else one of `emit.cut_evidence`. */
  ffs_evidence: t.nullable(evidence),
});

/** ProcessBench's own columns. */
export const processEval = table('process_eval', {
  id: t.string(),
  problem: t.string(),
  steps: t.list(t.string()),
  label: t.int(),
  final_answer_correct: t.bool(),
  ...traceColumns,
  /** What placed `label` (every kind is kept here, so evaluations can restrict to the kinds a user cuts at). */
  ffs_evidence: t.nullable(evidence),
  k_drawn,
});

export type SftRow = Row<typeof sft>;
export type PreferenceRow = Row<typeof preference>;
export type StepPreferenceRow = Row<typeof stepPreference>;
export type StepwiseRow = Row<typeof stepwise>;
export type ProcessEvalRow = Row<typeof processEval>;

/**
 * @module stages/emit/emit
 * Builds the five training datasets with TRL's and ProcessBench's column names; the runner
 * publishes them (Parquet parts, dataset card, stats.json) through the store.
 */
import type { Shape, Table } from '../../schemas/define.ts';
import { preference, processEval, sft, stepPreference, stepwise } from '../../schemas/outputs.ts';
import {
  buildPreference,
  buildProcessEval,
  buildSft,
  buildStepPreference,
  buildStepwise,
  type Built,
  type EmitInput,
  type EmitOptions,
  DEFAULT_CUT_EVIDENCE,
} from './build.ts';

export interface Dataset {
  name: string;
  table: Table<Shape>;
  built: Built<Record<string, unknown>>;
  title: string;
  summary: string;
  trl: string;
}

/** All five datasets, in a fixed order; problems of a calibration input are in none of them. */
export function emit(input: EmitInput, opts: EmitOptions): Dataset[] {
  const d = <S extends Shape>(
    table: Table<S>,
    built: Built<unknown>,
    title: string,
    summary: string,
    trl: string,
  ): Dataset => ({
    name: table.name,
    table: table as unknown as Table<Shape>,
    built: built as Built<Record<string, unknown>>,
    title,
    summary,
    trl,
  });
  return [
    d(
      sft,
      buildSft(input, opts),
      'SFT conversations',
      `Reliable-correct reasoning paths (PC, GC and final agreement FA at or above their thresholds, final answer right), deduplicated, at most ${opts.sft_per_problem} per problem.`,
      'TRL conversational language modeling (`messages`: list of {role, content}); `SFTTrainer` reads it as is.',
    ),
    d(
      preference,
      buildPreference(input, opts),
      'Preference pairs (outcome level)',
      'Chosen: a reliable-correct path; rejected: a path of the same problem with a First Failure Step. `ffs_node`/`ffs_step` say where the rejected path first went wrong.',
      'TRL conversational preference (`prompt`, `chosen`, `rejected` as lists of {role, content}); `DPOTrainer` reads it as is.',
    ),
    d(
      stepPreference,
      buildStepPreference(input, opts),
      'Step-level preference pairs (error-localised)',
      `Cut at the First Failure Step: the shared prefix, the failing step as \`rejected\`, and as \`chosen\` the model's own continuation of the prefix whose first step passed the node's check and whose final answer is right (\`chosen_source\` rectified, when rectification is on), else a correct answer of the same node from a path that agrees on the prefix (\`chosen_source\` peer; Step-DPO style). Only cuts whose \`ffs_evidence\` is one of ${(opts.cut_evidence ?? DEFAULT_CUT_EVIDENCE).join(', ')}.`,
      'Step-DPO columns (`prompt`, `initial_reason_steps`, `chosen`, `rejected`, `full_chosen`, `full_rejected`), all strings.',
    ),
    d(
      stepwise,
      buildStepwise(input, opts),
      'Stepwise supervision (process reward)',
      `Steps labelled true before the First Failure Step and false at it; ${opts.keep_after_ffs ? 'later steps kept and labelled false' : 'later steps dropped'}. Correct paths only when reliable-correct; wrong paths only when their cut's \`ffs_evidence\` is one of ${(opts.cut_evidence ?? DEFAULT_CUT_EVIDENCE).join(', ')}; silent failures left out.`,
      'TRL stepwise supervision (`prompt`, `completions`, `labels`); `PRMTrainer` reads it as is.',
    ),
    d(
      processEval,
      buildProcessEval(input),
      'Process evaluation set',
      "ProcessBench-style rows: `label` is the index of the earliest wrong step (-1 when none), predicted by TRACE's First Failure Step; `ffs_evidence` says what placed it (every kind is kept here).",
      "ProcessBench's columns (`id`, `problem`, `steps`, `label`, `final_answer_correct`).",
    ),
  ];
}

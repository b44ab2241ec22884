/**
 * @module pipeline/cli/commands/eval-trace
 * `tracepipe eval trace`: the pipeline itself on GSM8K's socratic ARS and its four GPT-3
 * solutions per problem, graded on the rows it emits. The problems are split in two halves by a
 * hash of their id: the calibration half is a config input marked `calibration: true` (labeled by
 * its gold final answer, never emitted), the other half is the data the run emits.
 *
 * With gold, the held-out half keeps its gold answers: reliable precision and coverage are measured
 * on its emitted rows. With `hideGold`, every gold answer of the held-out half (`all`: final and
 * node; `final`: final only) and every `is_correct` label are removed from what the pipeline reads
 * (the calibration half then hides its node answers too, so that its PC is computed as the held-out
 * half's is); its `sft` rows and `reliable-correct` paths are graded against the hidden gold, beside
 * majority voting on the same paths.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ArsNode, Problem } from '../../../schemas/index.ts';
import { ConfigError } from '../../../schemas/config.ts';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { gsm8kSolutionsFrom, readJsonl } from '../../../stages/ingest/gsm8k.ts';
import { nodeFiles } from '../../io/files.ts';
import type { Calibration } from '../../../stages/calibrate/calibrate.ts';
import { evalConfig, runEval, workFolder, writeJsonl, type graded } from './eval-run.ts';
import { grade } from './eval-trace-grade.ts';
import { byProblemId } from '../../../stages/lib/group.ts';

export type HideGold = 'all' | 'final';

export interface EvalTraceOptions {
  /** GSM8K `test_socratic.jsonl`. */
  problems: string;
  /** GSM8K `example_model_solutions.jsonl`. */
  paths: string;
  /** Hide the held-out half's gold answers from the pipeline: every one (`all`) or the final ones. */
  hideGold?: HideGold | undefined;
  /**
   * `half` (default): the calibration half is a labeled calibration input. `none`: no calibration
   * input, every problem is data (with `hideGold`, the run then has no label at all and keeps the
   * configured thresholds; with gold it calibrates on its own problems, in sample).
   */
  calibrationSet?: 'half' | 'none' | undefined;
  log?: (line: string) => void;
  /** calibrate.target_precision of the run (default 0.95). */
  targetPrecision?: number | undefined;
  /** Work folder, kept (default: a temporary one, removed). */
  workDir?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** A selection graded against the truth: its size, precision and coverage of truly correct paths, with Wilson intervals. */
export type Graded = ReturnType<typeof graded>;

export interface EvalTraceSummary {
  hide_gold: HideGold | 'none';
  calibration_set: 'half' | 'none';
  problems: number;
  paths: number;
  /** Problems and paths of the held-out half, and how many of its paths are truly correct. */
  held_out: { problems: number; paths: number; correct: number };
  /** Paths whose final answer, graded by the equivalence engine against gold, disagrees with GSM8K's `is_correct`. */
  label_disagreements: number;
  /** The global entry of the run's calibration.json (calibration half), and the rule it met the target by. */
  calibration: Pick<
    Calibration['global'],
    | 'tau_pc'
    | 'tau_gc'
    | 'tau_fa'
    | 'met_target'
    | 'precision'
    | 'n_labeled'
    | 'labels'
    | 'auroc_pc'
    | 'auroc_gc'
    | 'auroc_fa'
    | 'auroc_mean'
  > & { rule: string };
  /** Held-out paths the run placed in the reliable region, graded (gold mode: the region's precision and coverage). */
  reliable: Graded;
  reliable_precision: number | null;
  reliable_coverage: number | null;
  /** Emitted `sft` rows, graded. */
  sft: Graded;
  sft_precision: number | null;
  sft_rows: number;
  /** Paths the run labelled `reliable-correct`, graded (hidden-gold modes only). */
  reliable_correct: Graded | null;
  reliable_correct_precision: number | null;
  reliable_correct_coverage: number | null;
  /** Majority voting on the same held-out paths: every path agreeing with its problem's final consensus. */
  majority: Graded;
  majority_precision: number | null;
  majority_coverage: number | null;
  split: string;
}

/** Half of the problems by a hash of their id: the calibration half. */
export const inCalibrationHalf = (problemId: string) => (createHash('sha256').update(problemId).digest()[0]! & 1) === 0;

/** A problem in the project's JSONL format, with the answers `hide` names removed. */
function problemLine(p: Problem, nodes: readonly ArsNode[], hide: { final: boolean; nodes: boolean }) {
  return {
    problem_id: p.problem_id,
    domain: p.domain,
    question: p.question,
    answer: hide.final ? null : p.answer,
    answer_spec: p.answer_spec,
    ars: nodes
      .filter((n) => !n.is_final)
      .sort((a, b) => a.position - b.position)
      .map((n) => ({
        node_id: n.node_id,
        question: n.question,
        depends_on: n.depends_on,
        answer: hide.nodes ? null : n.answer,
        answer_spec: n.answer_spec,
      })),
  };
}

/** Runs the evaluation and returns its summary; `log` gets the pipeline's progress lines. */
export async function evalTrace(opts: EvalTraceOptions): Promise<EvalTraceSummary> {
  const log = opts.log ?? (() => {});
  const hide = opts.hideGold;
  // The gold data, read here only to write the inputs and, after the run, to grade.
  const files = nodeFiles();
  // Problems and their solutions in one ingest: a path is kept only beside its problem.
  const ing = await ingest(
    [
      { path: opts.problems, format: 'gsm8k-socratic' },
      { path: opts.paths, adapter: gsm8kSolutionsFrom(opts.problems) },
    ],
    { runId: 'eval-trace', files },
  );
  const sol = ing;
  const nodesOf = byProblemId(ing.nodes);
  const work = await workFolder(opts.workDir);
  try {
    const dir = work.dir;
    const split = opts.calibrationSet !== 'none';
    const cal = split ? ing.problems.filter((p) => inCalibrationHalf(p.problem_id)) : [];
    const held = split ? ing.problems.filter((p) => !inCalibrationHalf(p.problem_id)) : ing.problems;
    const nodesHidden = hide === 'all';
    await writeJsonl(
      join(dir, 'calibration.jsonl'),
      cal.map((p) => problemLine(p, nodesOf.get(p.problem_id) ?? [], { final: false, nodes: nodesHidden })),
    );
    await writeJsonl(
      join(dir, 'problems.jsonl'),
      held.map((p) =>
        problemLine(p, nodesOf.get(p.problem_id) ?? [], { final: hide !== undefined, nodes: nodesHidden }),
      ),
    );
    // The solutions adapter maps questions to ids through a socratic file beside it: questions only, in order.
    const socratic = await readJsonl(opts.problems, files);
    await writeJsonl(
      join(dir, 'test_socratic.jsonl'),
      socratic.rows.map((r) => ({ question: r.value.question, answer: '' })),
    );
    const solutions = await readJsonl(opts.paths, files);
    await writeJsonl(
      join(dir, 'solutions.jsonl'),
      solutions.rows.map((r) => (hide ? withoutLabels(r.value) : r.value)),
    );
    const config = evalConfig(dir, 'eval-trace', {
      inputs: [
        ...(split ? [{ path: 'calibration.jsonl', format: 'jsonl', calibration: true }] : []),
        { path: 'problems.jsonl', format: 'jsonl' },
        { path: 'solutions.jsonl', format: 'gsm8k-solutions' },
      ],
      calibrate: { target_precision: opts.targetPrecision ?? 0.95 },
    });
    const result = await runEval(config, { runId: 'eval-trace', log, signal: opts.signal });
    if (result.status !== 'done') throw new Error('eval trace: the pipeline run was interrupted');
    return {
      calibration_set: split ? 'half' : 'none',
      ...(await grade(result.runDir, hide, ing.problems, sol.paths, held)),
    };
  } finally {
    await work.done();
  }
}

/** A solutions line with every `is_correct` removed (a correctness label is gold too). */
function withoutLabels(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) =>
      x && typeof x === 'object' && 'is_correct' in x ? [k, { ...x, is_correct: undefined }] : [k, x],
    ),
  );
}

/** The `--hide-gold` flag: absent = none, given alone (empty) = `all`, else `all` or `final`. */
export function parseHideGold(flag: string | undefined): HideGold | undefined {
  if (flag === undefined) return undefined;
  if (flag === '' || flag === 'all') return 'all';
  if (flag === 'final') return 'final';
  throw new ConfigError(
    `eval trace: --hide-gold should be "all" or "final" (or given alone, meaning all), got ${JSON.stringify(flag)}`,
  );
}

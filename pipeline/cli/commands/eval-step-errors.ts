/**
 * @module pipeline/cli/commands/eval-step-errors
 * `tracepipe eval step-errors`: the arithmetic check alone (no ARS, no model) on BIG-Bench-Mistake
 * rows (`input`, `steps`, `answer`, `target`, `mistake_index`, null = no mistake). The predicted
 * mistake is the first step whose `a op b = c` (or `expr = expr`) does not hold; -1 when none.
 * The method applies only where steps write arithmetic: a row none of whose steps has a
 * computation is counted as `not_applicable` (word sorting, Dyck languages, logical deduction).
 */
import { readJsonl } from '../../../stages/ingest/gsm8k.ts';
import { nodeFiles } from '../../io/files.ts';
import { arithmeticErrors, computations } from '../../../stages/align/align.ts';
import { processBenchF1 } from '../../../stages/lib/metrics.ts';

export interface EvalStepErrorsOptions {
  /** A BIG-Bench-Mistake JSONL file. */
  data: string;
  log?: (line: string) => void;
}

export interface EvalStepErrorsSummary {
  n: number;
  /** Rows with a gold mistake (`mistake_index` not null). */
  n_mistake: number;
  /** Rows where the check flags some step. */
  flagged: number;
  /** Rows whose first flagged step is `mistake_index` (-1 = none flagged = no mistake counts as equal). */
  first_flag_equals_mistake_index: number;
  /** `first_flag_equals_mistake_index / n`. */
  rate: number;
  /** Among rows with a mistake: share whose first flag is exactly the mistake step. */
  acc_error: number;
  /** Among rows with no mistake: share with no flag. */
  acc_correct: number;
  /** Harmonic mean of the two (ProcessBench's F1, ×100). */
  f1: number;
  /** Flags before the gold mistake step (or on a row with none): false alarms. */
  early: number;
  /** Rows with a mistake the check does not reach: no flag, or a later one. */
  missed: number;
  /** Rows with no computation in any step: the method does not apply. */
  not_applicable: number;
  /** Rows whose rows had a malformed field and were skipped. */
  skipped: number;
}

/** First step a solution miscalculates, or -1. */
export const firstArithmeticFlag = (steps: readonly string[]): number => arithmeticErrors(steps)[0]?.step ?? -1;

/** Runs the arithmetic check over a BIG-Bench-Mistake file and scores it against `mistake_index`. */
export async function evalStepErrors(opts: EvalStepErrorsOptions): Promise<EvalStepErrorsSummary> {
  const log = opts.log ?? (() => {});
  const { rows, rejects } = await readJsonl(opts.data, nodeFiles());
  const scored: { label: number; predicted: number; applicable: boolean }[] = [];
  let skipped = rejects.length;
  for (const { line, value } of rows) {
    const steps = value.steps;
    const mi = value.mistake_index;
    if (!Array.isArray(steps) || !steps.every((s) => typeof s === 'string') || !(mi === null || Number.isInteger(mi))) {
      log(
        `line ${line} of ${opts.data}: steps should be a list of strings and mistake_index an integer or null, skipped`,
      );
      skipped++;
      continue;
    }
    const applicable = steps.some((s, i) => computations(s, i).length > 0);
    scored.push({ label: mi === null ? -1 : (mi as number), predicted: firstArithmeticFlag(steps), applicable });
  }
  const m = processBenchF1(scored);
  const equal = scored.filter((r) => r.predicted === r.label).length;
  const summary: EvalStepErrorsSummary = {
    n: scored.length,
    n_mistake: scored.filter((r) => r.label !== -1).length,
    flagged: scored.filter((r) => r.predicted !== -1).length,
    first_flag_equals_mistake_index: equal,
    rate: scored.length ? equal / scored.length : 0,
    acc_error: m.acc_error,
    acc_correct: m.acc_correct,
    f1: m.f1,
    early: scored.filter((r) => r.predicted !== -1 && (r.label === -1 || r.predicted < r.label)).length,
    missed: scored.filter((r) => r.label !== -1 && (r.predicted === -1 || r.predicted > r.label)).length,
    not_applicable: scored.filter((r) => !r.applicable).length,
    skipped,
  };
  log(
    `${opts.data}: ${summary.n} rows, first flag = mistake_index on ${equal} (${(100 * summary.rate).toFixed(1)}%), ${summary.not_applicable} rows with no arithmetic`,
  );
  return summary;
}

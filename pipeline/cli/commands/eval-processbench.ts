/**
 * @module pipeline/cli/commands/eval-processbench
 * `tracepipe eval processbench`: First Failure Step localisation as the pipeline emits it, on
 * ProcessBench's GSM8K half. The eval writes the solutions (ProcessBench's format, their labels
 * replaced by placeholders the pipeline never reads) and the socratic ARS beside them, runs the
 * pipeline, and reads the `process_eval` rows it published: their `label` is score's `ffs_step`,
 * their `ffs_evidence` what placed it. ProcessBench's labels are read only after the run, to grade:
 * F1 over all rows and over even and odd rows, and for the rows the pipeline would cut (evidence in
 * `emit.cut_evidence`) `cut_precision` (share whose step is the label) and `cut_coverage` (share of
 * the erroneous rows that get a cut).
 *
 * With a model (`extractor`), a second run aligns every solution with the extractor model
 * (`align.mode: "extractor"`, through the run's durable request cache, so a re-run sends nothing)
 * and is graded the same way, reported apart in `extractor`. The numeric fields do not change.
 *
 * `label_step_without_new_number` makes the ceiling of number rules checkable: among erroneous
 * rows with a wrong final answer, those whose labelled step writes no number beyond the ARS gold
 * values, the question's numbers and the constants, so that no rule on values can single it out.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArsNode, FfsEvidence } from '../../../schemas/index.ts';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { nodeFiles } from '../../io/files.ts';
import { normaliseQuestion } from '../../../stages/ingest/gsm8k.ts';
import { processbenchTruth, readProcessbench } from '../../../stages/ingest/processbench.ts';
import { processBenchF1 } from '../../../stages/lib/metrics.ts';
import { emittedSteps, evalConfig, runEval, workFolder } from './eval-run.ts';
import { numberRuleCeiling, type NumberRuleCeiling } from './eval-processbench-ceiling.ts';
import {
  checkExtractor,
  extractorRun,
  type ExtractorOptions,
  type ExtractorStats,
} from './eval-processbench-extractor.ts';
import { byProblemId } from '../../../stages/lib/group.ts';

export { numberRuleCeiling, type CeilingRow, type NumberRuleCeiling } from './eval-processbench-ceiling.ts';
export { DEFAULT_STATE, type ExtractorOptions } from './eval-processbench-extractor.ts';

export interface EvalProcessbenchOptions {
  /** ProcessBench JSON array (e.g. `gsm8k.dev.json`). */
  data: string;
  /** GSM8K `test_socratic.jsonl`, the ARS of every problem. */
  ars: string;
  log?: (line: string) => void;
  /** Also align every row with an extractor model and report its metric (`extractor`). */
  extractor?: ExtractorOptions;
  /** Stops the runs (the extractor's signal, when given, stops its run too). */
  signal?: AbortSignal | undefined;
}

/** The extractor-aligned run: ProcessBench's metric of its emitted ffs_step, its cuts, and the client's counts. */
export interface ExtractorSummary extends Cuts, ExtractorStats {
  model: string;
  acc_error: number;
  acc_correct: number;
  f1: number;
}

/** The metric on a subset of rows. */
export interface Processbench {
  n: number;
  acc_error: number;
  acc_correct: number;
  f1: number;
}

/** The rows the pipeline would cut: evidence in `cut_evidence`; precision (ffs_step = label) and coverage of erroneous rows. */
export interface Cuts {
  cut_evidence: FfsEvidence[];
  cut_rows: number;
  cut_precision: number | null;
  cut_coverage: number | null;
  /** Rows (erroneous or not) per evidence kind, and how many of them have ffs_step = label. */
  by_evidence: Record<string, { rows: number; equal: number }>;
}

export interface EvalProcessbenchSummary extends Cuts {
  n: number;
  /** Accuracy on samples with an error (label != -1), ×100. */
  acc_error: number;
  /** Accuracy on samples with no error (label = -1), ×100. */
  acc_correct: number;
  f1: number;
  /** Rows that could not be evaluated (no matching GSM8K problem, malformed). */
  skipped: number;
  /** Graded rows the run published no process_eval row for (silent failures: final answer right, ffs_step -1). */
  not_emitted: number;
  /** The metric on the even-indexed well-formed rows (0, 2, ...), where the rules were chosen, and on the odd ones. */
  even: Processbench;
  odd: Processbench;
  /**
   * Erroneous rows (label >= 0) with a wrong final answer (`of`) whose labelled step writes no
   * number but ARS gold values, question numbers and constants (`rows`): no rule on values can
   * tell that step from a right one.
   */
  label_step_without_new_number: { rows: number; of: number };
  /** Erroneous rows whose final answer is right: a wrong final answer does not reveal them. */
  erroneous_final_correct: number;
  /** With a model only: the extractor-aligned run. */
  extractor?: ExtractorSummary;
}

/** One graded row: its ProcessBench truth and what the run emitted for it. */
interface Graded {
  id: string;
  even: boolean;
  label: number;
  predicted: number;
  evidence: FfsEvidence | null;
}

/** Runs the evaluation and returns ProcessBench's metric (×100) of the emitted `ffs_step`. */
export async function evalProcessbench(opts: EvalProcessbenchOptions): Promise<EvalProcessbenchSummary> {
  const log = opts.log ?? (() => {});
  const ext = checkExtractor(opts.extractor);
  const files = nodeFiles();
  const { rows, rejects } = await readProcessbench(opts.data, files);
  const work = await workFolder();
  try {
    // ProcessBench's format, its labels replaced by placeholders: every problem has a gold answer,
    // which decides final correctness, so `final_answer_correct` is never read either.
    await writeFile(
      join(work.dir, 'processbench.json'),
      JSON.stringify(rows.map((r) => ({ ...r, label: -1, final_answer_correct: false }))),
    );
    await copyFile(opts.ars, join(work.dir, 'test_socratic.jsonl'));
    const inputs = [{ path: join(work.dir, 'processbench.json'), format: 'processbench' }];
    const numeric = evalConfig(work.dir, 'eval-processbench', { inputs });
    const run = await runEval(numeric, {
      runId: 'eval-processbench',
      log,
      signal: opts.signal ?? opts.extractor?.signal,
    });
    if (run.status !== 'done') throw new Error('eval processbench: the pipeline run was interrupted');
    const emitted = await emittedSteps(run.runDir);
    const extracted = ext === null ? null : await extractorRun(ext, inputs, log, opts.extractor?.signal ?? opts.signal);
    // Every prediction is made: only now are ProcessBench's labels and final-answer flags read.
    const truth = await processbenchTruth(opts.data, files);
    const soc = await ingest([{ path: opts.ars, format: 'gsm8k-socratic' }], { runId: 'eval-processbench', files });
    const byQuestion = new Map(soc.problems.map((p) => [normaliseQuestion(p.question), p.problem_id]));
    const index = new Map(rows.map((r, i) => [r.id, i]));
    const matched = rows.filter((r) => byQuestion.has(normaliseQuestion(r.problem)));
    const gradedBy = (e: Map<string, { step: number; evidence: FfsEvidence | null }>): Graded[] =>
      matched.map((r) => ({
        id: r.id,
        even: index.get(r.id)! % 2 === 0,
        label: truth.get(r.id)!.label,
        predicted: e.get(r.id)?.step ?? -1,
        evidence: e.get(r.id)?.evidence ?? null,
      }));
    const g = gradedBy(emitted);
    const cutEvidence = numeric.emit.cut_evidence;
    const nodesOf = byProblemId(soc.nodes);
    const ceiling = numberRuleCeiling(
      matched.map((r) => ({
        steps: r.steps,
        nodes: nodesOf.get(byQuestion.get(normaliseQuestion(r.problem))!) ?? [],
        label: truth.get(r.id)!.label,
        final_answer_correct: truth.get(r.id)!.final_answer_correct,
      })),
    );
    log(
      `graded ${g.length} of ${rows.length} rows (${rejects.length} malformed); ${emitted.size} process_eval rows emitted`,
    );
    let extractor: ExtractorSummary | undefined;
    if (extracted !== null) {
      const m = processBenchF1(gradedBy(extracted.emitted));
      extractor = {
        model: ext!.model,
        acc_error: m.acc_error,
        acc_correct: m.acc_correct,
        f1: m.f1,
        ...cuts(gradedBy(extracted.emitted), extracted.config.emit.cut_evidence),
        ...extracted.stats,
      };
    }
    return {
      ...processBenchF1(g),
      skipped: rows.length + rejects.length - g.length,
      not_emitted: g.filter((r) => !emitted.has(r.id)).length,
      ...cuts(g, cutEvidence),
      even: processBenchF1(g.filter((r) => r.even)),
      odd: processBenchF1(g.filter((r) => !r.even)),
      ...ceiling,
      ...(extractor ? { extractor } : {}),
    };
  } finally {
    await work.done();
  }
}

/** The cut metrics: among rows whose evidence is in `cutEvidence`, the share with ffs_step = label, and their share of erroneous rows. */
export function cuts(rows: readonly Graded[], cutEvidence: readonly FfsEvidence[]): Cuts {
  const cut = rows.filter((r) => r.predicted >= 0 && r.evidence !== null && cutEvidence.includes(r.evidence));
  const erroneous = rows.filter((r) => r.label >= 0).length;
  const by_evidence: Cuts['by_evidence'] = {};
  for (const r of rows)
    if (r.evidence !== null && r.predicted >= 0) {
      const e = (by_evidence[r.evidence] ??= { rows: 0, equal: 0 });
      e.rows++;
      if (r.predicted === r.label) e.equal++;
    }
  return {
    cut_evidence: [...cutEvidence],
    cut_rows: cut.length,
    cut_precision: cut.length ? cut.filter((r) => r.predicted === r.label).length / cut.length : null,
    cut_coverage: erroneous ? cut.filter((r) => r.label >= 0).length / erroneous : null,
    by_evidence,
  };
}

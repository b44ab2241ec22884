/**
 * @module pipeline/commands/eval-processbench
 * `tracepipe eval processbench`: First Failure Step localisation with no model, on ProcessBench's
 * GSM8K half. Each solution is aligned to the GSM8K socratic ARS of its problem and scored
 * against the ARS gold answers (`final_correct`); a wrong one gets its FFS step from its own
 * value graph (`valuegraph.ts`, `rootcause.ts`). ProcessBench's labels are read only after
 * every prediction is made, to compute the metric, over all rows and over even and odd rows.
 */
import type { ArsNode, PathRow, ScoredPath } from '../../schemas/index.ts';
import { ingest } from '../../stages/ingest.ts';
import { normaliseQuestion } from '../../stages/ingest/gsm8k.ts';
import { readProcessbench, processbenchLabels } from '../../stages/ingest/processbench.ts';
import { align } from '../../stages/align.ts';
import { valueGraphFailureStep } from '../../stages/align/rootcause.ts';
import { score } from '../../stages/score.ts';
import { processBenchF1 } from '../metrics.ts';

export interface EvalProcessbenchOptions {
  /** ProcessBench JSON array (e.g. `gsm8k.dev.json`). */
  data: string;
  /** GSM8K `test_socratic.jsonl`, the ARS of every problem. */
  ars: string;
  log?: (line: string) => void;
}

/** The metric on a subset of rows. */
export interface Processbench { n: number; acc_error: number; acc_correct: number; f1: number }

export interface EvalProcessbenchSummary {
  n: number;
  /** Accuracy on samples with an error (label != -1), ×100. */
  acc_error: number;
  /** Accuracy on samples with no error (label = -1), ×100. */
  acc_correct: number;
  f1: number;
  /** Rows that could not be evaluated (no matching GSM8K problem, malformed). */
  skipped: number;
  /** The same metric with `score`'s own `ffs_step` (ARS-node FFS), for comparison. */
  f1_score_ffs_step: number;
  /** The metric on the even-indexed well-formed rows (0, 2, ...), where the rules were chosen, and on the odd ones. */
  even: Processbench;
  odd: Processbench;
}

/**
 * Predicted ProcessBench label of one scored free path: -1 when its final answer is right; else
 * the first failure on its value graph (`firstFailure`: the earliest step with a suspect value
 * whose operands are all trusted, or holding the wrong final value), else its last step (TRACE:
 * no root cause, the error is in `F`).
 */
export function predictFfsStep(path: Pick<PathRow, 'steps' | 'final_answer'>, scored: Pick<ScoredPath, 'final_correct'>, nodes: readonly ArsNode[]): number {
  if (scored.final_correct !== false) return -1;
  return Math.max(0, valueGraphFailureStep(path.steps, path.final_answer, nodes) ?? path.steps.length - 1);
}

/** Runs the evaluation and returns ProcessBench's metric (×100). */
export async function evalProcessbench(opts: EvalProcessbenchOptions): Promise<EvalProcessbenchSummary> {
  const log = opts.log ?? (() => {});
  const runId = 'eval-processbench';
  const ing = await ingest([{ path: opts.ars, format: 'gsm8k-socratic' }], { runId });
  const ids = new Map(ing.problems.map((p) => [normaliseQuestion(p.question), p.problem_id]));
  const { rows, rejects } = await readProcessbench(opts.data);
  const paths: PathRow[] = [];
  for (const r of rows) {
    const problemId = ids.get(normaliseQuestion(r.problem));
    if (problemId === undefined) { log(`skipped ${r.id}: its problem matches no GSM8K problem`); continue; }
    // Only what a solver would see: problem, steps. final_answer_correct and label stay unread.
    paths.push({ run_id: runId, problem_id: problemId, path_id: r.id, mode: 'free', sample_index: 0, model: r.generator, steps: r.steps, node_answers: [], final_answer: null, given_correct: null, finish_reason: null, tokens_in: 0, tokens_out: 0 });
  }
  const used = new Set(paths.map((p) => p.problem_id));
  const problems = ing.problems.filter((p) => used.has(p.problem_id));
  const nodes = ing.nodes.filter((n) => used.has(n.problem_id));
  // Localisation wants every step a node was answered at, carried to the final answer or not.
  const aligned = align({ paths, nodes }, { carry: false }).paths;
  const { scored } = score({ problems, nodes, paths: aligned }, { runId });
  const nodesBy = new Map<string, ArsNode[]>();
  for (const n of nodes) nodesBy.set(n.problem_id, [...(nodesBy.get(n.problem_id) ?? []), n].sort((a, b) => a.position - b.position));
  const byId = new Map(aligned.map((p) => [p.path_id, p]));
  const index = new Map(rows.map((r, i) => [r.id, i]));
  const predictions = scored.map((s) => ({ id: s.path_id, even: (index.get(s.path_id) ?? 0) % 2 === 0, predicted: predictFfsStep(byId.get(s.path_id)!, s, nodesBy.get(s.problem_id) ?? []), fromScore: s.ffs_step }));
  log(`predicted ${predictions.length} of ${rows.length} rows (${rejects.length} malformed)`);

  const labels = await processbenchLabels(opts.data);
  const rowsWithLabel = predictions.filter((p) => labels.has(p.id));
  const metric = (ps: typeof rowsWithLabel) => processBenchF1(ps.map((p) => ({ label: labels.get(p.id)!, predicted: p.predicted })));
  const base = processBenchF1(rowsWithLabel.map((p) => ({ label: labels.get(p.id)!, predicted: p.fromScore })));
  return {
    ...metric(rowsWithLabel), skipped: rows.length + rejects.length - rowsWithLabel.length, f1_score_ffs_step: base.f1,
    even: metric(rowsWithLabel.filter((p) => p.even)), odd: metric(rowsWithLabel.filter((p) => !p.even)),
  };
}

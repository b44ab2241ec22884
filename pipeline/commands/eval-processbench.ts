/**
 * @module pipeline/commands/eval-processbench
 * `tracepipe eval processbench`: First Failure Step localisation with no model, on ProcessBench's
 * GSM8K half. Each solution is aligned to the GSM8K socratic ARS of its problem, scored against
 * the ARS gold answers, and its FFS step predicted from TRACE's FFS plus the arithmetic check.
 * ProcessBench's labels are read only after every prediction is made, to compute the metric.
 */
import type { ArsNode, PathRow, ScoredPath } from '../../schemas/index.ts';
import { ingest } from '../../stages/ingest.ts';
import { normaliseQuestion } from '../../stages/ingest/gsm8k.ts';
import { readProcessbench, processbenchLabels } from '../../stages/ingest/processbench.ts';
import { align, arithmeticErrors, ffsStepForFree, firstDeviation, pathFacts } from '../../stages/align.ts';
import { score } from '../../stages/score.ts';
import { processBenchF1 } from '../metrics.ts';

export interface EvalProcessbenchOptions {
  /** ProcessBench JSON array (e.g. `gsm8k.dev.json`). */
  data: string;
  /** GSM8K `test_socratic.jsonl`, the ARS of every problem. */
  ars: string;
  log?: (line: string) => void;
}

export interface EvalProcessbenchSummary {
  n: number;
  /** Accuracy on samples with an error (label != -1), ×100. */
  acc_error: number;
  /** Accuracy on samples with no error (label = -1), ×100. */
  acc_correct: number;
  f1: number;
  /** Rows that could not be evaluated (no matching GSM8K problem, malformed). */
  skipped: number;
  /** The same metric with `score`'s own `ffs_step` and no arithmetic check, for comparison. */
  f1_score_ffs_step: number;
}

/**
 * Predicted ProcessBench label of one scored free path: -1 when its final answer is right; else
 * the earliest of the FFS node's step (`ffsStepForFree`), the first step whose arithmetic leaves
 * the ARS gold values (`firstDeviation`), and the first misstated arithmetic (`arithmeticErrors`).
 */
export function predictFfsStep(path: Pick<PathRow, 'steps' | 'node_answers'>, scored: Pick<ScoredPath, 'final_correct' | 'ffs_node'>, nodes: readonly ArsNode[]): number {
  if (scored.final_correct !== false) return -1;
  const fromNode = scored.ffs_node === null ? path.steps.length - 1 : ffsStepForFree(path, nodes, scored.ffs_node);
  const arith = arithmeticErrors(path.steps)[0]?.step;
  const final = nodes.find((n) => n.is_final);
  const dev = firstDeviation(pathFacts(path.steps, final?.question ?? ''), nodes);
  return Math.max(0, Math.min(fromNode, dev ?? Infinity, arith ?? Infinity));
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
  const predictions = scored.map((s) => ({ id: s.path_id, predicted: predictFfsStep(byId.get(s.path_id)!, s, nodesBy.get(s.problem_id) ?? []), fromScore: s.ffs_step }));
  log(`predicted ${predictions.length} of ${rows.length} rows (${rejects.length} malformed)`);

  const labels = await processbenchLabels(opts.data);
  const rowsWithLabel = predictions.filter((p) => labels.has(p.id));
  const m = processBenchF1(rowsWithLabel.map((p) => ({ label: labels.get(p.id)!, predicted: p.predicted })));
  const base = processBenchF1(rowsWithLabel.map((p) => ({ label: labels.get(p.id)!, predicted: p.fromScore })));
  return { ...m, skipped: rows.length + rejects.length - rowsWithLabel.length, f1_score_ffs_step: base.f1 };
}

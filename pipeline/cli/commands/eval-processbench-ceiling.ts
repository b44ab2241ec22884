/**
 * @module pipeline/cli/commands/eval-processbench-ceiling
 * The ceiling of number rules on ProcessBench, for after the predictions are made: erroneous rows
 * whose labelled step writes no number a rule on values could single out.
 */
import type { ArsNode } from '../../../schemas/index.ts';
import { goldValues } from '../../../stages/align/rootcause.ts';
import { buildValueGraph } from '../../../stages/align/valuegraph.ts';
import { sameValue } from '../../../stages/align/arith.ts';

/** The ceiling of number rules (see `numberRuleCeiling`). */
export interface NumberRuleCeiling {
  label_step_without_new_number: { rows: number; of: number };
  erroneous_final_correct: number;
}

/** One labelled row for `numberRuleCeiling`: its steps, its problem's ARS nodes (`F` holds the question), its truth. */
export interface CeilingRow {
  steps: readonly string[];
  nodes: readonly Pick<ArsNode, 'answer' | 'is_final' | 'question'>[];
  label: number;
  final_answer_correct: boolean;
}

/**
 * Counts, among erroneous rows (label >= 0) whose final answer is wrong, those whose labelled
 * step has no value-graph node that is neither a gold value of an ARS node nor `given` (a
 * question number or a constant): the step writes no new number. Erroneous rows whose final
 * answer is right are counted apart. Pure; for after the predictions are made.
 */
export function numberRuleCeiling(rows: Iterable<CeilingRow>): NumberRuleCeiling {
  let withNew = 0,
    of = 0,
    finalCorrect = 0;
  for (const r of rows) {
    if (r.label < 0) continue;
    if (r.final_answer_correct) {
      finalCorrect++;
      continue;
    }
    of++;
    const golds = goldValues(r.nodes);
    const g = buildValueGraph(r.steps, r.nodes.find((n) => n.is_final)?.question ?? '');
    if (g.nodes.some((n) => n.step === r.label && n.kind !== 'given' && !golds.some((v) => sameValue(v, n.value))))
      withNew++;
  }
  return { label_step_without_new_number: { rows: of - withNew, of }, erroneous_final_correct: finalCorrect };
}

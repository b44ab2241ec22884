/**
 * @module stages/score/localise
 * Where a wrong path's First Failure Step is (`ffs_step`) and what placed it (`ffs_evidence`),
 * TRACE.md "First Failure Step". A free path is read on its own value graph (stages/align): the
 * node references (gold, else consensus) and the question's numbers are trusted, and the step is
 * the earliest false computation, or value no reference explains computed from trusted values (a
 * false computation outranks such values before it), or the step holding the wrong final value (or
 * the step just before that sets it up from known numbers); the ARS-node rule stands when the text
 * shows none.
 */
import type { ArsNode, FfsEvidence, PathRow } from '../../schemas/index.ts';
import { computations, statedNumbers } from '../align/arith.ts';
import { ffsStepForFree } from '../align/nodes.ts';
import { buildValueGraph, type ValueGraph } from '../align/valuegraph.ts';
import { finalNode, markValues } from '../align/rootcause.ts';
import { numericValue } from '../align/units.ts';

export interface Localisation {
  step: number;
  evidence: FfsEvidence;
}

/** Evidence ranks for a tie on the step: the text's own check first, then a node, then only the final answer. */
const RANK: Record<FfsEvidence, number> = { arithmetic: 0, node: 1, final: 2 };

/** Whether a step writes a computation whose stated result is false. */
const miscalculates = (text: string | undefined, step: number) =>
  text !== undefined && computations(text, step).some((c) => !c.correct);

/**
 * The FFS step of a wrong path whose FFS node is `ffsNode`. `references` are the reference
 * answers of its nodes (gold, else consensus; `F`'s included), the values the path may be trusted
 * to reach. Ars-guided paths keep the node's position. Time O(values²) of the path's text.
 */
export function localise(
  path: Pick<PathRow, 'mode' | 'steps' | 'final_answer' | 'node_answers'>,
  nodes: readonly ArsNode[],
  ffsNode: string,
  references: readonly (string | null)[],
): Localisation {
  const node = nodes.find((n) => n.node_id === ffsNode);
  const last = Math.max(0, path.steps.length - 1);
  if (path.mode === 'ars-guided' || !node) {
    const step = node?.position ?? last;
    const evidence = miscalculates(path.steps[step], step) ? 'arithmetic' : node && !node.is_final ? 'node' : 'final';
    return { step, evidence };
  }
  const fromText = textFailure(path, nodes, references);
  if (fromText) return fromText;
  // The text shows nothing: TRACE's node rule (where the FFS node was answered, or should have been).
  const step = ffsStepForFree(path, nodes, ffsNode);
  const answered = path.node_answers.some((a) => a.node_id === ffsNode && a.step === step && a.answer !== null);
  if (miscalculates(path.steps[step], step)) return { step, evidence: 'arithmetic' };
  if (answered && !node.is_final) return { step, evidence: 'node' };
  const question = nodes.find((n) => n.is_final)?.question ?? '';
  return { step: setupStep(buildValueGraph(path.steps, question), path.steps, step), evidence: 'final' };
}

/**
 * The earliest failure the path's own value graph shows: a value marked suspect (against the
 * references, `markValues` with `leads`) whose operands are all trusted, or the step holding the
 * wrong final value; null when neither exists.
 */
function textFailure(
  path: Pick<PathRow, 'steps' | 'final_answer'>,
  nodes: readonly ArsNode[],
  references: readonly (string | null)[],
): Localisation | null {
  const question = nodes.find((n) => n.is_final)?.question ?? '';
  const trusted = references.map((r) => (r === null ? null : numericValue(r))).filter((v): v is number => v !== null);
  const g = buildValueGraph(path.steps, question);
  const marks = markValues(g, trusted, { consistent: 'leads' });
  const fv = path.final_answer === null ? null : numericValue(path.final_answer);
  const fin = fv === null ? -1 : finalNode(g, fv);
  const found: Localisation[] = [];
  // A wrong value that is the final answer itself says no more than the final answer does.
  for (const n of g.nodes)
    if (n.step >= 0 && marks[n.id] === 'suspect' && n.operands.every((o) => marks[o] !== 'suspect'))
      found.push({ step: n.step, evidence: !n.correct ? 'arithmetic' : n.id === fin ? 'final' : 'node' });
  if (fin >= 0) found.push({ step: g.nodes[fin]!.step, evidence: 'final' });
  // A value no reference explains may be an intermediate the ARS does not name (another route to
  // the answer); a false computation is an error for certain, so it outranks such values before it.
  const falseAt = path.steps.findIndex((text, step) => miscalculates(text, step));
  const kept = falseAt < 0 ? found : found.filter((f) => f.evidence !== 'node' || f.step >= falseAt);
  kept.sort((a, b) => a.step - b.step || RANK[a.evidence] - RANK[b.evidence]);
  const first = kept[0];
  if (!first) return null;
  if (miscalculates(path.steps[first.step], first.step)) return { ...first, evidence: 'arithmetic' };
  return first.evidence === 'final' ? { ...first, step: setupStep(g, path.steps, first.step) } : first;
}

/**
 * Where a wrong final value that only the final answer reveals was decided: a step that restates
 * known numbers without computing or introducing any (it sets up the relation, "51 = 3x",
 * "jog = total - done") and directly precedes the step that evaluates it holds the error, since
 * the evaluation itself is right. Otherwise the step itself.
 */
function setupStep(g: ValueGraph, steps: readonly string[], step: number): number {
  const prev = step - 1;
  const text = steps[prev];
  if (text === undefined) return step;
  const restates = statedNumbers(text, prev).length > 0 && computations(text, prev).length === 0;
  return restates && !g.nodes.some((n) => n.step === prev && n.kind !== 'given') ? prev : step;
}

/**
 * @module stages/rectify/check
 * Whether a continuation gives a chosen step (TRACE.md "Preference, step level"): its final answer
 * is right and its first step passes the check of the node the rejected path failed at that step
 * (the step's answer equals the node's reference, and no computation it writes is false: a wrong
 * sum that lands on the reference is no correct step). Pure; answers compared by the equivalence engine.
 */
import type { AnswerSpec, NodeVerdict, ScoredPath } from '../../schemas/index.ts';
import { extractAnswer } from '../lib/equivalence/index.ts';
import { computations } from '../align/arith.ts';
import { makeEq } from '../score/classes.ts';

const STEP_LABEL = /^\s*step\s*\d+\s*[:.)]\s*/i;
const NUMBER_START = /^[-+−]?\$?\s?\d/;
const RESULT = /(?:=|\bwhich gives\b|\bgives\b|\bequals\b|\bcomes to\b)\s*([^=]*)$/i;

/**
 * The answer a step states, read the most explicit way it offers: the text after its last
 * "Answer:" (guided steps, "Final answer:" lines); else the result after its last `=` (or "which
 * gives", "equals"), unit kept; else the answer `extractAnswer` finds in it. Empty when it states none.
 */
export function stepAnswer(step: string): string | null {
  const t = step.replace(STEP_LABEL, '').trim();
  const labelled = /.*\banswer\s*(?:is)?\s*:\s*(.+)$/is.exec(t)?.[1];
  if (labelled !== undefined) return clean(labelled) || null;
  const result = RESULT.exec(t)?.[1];
  if (result !== undefined && NUMBER_START.test(result.trim())) return clean(result) || null;
  return extractAnswer(t);
}

const clean = (s: string) =>
  s
    .trim()
    .replace(/[.;,]+$/, '')
    .trim();

/** What a continuation of one rejected path is checked against. */
export interface CheckTarget {
  /** The node whose answer the first continuation step must give. */
  node_id: string;
  reference: string;
  spec: AnswerSpec;
  /** The reference of the final answer (gold, or the label the path was scored against). */
  final_reference: string;
  final_spec: AnswerSpec;
}

/**
 * The check of a rejected path's step `ffs_step`: the node the path answered at that step (the FFS
 * node unless the step's own arithmetic placed the cut earlier), with the references its verdicts
 * were given. Null when a reference is missing (a contested node): nothing could be checked.
 */
export function checkTarget(
  s: Pick<ScoredPath, 'ffs_node' | 'ffs_step' | 'verdicts'>,
  specOf: (nodeId: string) => AnswerSpec,
): CheckTarget | null {
  if (s.ffs_node === null || s.ffs_step < 0) return null;
  const at = s.verdicts.find((v) => v.step === s.ffs_step);
  const v: NodeVerdict | undefined = at ?? s.verdicts.find((x) => x.node_id === s.ffs_node);
  const final = s.verdicts.find((x) => x.node_id === 'F');
  if (!v?.reference || !final?.reference) return null;
  return {
    node_id: v.node_id,
    reference: v.reference,
    spec: specOf(v.node_id),
    final_reference: final.reference,
    final_spec: specOf('F'),
  };
}

/** Whether a parsed continuation passes: a right final answer, and a first step stating the node's reference with true arithmetic. */
export function passes(c: { steps: readonly string[]; final_answer: string | null }, t: CheckTarget): boolean {
  const first = c.steps[0];
  if (first === undefined || c.final_answer === null) return false;
  if (!makeEq(t.final_spec)(t.final_reference, c.final_answer)) return false;
  if (computations(first, 0).some((x) => !x.correct)) return false;
  return makeEq(t.spec)(t.reference, stepAnswer(first));
}

/** The key under which two chosen steps are the same step: its text without the "Step k:" label, spaces and case. */
export const chosenKey = (step: string) => step.replace(STEP_LABEL, '').replace(/\s+/g, ' ').trim().toLowerCase();

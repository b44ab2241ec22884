/**
 * @module sim/continue
 * The SIMULATED continuation of one of the simulator's own paths from a prefix (the protocol is
 * stages/lib/continuation.ts): the prefix's stated values are read back, and the remaining nodes
 * are solved from them at the usual error rates, so an error in the prefix flows into the
 * continuation. Also the verifier benchmarks use to check a step against the synth formulas.
 */
import type { Rng } from './rng.ts';
import { evalStep, SYNTH_TOLERANCE, type SynthProblem, type SynthStep } from './synth.ts';
import { answerText, planPath, solvePath, statedValue, type ErrorModel } from './solve.ts';

const STEP_START = /^(step\s*\d+\s*[:.)]|Q\d+:|final answer\s*:)/i;
const GUIDED_STEP = /^(Q\d+): /;

/** An assistant turn's text cut into steps: a line starting "Step k:", "Qk:" or "Final answer:" opens one. */
export function prefixSteps(text: string): string[] {
  const steps: string[] = [];
  for (const line of text.replace(/\r/g, '').split('\n')) {
    const l = line.trim();
    if (!l) continue;
    if (STEP_START.test(l) || steps.length === 0) steps.push(l);
    else steps[steps.length - 1] += `\n${l}`;
  }
  return steps;
}

/**
 * The values a prefix of the simulator's own path states, by node id. Guided steps
 * ("Q2: question reasoning Answer: x") name their node; free steps ("Step k: ...") are the nodes
 * in order, then F. A "Final answer:" line or a step that states no number adds nothing.
 */
export function readPrefix(p: SynthProblem, steps: readonly string[]): Record<string, number> {
  const order: SynthStep[] = [...p.steps, p.final];
  const guided = steps.some((s) => GUIDED_STEP.test(s));
  const out: Record<string, number> = {};
  let j = 0;
  for (const s of steps) {
    if (/^final answer\s*:/i.test(s)) continue;
    const id = guided ? GUIDED_STEP.exec(s)?.[1] : order[j++]?.node_id;
    const x = statedValue(s);
    if (id !== undefined && x !== null && order.some((st) => st.node_id === id)) out[id] = x;
  }
  return out;
}

/**
 * The continuation reply after `prefix`: "Step k:" lines numbered on from the prefix for the nodes
 * it has not answered (only those in `emit`, when given: a guided path's ARS), the final step, and
 * "Final answer: ...". Errors are drawn from `model` for the remaining nodes only.
 */
export function continuationContent(
  p: SynthProblem,
  prefix: readonly string[],
  emit: ReadonlySet<string> | undefined,
  model: ErrorModel,
  r: Rng,
): string {
  const stated = readPrefix(p, prefix);
  const f = stated[p.final.node_id];
  if (f !== undefined) return `Final answer: ${answerText(p.final, f)}`;
  const sol = solvePath(p, planPath(p, model, r), r, { stated, ...(emit ? { emit } : {}) });
  const lines = [...sol.steps, sol.final].map((s, i) => `Step ${prefix.length + i + 1}: ${s.text}`);
  return `${lines.join('\n')}\nFinal answer: ${sol.final.answer}`;
}

/** True when `a` equals `b` within the synth answers' relative tolerance. */
export const withinTolerance = (a: number, b: number) => Math.abs(a - b) <= SYNTH_TOLERANCE * Math.abs(b);

/**
 * Whether `step` states the value that node `nodeId`'s formula gives from `parents` (the values
 * the prefix states; a parent it does not state is computed from the givens and the others,
 * correctly), within the synth tolerance. An unknown node or a step that states no number is false.
 */
export function verifyStep(
  p: SynthProblem,
  nodeId: string,
  parents: Readonly<Record<string, number>>,
  step: string,
): boolean {
  const node = [...p.steps, p.final].find((st) => st.node_id === nodeId);
  const stated = statedValue(step);
  if (!node || stated === null) return false;
  const values: Record<string, number> = {};
  for (const st of p.steps) values[st.node_id] = parents[st.node_id] ?? evalStep(st, p.givens, values);
  return withinTolerance(stated, evalStep(node, p.givens, values));
}

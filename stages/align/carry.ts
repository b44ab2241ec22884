/**
 * @module stages/align/carry
 * Which of a path's values its final answer rests on. A node the path computes but never carries
 * into its final answer (or carries only through a miscalculated step) was not answered in the
 * ARS's sense: every node reaches `F`, so a path's answer to a node is the value it carries there.
 */
import type { NodeAnswer } from '../../schemas/index.ts';
import { numericValue } from './units.ts';
import { sameValue, type Computation } from './arith.ts';
import type { PathFacts } from './nodes.ts';

const has = (xs: Iterable<number>, v: number) => {
  for (const x of xs) if (sameValue(x, v)) return true;
  return false;
};

/**
 * The values the final answer is derived from: the final value, and the operands (and implied
 * values) of the computations that produce it, followed back through earlier computations. A miscalculated
 * computation (its stated value is not what its operands give) carries nothing back.
 * Null when no computation states the final value (nothing to follow). Time O(computations²).
 */
export function carriedValues(
  facts: PathFacts,
  finalValue: number,
): { values: number[]; finalComp: Computation } | null {
  const comps = facts.comps;
  let fi = -1;
  for (let i = comps.length - 1; i >= 0; i--)
    if (sameValue(comps[i]!.stated, finalValue)) {
      fi = i;
      break;
    }
  if (fi < 0) return null;
  const values: number[] = [finalValue];
  const seen = new Set<number>();
  const stack = [fi];
  while (stack.length) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    const c = comps[i]!;
    if (!c.correct) continue;
    for (const v of facts.impliedOf(i)) if (!has(values, v)) values.push(v);
    for (const o of c.operands) {
      if (!has(values, o)) values.push(o);
      // The latest earlier computation that states this operand produced it.
      for (let j = i - 1; j >= 0; j--)
        if (sameValue(comps[j]!.stated, o)) {
          stack.push(j);
          break;
        }
    }
  }
  return { values, finalComp: comps[fi]! };
}

/**
 * Node answers with the uncarried ones set to null (missing): an answered node whose value the
 * final answer does not rest on. A parent of `F` (`finalParents`) must be an operand of the
 * computation that states the final answer itself, one of its terms once earlier sums (or
 * products) it adds up are written out (`15 + 30 = 45`, `60 + 45 = 105` combines 15 and 30), or a
 * value it implies (`impliedValues`: `5 * 10 + 8 * 10 = 130` carries `5 + 8`): `F` is one step from its parents, so a path
 * that stops at a parent, or takes its final answer from elsewhere, has not carried it. Answers
 * are kept as they are when the final answer cannot be followed back (no final value, or no
 * computation states it).
 */
export function keepCarried(
  answers: readonly NodeAnswer[],
  facts: PathFacts,
  finalAnswer: string | null,
  finalParents: readonly string[] = [],
): NodeAnswer[] {
  const fv = finalAnswer === null ? null : numericValue(finalAnswer);
  const carried = fv === null ? null : carriedValues(facts, fv);
  if (!carried) return [...answers];
  const direct = new Set(finalParents);
  const fc = carried.finalComp;
  const at = facts.comps.indexOf(fc);
  const last = fc.correct ? [...fc.operands, ...facts.impliedOf(at), ...facts.leavesOf(at)] : [];
  return answers.map((a) => {
    if (a.answer === null) return a;
    const v = numericValue(a.answer);
    const ok = v !== null && has(direct.has(a.node_id) ? last : carried.values, v);
    return ok ? a : { ...a, answer: null, step: null };
  });
}

/**
 * @module stages/score/classes
 * Equivalence classes of the answers K paths gave to one node (TRACE.md "Step verdicts").
 */
import { equivalent, equivalenceKey } from '../lib/equivalence/index.ts';
import type { AnswerSpec } from '../../schemas/index.ts';

export interface Classes {
  /** Class index per path (null for a null answer). */
  classOf: (number | null)[];
  /** Size of each class. */
  sizes: number[];
  /** One member's answer per class. */
  reps: string[];
}

/** Groups answers by `eq`, comparing each answer to one representative per class. */
export function classify(answers: readonly (string | null)[], spec: AnswerSpec, eq = makeEq(spec)): Classes {
  const classOf: (number | null)[] = [];
  const sizes: number[] = [];
  const reps: string[] = [];
  const byKey = new Map<string, number>();
  const byText = new Map<string, number>();
  for (const a of answers) {
    if (a === null) {
      classOf.push(null);
      continue;
    }
    // The same text is the same class: most of the K answers repeat one of a few strings.
    const same = byText.get(a);
    if (same !== undefined) {
      sizes[same]!++;
      classOf.push(same);
      continue;
    }
    const key = equivalenceKey(a, spec);
    let c = key !== null ? byKey.get(key) : undefined;
    if (c === undefined) c = reps.findIndex((r) => eq(r, a));
    if (c === -1) {
      c = reps.length;
      reps.push(a);
      sizes.push(0);
    }
    if (key !== null && !byKey.has(key)) byKey.set(key, c);
    sizes[c]!++;
    classOf.push(c);
    byText.set(a, c);
  }
  return { classOf, sizes, reps };
}

/** The largest class, or null when the largest size is shared (no consensus) or all are null. */
export function consensus(c: Classes): number | null {
  let best = -1;
  let tie = false;
  c.sizes.forEach((s, i) => {
    if (best === -1 || s > c.sizes[best]!) {
      best = i;
      tie = false;
    } else if (s === c.sizes[best]) tie = true;
  });
  return best === -1 || tie ? null : best;
}

/** `eq(reference, answer)` under a spec: true only when the engine says equal ("unknown" is not equal). Order matters for unit policies. */
export function makeEq(spec: AnswerSpec): (x: string | null, y: string | null) => boolean {
  const memo = new Map<string, boolean>();
  return (x, y) => {
    if (x === null || y === null) return false;
    if (x === y) return true;
    const k = `${x}\u0000${y}`;
    let r = memo.get(k);
    if (r === undefined) {
      r = equivalent(x, y, spec).equal === true;
      memo.set(k, r);
    }
    return r;
  };
}

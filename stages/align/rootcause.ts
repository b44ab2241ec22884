/**
 * @module stages/align/rootcause
 * TRACE's First Failure Step on a path's own value graph: values are trusted or suspect against
 * the ARS gold values. `rootCause` is the earliest suspect value the wrong final answer descends
 * from whose operands are all trusted (TRACE's propagating root cause); `firstFailure` drops the
 * descent condition, as ProcessBench labels the first wrong step whether or not it propagates.
 */
import { sameValue } from './arith.ts';
import { ancestors, buildValueGraph, oneOp, UNIT_SIZES, type ValueGraph, type ValueNode } from './valuegraph.ts';
import { numericValue } from './units.ts';

export type Mark = 'trusted' | 'suspect';

export interface MarkOptions {
  /**
   * When correct arithmetic over trusted operands that is no gold value is still trusted:
   * `always`; `leads` when its operands are two or more gold values (not question numbers), or a
   * later value computed from it is gold (a later value that undoes it, equal to one of its
   * ancestors, does not count); `reaches` when it leads, or one operation with a question number
   * or gold value other than its own operands gives another gold value.
   */
  consistent: 'always' | 'leads' | 'reaches';
}

const has = (xs: readonly number[], v: number) => xs.some((x) => sameValue(x, v));

/** Marks every value of the graph (node order is topological: operands come first). */
export function markValues(g: ValueGraph, golds: readonly number[], opts: MarkOptions): Mark[] {
  const marks: Mark[] = [];
  const children = g.nodes.map(() => [] as number[]);
  for (const n of g.nodes) for (const o of n.operands) children[o]!.push(n.id);
  const leadsToGold = (id: number): boolean => {
    const back = [...ancestors(g, id)].map((a) => g.nodes[a]!.value);
    const seen = new Set<number>();
    const stack = [...children[id]!];
    while (stack.length) {
      const i = stack.pop()!;
      if (seen.has(i)) continue;
      seen.add(i);
      const n = g.nodes[i]!;
      if (!n.correct || has(back, n.value)) continue;
      if (has(golds, n.value)) return true;
      stack.push(...children[i]!);
    }
    return false;
  };
  const anchors = [...golds, ...g.nodes.filter((n) => n.kind === 'given' && n.step < 0).map((n) => n.value)];
  const reaches = (id: number) => {
    const own = g.nodes[id]!.operands.map((o) => g.nodes[o]!.value);
    const targets = golds.filter((v) => !has(own, v));
    return anchors.some((t) => !has(own, t) && oneOp(g.nodes[id]!.value, t).some((v) => has(targets, v)));
  };
  for (const n of g.nodes) {
    const ok = () => {
      if (n.kind === 'given' || has(golds, n.value)) return true;
      if (n.kind === 'stated' || !n.correct || n.operands.some((o) => marks[o] === 'suspect')) return false;
      if (conversion(g, n)) return true;
      if (opts.consistent === 'always') return true;
      // Right arithmetic over two or more of the ARS's own answers is a sound step (90 + 180 = 270), wherever it leads.
      if (
        n.operands.length >= 2 &&
        n.operands.every((o) => g.nodes[o]!.kind !== 'given' && has(golds, g.nodes[o]!.value))
      )
        return true;
      return leadsToGold(n.id) || (opts.consistent === 'reaches' && reaches(n.id));
    };
    marks.push(ok() ? 'trusted' : 'suspect');
  }
  return marks;
}

/**
 * Whether a value is a product of unit sizes the path brings in itself, not the question's numbers
 * (60 * 60 = 3600 seconds an hour): a unit conversion, right whatever quantities the ARS names.
 */
function conversion(g: ValueGraph, n: ValueNode): boolean {
  if (n.kind !== 'computed' || n.operands.length < 2) return false;
  const ops = n.operands.map((o) => g.nodes[o]!);
  return (
    ops.every((o) => o.kind === 'given' && o.step >= 0 && has(UNIT_SIZES, o.value)) &&
    sameValue(
      ops.reduce((a, o) => a * o.value, 1),
      n.value,
    )
  );
}

/**
 * ProcessBench's first error on the value graph of a path whose final answer is wrong: the
 * earliest step holding a suspect value whose operands are all trusted (a root cause, whether
 * or not the final answer descends from it), or holding the final value itself; null when
 * neither exists (no suspect value and no node with the final value).
 */
export function firstFailure(g: ValueGraph, marks: readonly Mark[], finalValue: number | null): number | null {
  const steps = g.nodes
    .filter((n) => n.step >= 0 && marks[n.id] === 'suspect' && n.operands.every((o) => marks[o] !== 'suspect'))
    .map((n) => n.step);
  const fin = finalValue === null ? -1 : finalNode(g, finalValue);
  if (fin >= 0) steps.push(g.nodes[fin]!.step);
  return steps.length ? Math.min(...steps) : null;
}

/** The latest node of a step (not the question) holding the final value; -1 when none. */
export function finalNode(g: ValueGraph, finalValue: number): number {
  for (let i = g.nodes.length - 1; i >= 0; i--)
    if (g.nodes[i]!.step >= 0 && sameValue(g.nodes[i]!.value, finalValue)) return i;
  return -1;
}

/**
 * The FFS value of a path whose final answer `finalValue` is wrong: the earliest suspect value
 * among the final value's node and its ancestors whose operands are all trusted; the final
 * value's node itself counts as suspect. Null when no node holds the final value.
 */
export function rootCause(
  g: ValueGraph,
  marks: readonly Mark[],
  finalValue: number,
): { id: number; step: number } | null {
  const fin = finalNode(g, finalValue);
  if (fin < 0) return null;
  const suspect = (i: number) => i === fin || marks[i] === 'suspect';
  const ids = [...ancestors(g, fin), fin].filter(
    (i) => g.nodes[i]!.step >= 0 && suspect(i) && g.nodes[i]!.operands.every((o) => !suspect(o)),
  );
  ids.sort((a, b) => g.nodes[a]!.step - g.nodes[b]!.step || a - b);
  const id = ids[0];
  return id === undefined ? null : { id, step: g.nodes[id]!.step };
}

/** The numeric gold answers of ARS nodes (final included); answers that are not numbers are left out. */
export function goldValues(nodes: readonly { answer: string | null }[]): number[] {
  return nodes.map((n) => (n.answer === null ? null : numericValue(n.answer))).filter((v): v is number => v !== null);
}

/**
 * The step where a wrong free path first went wrong on its own value graph: the earliest step
 * with a suspect value whose operands are all trusted (gold ARS values and question numbers are
 * trusted), or the step holding the wrong final value; null when none is found.
 */
export function valueGraphFailureStep(
  steps: readonly string[],
  finalAnswer: string | null,
  nodes: readonly { answer: string | null; is_final: boolean; question: string }[],
): number | null {
  const question = nodes.find((n) => n.is_final)?.question ?? '';
  const golds = goldValues(nodes);
  const g = buildValueGraph(steps, question);
  return firstFailure(
    g,
    markValues(g, golds, { consistent: 'leads' }),
    finalAnswer === null ? null : numericValue(finalAnswer),
  );
}

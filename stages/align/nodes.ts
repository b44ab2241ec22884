/**
 * @module stages/align/nodes
 * Numeric alignment of one free path to its ARS, with no model. A node is matched to the step
 * that states its gold value; failing that, to the step whose computation uses the path's own
 * (wrong) answers to the node's parents, so that errors are found and followed, not only gold.
 */
import type { ArsNode, NodeAnswer } from '../../schemas/index.ts';
import { answerText, numericValue } from './units.ts';
import {
  computations,
  normaliseMath,
  sameValue,
  statedNumbers,
  type Computation,
  type Stated,
  type Tree,
} from './arith.ts';
import { memoText } from '../lib/memo.ts';
import { expanders, impliedValues, leafValues, restsOn } from './implied.ts';
import { goldValues } from './rootcause.ts';

/**
 * What alignment reads from a path once: its computations and stated numbers, step by step. The
 * per-computation readings are worked out when first asked for (`impliedOf`, `leavesOf`,
 * `restsOf`; most are never needed) and kept; `implied`, `leaves` and `rests` list them all.
 */
export interface PathFacts {
  comps: Computation[];
  stated: Stated[];
  /** Numbers given in the problem text (the `F` node's question). Shared by the paths of a problem: never change it. */
  given: number[];
  steps: number;
  /** The text of every step (units are read from it). */
  texts: readonly string[];
  /** Per computation (same order as `comps`): the values it implies without stating them (`impliedValues`). */
  readonly implied: number[][];
  /** Per computation: its terms (or factors) with earlier same-kind results written out (`leafValues`). */
  readonly leaves: number[][];
  /** Per computation: the values it rests on, back through earlier computations (`restsOn`). */
  readonly rests: number[][];
  /** `implied[i]`, computed once when first asked for. */
  impliedOf(i: number): number[];
  /** `leaves[i]`, computed once when first asked for. */
  leavesOf(i: number): number[];
  /** `rests[i]`, computed once when first asked for. */
  restsOf(i: number): number[];
}

class Facts implements PathFacts {
  private readonly expand: ((v: number) => Tree | null)[];
  private readonly impliedAt: (number[] | undefined)[];
  private readonly leavesAt: (number[] | undefined)[];
  private readonly restsAt: (number[] | undefined)[];
  constructor(
    readonly comps: Computation[],
    readonly stated: Stated[],
    readonly given: number[],
    readonly steps: number,
    readonly texts: readonly string[],
  ) {
    this.expand = expanders(comps, given);
    this.impliedAt = new Array<number[] | undefined>(comps.length);
    this.leavesAt = new Array<number[] | undefined>(comps.length);
    this.restsAt = new Array<number[] | undefined>(comps.length);
  }
  impliedOf(i: number): number[] {
    return (this.impliedAt[i] ??= impliedValues(this.comps[i]!.tree, this.expand[i]));
  }
  leavesOf(i: number): number[] {
    return (this.leavesAt[i] ??= leafValues(this.comps[i]!.tree, this.expand[i]));
  }
  restsOf(i: number): number[] {
    return (this.restsAt[i] ??= restsOn(this.comps, i));
  }
  get implied(): number[][] {
    return this.comps.map((_, i) => this.impliedOf(i));
  }
  get leaves(): number[][] {
    return this.comps.map((_, i) => this.leavesOf(i));
  }
  get rests(): number[][] {
    return this.comps.map((_, i) => this.restsOf(i));
  }
}

/** Reads the computations and numbers of every step. */
export function pathFacts(steps: readonly string[], question: string): PathFacts {
  // Loops, not flatMap (which was most of this function's own time): the same lists in the same order.
  const comps: Computation[] = [];
  const stated: Stated[] = [];
  for (let i = 0; i < steps.length; i++) {
    for (const c of computations(steps[i]!, i)) comps.push(c);
    for (const x of statedNumbers(steps[i]!, i)) stated.push(x);
  }
  return new Facts(comps, stated, givenNumbers(question), steps.length, steps);
}

/** The numbers of a question as alignment reads them, cached for the shard (every path of a problem asks). */
const givenNumbers = memoText((question: string): number[] =>
  [...normaliseMath(question).matchAll(/(?<![\w.])\d+(?:\.\d+)?/g)].map((m) => Number(m[0])),
);

const fmt = (n: number) => String(Number(n.toPrecision(12)));
const has = (xs: readonly number[], v: number) => xs.some((x) => sameValue(x, v));

/** Why a node got its answer; kept for tests and debugging. */
export type MatchRule =
  'gold-computed' | 'gold-implied' | 'gold-stated' | 'given-used' | 'propagated' | 'recomputed' | 'from-given' | 'none';

/**
 * Node answers for the intermediate nodes of one path (in node order), `F` excluded.
 * `implicit` (default true) also accepts weaker evidence: a gold value the path only implies
 * (`impliedValues`, rule `gold-implied`), and a gold computation that rests on a parent's answer
 * through earlier steps rather than using it directly. It is meant to be followed by
 * `keepCarried`, which keeps such an answer only when the final answer rests on it; with no
 * carry check, pass false. A node whose gold value the problem gives, with no parents, is
 * answered when a computation uses that number (`given-used`). Time O(nodes × computations).
 */
export function alignNodes(
  facts: PathFacts,
  nodes: readonly ArsNode[],
  opts: { implicit?: boolean } = {},
): { answers: NodeAnswer[]; rules: MatchRule[] } {
  const implicit = opts.implicit ?? true;
  const inter = nodes.filter((n) => !n.is_final).sort((a, b) => a.position - b.position);
  const gold = new Map(inter.map((n) => [n.node_id, n.answer === null ? null : numericValue(n.answer)]));
  const final = nodes.find((n) => n.is_final);
  const allGold = [...gold.values(), final?.answer ? numericValue(final.answer) : null].filter(
    (v): v is number => v !== null,
  );
  const used = new Set<Computation>();
  const index = new Map(facts.comps.map((c, i) => [c, i]));
  const implied = (c: Computation) => facts.impliedOf(index.get(c)!);
  const rests = (c: Computation) => facts.restsOf(index.get(c)!);
  const got = new Map<string, { value: number; step: number }>();
  const answers: NodeAnswer[] = [];
  const rules: MatchRule[] = [];
  /** Whether a node answered so far has value `o`. */
  const gotValue = (o: number) => {
    for (const v of got.values()) if (sameValue(v.value, o)) return true;
    return false;
  };
  const take = (n: ArsNode, value: number | null, step: number | null, rule: MatchRule) => {
    if (value !== null && step !== null) got.set(n.node_id, { value, step });
    const text = step === null ? undefined : facts.texts[step];
    answers.push({ node_id: n.node_id, answer: value === null ? null : answerText(value, n.answer_spec, text), step });
    rules.push(rule);
  };

  for (const n of inter) {
    const g = gold.get(n.node_id) ?? null;
    const parents = n.depends_on
      .map((p) => ({ id: p, got: got.get(p), gold: gold.get(p) ?? null }))
      .filter((p) => gold.has(p.id));
    const after = Math.max(0, ...parents.map((p) => p.got?.step ?? 0));
    // 1. The path computes or states the gold value.
    if (g !== null) {
      const pv = parents.flatMap((p) => (p.got ? [p.got.value] : []));
      const hits = facts.comps.filter((c) => !used.has(c) && c.step >= after && sameValue(c.stated, g));
      // With answered parents, the computation must rest on one of their values (not a coincidence elsewhere).
      const c = pv.length
        ? (hits.find((c) => pv.some((v) => has(c.operands, v))) ??
          (implicit ? hits.find((c) => pv.some((v) => has(rests(c), v) || has(implied(c), v))) : undefined))
        : hits[0];
      if (c) {
        used.add(c);
        take(n, g, c.step, 'gold-computed');
        continue;
      }
      // A computation that groups the same arithmetic otherwise implies the gold value.
      const im = !implicit
        ? undefined
        : facts.comps.find(
            (c) =>
              c.step >= after &&
              has(implied(c), g) &&
              (!pv.length || pv.some((v) => has(rests(c), v) || has(implied(c), v))),
          );
      if (im) {
        take(n, g, im.step, 'gold-implied');
        continue;
      }
      // A node whose gold value the problem gives is answered by using that number (never by another computation).
      if (has(facts.given, g) && !parents.length) {
        const u = facts.comps.find((c) => c.step >= after && has(c.operands, g));
        take(n, u ? g : null, u ? u.step : null, u ? 'given-used' : 'none');
        continue;
      }
      const s =
        has(facts.given, g) || pv.length
          ? undefined
          : facts.stated.find((s) => s.step >= after && sameValue(s.value, g));
      if (s) {
        take(n, g, s.step, 'gold-stated');
        continue;
      }
    }
    // 2. A parent was answered wrongly and a later computation uses that wrong value: the error flows here.
    const wrong = parents.filter((p) => p.got && p.gold !== null && !sameValue(p.got.value, p.gold));
    if (wrong.length) {
      const c = facts.comps.find(
        (c) =>
          !used.has(c) &&
          c.step >= after &&
          wrong.some((p) => has(c.operands, p.got!.value)) &&
          !has(allGold, c.stated),
      );
      if (c) {
        used.add(c);
        take(n, c.stated, c.step, 'propagated');
        continue;
      }
    }
    // 3. Every parent was answered and a computation uses all their values but gets another result.
    if (parents.length && parents.every((p) => p.got)) {
      const c = facts.comps.find(
        (c) =>
          !used.has(c) &&
          c.step >= after &&
          parents.every((p) => has(c.operands, p.got!.value)) &&
          !has(allGold, c.stated),
      );
      if (c) {
        used.add(c);
        take(n, c.stated, c.step, 'recomputed');
        continue;
      }
    }
    // 4. A node computed from the problem's numbers alone: the first unclaimed computation over
    //    given numbers after the previous node's step, whose result no node has as gold.
    if (!parents.length) {
      const prev = Math.max(0, ...[...got.values()].map((v) => v.step));
      const c = facts.comps.find(
        (c) =>
          !used.has(c) &&
          c.step >= prev &&
          c.operands.some((o) => has(facts.given, o)) &&
          c.operands.every((o) => has(facts.given, o) || !gotValue(o)) &&
          !has(allGold, c.stated),
      );
      if (c) {
        used.add(c);
        take(n, c.stated, c.step, 'from-given');
        continue;
      }
    }
    take(n, null, null, 'none');
  }
  return { answers, rules };
}

/**
 * The step of a free path where node `ffsNodeId` went wrong. An answered intermediate node: the
 * step that answered it. Otherwise (a missing node, or `F`): the first step after the last step
 * that answered an earlier node which does new arithmetic (a computation, or a number neither
 * given nor already answered); the last step when none does.
 */
export function ffsStepForFree(
  path: { steps: readonly string[]; node_answers: readonly NodeAnswer[] },
  nodes: readonly ArsNode[],
  ffsNodeId: string,
  facts?: PathFacts,
): number {
  const node = nodes.find((n) => n.node_id === ffsNodeId);
  const last = Math.max(0, path.steps.length - 1);
  if (!node) return -1;
  const own = path.node_answers.find((a) => a.node_id === ffsNodeId);
  if (!node.is_final && own?.step !== null && own?.step !== undefined) return Math.min(own.step, last);
  const final = nodes.find((n) => n.is_final);
  const f = facts ?? pathFacts(path.steps, final?.question ?? '');
  const earlier = new Set(nodes.filter((n) => n.position < node.position && !n.is_final).map((n) => n.node_id));
  const known = path.node_answers.filter((a) => earlier.has(a.node_id) && a.step !== null && a.answer !== null);
  const start = Math.max(-1, ...known.map((a) => a.step!)) + 1;
  const knownValues = [...f.given, ...known.map((a) => numericValue(a.answer!)).filter((v): v is number => v !== null)];
  for (let s = start; s <= last; s++) {
    const doesArithmetic =
      f.comps.some((c) => c.step === s) || f.stated.some((x) => x.step === s && !has(knownValues, x.value));
    if (doesArithmetic) return s;
  }
  return Math.min(Math.max(start, 0), last);
}

/**
 * The first step whose arithmetic leaves the ARS: it computes a value that is neither given, nor
 * the gold answer of any node (final included). On a path whose final answer is wrong this is
 * where it first went its own way; null when every computation stays on gold values.
 */
export function firstDeviation(facts: PathFacts, nodes: readonly ArsNode[]): number | null {
  const golds = goldValues(nodes);
  const c = facts.comps.find((c) => !has(golds, c.stated) && !has(facts.given, c.stated));
  return c ? c.step : null;
}

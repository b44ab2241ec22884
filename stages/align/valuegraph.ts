/**
 * @module stages/align/valuegraph
 * A free path's own computation graph: every value it computes or introduces, linked to where
 * its operands came from (the question, an earlier value, or nowhere). No model; read from the
 * same computations and stated numbers as alignment (`arith.ts`).
 */
import { memoText } from '../lib/memo.ts';
import { computations, normaliseMath, sameValue, statedNumbersOf, type Stated } from './arith.ts';

/**
 * One value of a path. `given`: a number of the question (step -1); `computed`: the result of an
 * `a op b = c` the path writes; `derived`: a number stated with no written arithmetic that one
 * operation turns two earlier values into ("half of 10,000 is 5,000"); `stated`: a number a
 * step introduces that nothing produced (a misread or invented quantity, or a plain restatement
 * of an unknown).
 */
export interface ValueNode {
  id: number;
  step: number;
  value: number;
  kind: 'given' | 'computed' | 'derived' | 'stated';
  /** Ids of the nodes the value is computed from (computed and derived nodes). */
  operands: number[];
  /** Whether the written arithmetic gives the stated value (true for all but computed nodes). */
  correct: boolean;
}

export interface ValueGraph {
  nodes: ValueNode[];
}

const WORDS: Record<string, number[]> = {
  one: [1],
  two: [2],
  three: [3],
  four: [4],
  five: [5],
  six: [6],
  seven: [7],
  eight: [8],
  nine: [9],
  ten: [10],
  eleven: [11],
  twelve: [12],
  thirteen: [13],
  fourteen: [14],
  fifteen: [15],
  sixteen: [16],
  seventeen: [17],
  eighteen: [18],
  nineteen: [19],
  twenty: [20],
  thirty: [30],
  forty: [40],
  fifty: [50],
  sixty: [60],
  seventy: [70],
  eighty: [80],
  ninety: [90],
  hundred: [100],
  thousand: [1000],
  dozen: [12],
  dozens: [12],
  half: [0.5, 2],
  twice: [2],
  double: [2],
  doubles: [2],
  triple: [3],
  thrice: [3],
  triples: [3],
  tripled: [3],
  doubled: [2],
  quarter: [0.25, 4],
  quarters: [0.25, 4],
  third: [3],
  thirds: [3],
  fourth: [4],
  fifth: [5],
  fifths: [5],
  sixth: [6],
  tenth: [10, 0.1],
  tenths: [10],
  pair: [2],
  pairs: [2],
};

/** Unit and counting constants any solution may bring in without the question stating them. */
export const CONSTANTS = [1, 2, 4, 7, 12, 24, 30, 52, 60, 100, 365, 1000, 0.5, 0.25];

/** The sizes of units in larger ones (days a week, months a year, minutes an hour, ...): a product of them is a unit conversion. */
export const UNIT_SIZES = [7, 12, 24, 30, 52, 60, 100, 365, 1000];

/**
 * Numbers of a question: digits, fractions `a/b` (also as their value), percents (also /100),
 * number words. Cached by question (every path of a problem asks): the list is shared, never change it.
 */
export const questionNumbers: (question: string) => readonly number[] = memoText(numbersOf);

function numbersOf(question: string): number[] {
  const text = normaliseMath(question);
  const out: number[] = [];
  for (const m of text.matchAll(/(?<![\w.])(\d+(?:\.\d+)?)(?:\s*\/\s*(\d+(?:\.\d+)?))?(\s*%)?/g)) {
    const a = Number(m[1]);
    out.push(a);
    if (m[2] !== undefined) out.push(Number(m[2]), a / Number(m[2]));
    if (m[3] !== undefined) out.push(a / 100);
  }
  for (const m of question.toLowerCase().matchAll(WORD_RUN)) if (Object.hasOwn(WORDS, m[0])) out.push(...WORDS[m[0]]!);
  return out;
}

/**
 * The letter runs of a lowercased text that `WORDS` has, whole (not inside a longer run): the
 * same runs, in the same order, that `/[a-z]+/g` yields with an entry, without matching every
 * word. (A run such as `constructor` is no entry: the lookup asks `Object.hasOwn`, never the
 * object's prototype.)
 */
const WORD_RUN = new RegExp(
  `(?<![a-z])(?:${Object.keys(WORDS)
    .sort((a, b) => b.length - a.length)
    .join('|')})(?![a-z])`,
  'g',
);

const has = (xs: readonly number[], v: number) => xs.some((x) => sameValue(x, v));

/** The values one operation makes from `a` and `b` (either order). */
export function oneOp(a: number, b: number): number[] {
  const out = [a + b, a * b, a - b, b - a];
  if (b !== 0) out.push(a / b);
  if (a !== 0) out.push(b / a);
  return out;
}

/** `has(oneOp(a, b), v)` without building the list (it runs for every pair of recent values). */
function oneOpGives(a: number, b: number, v: number): boolean {
  return (
    sameValue(a + b, v) ||
    sameValue(a * b, v) ||
    sameValue(a - b, v) ||
    sameValue(b - a, v) ||
    (b !== 0 && sameValue(a / b, v)) ||
    (a !== 0 && sameValue(b / a, v))
  );
}

/**
 * Builds the value graph of a path. A step's numbers are its digits and cardinal words; a unit
 * constant (`CONSTANTS`) in prose is known unless stated as a result. Each operand is linked to
 * the latest earlier node with its value (a step's own earlier computations count), else to a
 * question number, else to a new `stated` node at the first step that states it (or at the
 * computation's step). Time O(values²) per path; a derived value is searched over pairs of the
 * last 40 values only.
 */
export function buildValueGraph(steps: readonly string[], question: string): ValueGraph {
  const nodes: ValueNode[] = [];
  const add = (n: Omit<ValueNode, 'id'>) => {
    const node = { ...n, id: nodes.length };
    nodes.push(node);
    return node;
  };
  for (const v of questionNumbers(question))
    if (!nodes.some((n) => sameValue(n.value, v)))
      add({ step: -1, value: v, kind: 'given', operands: [], correct: true });
  const latest = (v: number) => {
    for (let i = nodes.length - 1; i >= 0; i--) if (sameValue(nodes[i]!.value, v)) return nodes[i]!;
    return undefined;
  };
  // Digits and cardinal words, in reading order (both indexed in the normalised text).
  const statedIn = steps.map(numbersInStep);
  steps.forEach((text, step) => {
    const comps = computations(text, step);
    // Each computation's operands, then its stated value (a loop: flatMap over spreads is most of this loop's time).
    const inComps: number[] = [];
    for (const c of comps) {
      for (const o of c.operands) inComps.push(o);
      inComps.push(c.stated);
    }
    // Numbers the step states outside its computations: restated, derived in prose, or introduced.
    const norm = normaliseMath(text);
    for (const s of statedIn[step]!) {
      // A unit constant in prose is known (100 as a percent base), never derived by chance from two
      // values; stated as a result ("the count of O = 7") it is a quantity like any other.
      const constant = has(CONSTANTS, s.value) && !/=\s*\$?\s*$/.test(norm.slice(0, s.index));
      if (s.value === 0 || s.value === 1 || has(inComps, s.value) || latest(s.value) || constant) continue;
      // The most recent pair of values one operation turns into it (latest member first).
      const recent = nodes.slice(-40);
      let pair: [number, number] | null = null;
      for (let j = recent.length - 1; j > 0 && !pair; j--)
        for (let i = j - 1; i >= 0 && !pair; i--)
          if (oneOpGives(recent[i]!.value, recent[j]!.value, s.value)) pair = [recent[i]!.id, recent[j]!.id];
      if (pair) add({ step, value: s.value, kind: 'derived', operands: pair, correct: true });
      else add({ step, value: s.value, kind: 'stated', operands: [], correct: true });
    }
    for (const c of comps) {
      const operands = c.operands.map((v) => {
        const src = latest(v);
        if (src) return src.id;
        const first = statedIn.findIndex((xs, k) => k <= step && xs.some((x) => sameValue(x.value, v)));
        return add({
          step: first >= 0 ? first : step,
          value: v,
          kind: has(CONSTANTS, v) ? 'given' : 'stated',
          operands: [],
          correct: true,
        }).id;
      });
      add({ step, value: c.stated, kind: 'computed', operands, correct: c.correct });
    }
  });
  return { nodes };
}

/**
 * A step's digits and cardinal words as stated numbers (step 0: only value and index are read),
 * in reading order.
 */
function numbersInStep(text: string): readonly Stated[] {
  const digits = statedNumbersOf(text);
  const words = wordNumbers(text, 0);
  if (!words.length) return digits;
  return [...digits, ...words].sort((a, b) => a.index - b.index);
}

const CARDINALS = ['two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

/**
 * A cardinal as a whole word: the runs `/(?<![\w-])([a-z]+)(?![\w-])/g` yields that are in
 * `CARDINALS`, without matching every word.
 */
const CARDINAL_WORD = new RegExp(`(?<![\\w-])(${CARDINALS.join('|')})(?![\\w-])`, 'g');
const CARDINAL_WORD_ANY_CASE = new RegExp(CARDINAL_WORD.source, 'gi');
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The quantities a step writes as a cardinal word ("three times a year"), as stated numbers: a
 * misstated quantity is as often written in words as in digits. Compounds ("twenty-five") are left out.
 */
function wordNumbers(text: string, step: number): Stated[] {
  const out: Stated[] = [];
  const norm = normaliseMath(text);
  // An ASCII text lowercases letter for letter: its cardinals are found in it, case ignored, at the same places.
  const ascii = !NON_ASCII.test(norm);
  for (const m of (ascii ? norm : norm.toLowerCase()).matchAll(ascii ? CARDINAL_WORD_ANY_CASE : CARDINAL_WORD)) {
    const k = CARDINALS.indexOf(ascii ? m[1]!.toLowerCase() : m[1]!);
    if (k >= 0) out.push({ step, value: k + 2, index: m.index });
  }
  return out;
}

/** Ids of a node's ancestors (itself excluded), through operand links. */
export function ancestors(g: ValueGraph, id: number): Set<number> {
  const out = new Set<number>();
  const stack = [...(g.nodes[id]?.operands ?? [])];
  while (stack.length) {
    const i = stack.pop()!;
    if (out.has(i)) continue;
    out.add(i);
    stack.push(...(g.nodes[i]?.operands ?? []));
  }
  return out;
}

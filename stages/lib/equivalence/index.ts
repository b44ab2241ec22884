/**
 * @module stages/lib/equivalence
 * Answer equivalence for math, physics and chemistry: `equivalent(gold, pred, spec)` never throws,
 * and bounds its work by input caps and a per-comparison time limit (see `guard.ts`).
 */
import { readNumber, numbersEqual, DEFAULT_TOLERANCE } from './numbers.ts';
import { extractAnswer, isProse } from './extract.ts';
import { choiceEqual } from './choice.ts';
import { normText, stripDelimiters } from './normalize.ts';
import { compareAnswers } from './compare.ts';
import { quantityEqual } from './units.ts';
import { formulaEqual } from './chemistry.ts';
import { Deadline, TimeUp, MAX_ANSWER_CHARS, MAX_TEXT_CHARS } from './guard.ts';
import { type Verdict, type EquivalenceSpec, yes, no, unknown } from './types.ts';

export type { Equal, Verdict, EquivalenceSpec } from './types.ts';
export { extractAnswer } from './extract.ts';
export { parseNumber } from './numbers.ts';
export { equivalenceKey } from './key.ts';

/** The answer part of a string: itself when it already is one, else what `extractAnswer` finds in it. */
export function answerOf(s: string): string {
  const t = isProse(s) ? (extractAnswer(s) ?? s) : s;
  return stripDelimiters(t);
}

function numberVerdict(gold: string, pred: string, tol: number | null): Verdict | null {
  const g = readNumber(gold);
  const p = readNumber(pred);
  if (g === null || p === null) return null;
  const eq = numbersEqual(g, p, tol);
  const how =
    tol !== null
      ? `within relative tolerance ${tol}`
      : g.exactForm && p.exactForm
        ? 'exactly'
        : `within relative tolerance ${DEFAULT_TOLERANCE}`;
  return eq
    ? yes(`numbers equal ${how}`)
    : no(`numbers differ: gold ${g.value}${g.percent ? '%' : ''}, prediction ${p.value}${p.percent ? '%' : ''}`);
}

function textVerdict(gold: string, pred: string): Verdict {
  const g = normText(gold),
    p = normText(pred);
  return g === p
    ? yes('texts equal after normalisation')
    : no(`texts differ: "${g.slice(0, 40)}" vs "${p.slice(0, 40)}"`);
}

function compare(gold: string, pred: string, spec: EquivalenceSpec, deadline: Deadline): Verdict {
  const tol = spec.tolerance ?? null;
  const kind = spec.kind;
  if (kind === undefined || kind === 'number') {
    const fast = numberVerdict(gold, pred, tol);
    if (fast) return fast;
  }
  if (kind === 'choice') return choiceEqual(answerOf(gold), answerOf(pred), spec.choices ?? []);
  if (kind === 'text') return textVerdict(answerOf(gold), answerOf(pred));
  const g = answerOf(gold),
    p = answerOf(pred);
  if (g.length > MAX_ANSWER_CHARS || p.length > MAX_ANSWER_CHARS) {
    return unknown(`answer longer than ${MAX_ANSWER_CHARS} characters (gold ${g.length}, prediction ${p.length})`);
  }
  if (kind === 'number') {
    const v = numberVerdict(g, p, tol);
    if (v) return v;
    return compareAnswers(g, p, { tolerance: tol, deadline });
  }
  if (kind === 'quantity') {
    // A unit often sits in its own math span (`50.7 $\mathrm{atm}$`): read the whole answer, not the last span.
    const whole = (x: string) =>
      /\\boxed|\\fbox|answer\s*(?:is|:)/i.test(x) ? answerOf(x) : x.replace(/(?<!\\)\$/g, ' ').trim();
    return quantityEqual(whole(gold), whole(pred), {
      tolerance: tol,
      unit: spec.unit ?? null,
      policy: spec.unitPolicy ?? 'strict',
      deadline,
    });
  }
  if (kind === 'formula') return formulaEqual(g, p, spec.scaledEquations ?? false);
  if (kind === 'expression') return compareAnswers(g, p, { tolerance: tol, deadline });
  // No kind: numbers first, then quantities and formulas when they read as such, then math.
  const v = numberVerdict(g, p, tol);
  if (v) return v;
  return compareAnswers(g, p, {
    tolerance: tol,
    deadline,
    infer: true,
    unit: spec.unit ?? null,
    policy: spec.unitPolicy ?? 'strict',
  });
}

/**
 * Whether `pred` answers the same as `gold` under `spec` (kind inferred when absent). Never throws:
 * a comparison past its time limit, too long, or failing inside a parser is "unknown" with the reason.
 */
export function equivalent(gold: string, pred: string, spec: EquivalenceSpec = {}): Verdict {
  if (typeof gold !== 'string' || typeof pred !== 'string')
    return unknown(`expected two strings, got ${typeof gold} and ${typeof pred}`);
  if (gold.length > MAX_TEXT_CHARS || pred.length > MAX_TEXT_CHARS) {
    return unknown(`input longer than ${MAX_TEXT_CHARS} characters (gold ${gold.length}, prediction ${pred.length})`);
  }
  const deadline = new Deadline();
  try {
    return compare(gold, pred, spec, deadline);
  } catch (e) {
    if (e instanceof TimeUp) return unknown(e.message);
    return unknown(`comparison failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Builds the engines that comparisons load on first use (mathjs units, the LaTeX parser), about
 * 0.5 s of work. A worker thread calls it when it starts, while the main thread still reads the
 * inputs, so the first shard it aligns does not pay for it. Its verdicts are not used.
 */
export function warmUp(): void {
  equivalent('2 m', '200 cm');
  equivalent('\\frac{1}{2}', '0.5');
}

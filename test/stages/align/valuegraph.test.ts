import { describe, expect, it } from 'vitest';
import { ancestors, buildValueGraph, oneOp, questionNumbers } from '../../../stages/align/valuegraph.ts';
import { finalNode, firstFailure, markValues, rootCause } from '../../../stages/align/rootcause.ts';

// A made-up problem: gold values 12 (red and blue), 36 (after tripling), F = 31 (after giving 5 away).
const Q =
  'Ann has 7 red pens and five blue pens. She triples her pens, then gives 5 away. How many pens does she have?';
const GOLDS = [12, 36, 31];
const view = (steps: string[]) =>
  buildValueGraph(steps, Q)
    .nodes.filter((n) => n.step >= 0)
    .map(({ step, value, kind, operands, correct }) => ({ step, value, kind, operands, correct }));

describe('questionNumbers', () => {
  it.each([
    [Q, [7, 5, 5, 3]],
    ['She sold 2/5 of 4000 gallons at 20% off.', [2, 5, 0.4, 4000, 20, 0.2]],
    ['A dozen eggs and half a loaf, twice a week.', [12, 0.5, 2, 2]],
    // Words an object's prototype answers are no number words (they used to throw).
    ['The constructor built two houses; toString and valueOf are not numbers.', [2]],
  ])('%s', (q, want) => {
    expect(questionNumbers(q)).toEqual(want);
  });
});

describe('buildValueGraph', () => {
  // Question values are nodes 0 (7), 1 (5) and 2 (3, from "triples"); "five" repeats 5.
  it('links each operand to the question or the latest earlier value, and flags misstated arithmetic', () => {
    const steps = ['She has 7 + 5 = 12 pens.', 'Tripled: 12 * 3 = 38 pens.', 'Then 38 - 5 = 33.'];
    expect(view(steps)).toEqual([
      { step: 0, value: 12, kind: 'computed', operands: [0, 1], correct: true },
      { step: 1, value: 38, kind: 'computed', operands: [3, 2], correct: false },
      { step: 2, value: 33, kind: 'computed', operands: [4, 1], correct: true },
    ]);
    expect([...ancestors(buildValueGraph(steps, Q), 5)].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('reads a number stated without arithmetic as derived from two earlier values, or as introduced', () => {
    expect(view(['She has 7 + 5 = 12 pens.', 'Tripled, that is 36 pens.', 'She keeps 40 of them.'])).toEqual([
      { step: 0, value: 12, kind: 'computed', operands: [0, 1], correct: true },
      { step: 1, value: 36, kind: 'derived', operands: [2, 3], correct: true },
      { step: 2, value: 40, kind: 'stated', operands: [], correct: true },
    ]);
  });

  it('reads a quantity written as a cardinal word as stated (a misstated quantity in words), compounds left out', () => {
    expect(view(['She finds six more pens, twenty-six in all.', 'So 7 + 5 + 6 = 18 pens.'])).toEqual([
      { step: 0, value: 6, kind: 'stated', operands: [], correct: true },
      { step: 1, value: 18, kind: 'computed', operands: [0, 1, 3], correct: true },
    ]);
  });

  it('reads a unit constant stated in prose as known, never as derived by chance from two values', () => {
    // 100 is 20 * 5 by chance: "out of 100" is the percent base, not a value made from 20 and 5.
    expect(view(['She has 20 pens and 5 cases.', 'That is 20 out of 100 pens.'])).toEqual([
      { step: 0, value: 20, kind: 'stated', operands: [], correct: true },
    ]);
    // Stated as a result, a constant is a quantity like any other (a misstated count).
    expect(view(['Her pens in all = 24.'])).toEqual([
      { step: 0, value: 24, kind: 'stated', operands: [], correct: true },
    ]);
  });

  it('gives an operand that appears from nowhere a stated node at the first step that says it', () => {
    expect(view(['She counts 9 red pens.', 'So 9 + 5 = 14 pens.'])).toEqual([
      { step: 0, value: 9, kind: 'stated', operands: [], correct: true },
      { step: 1, value: 14, kind: 'computed', operands: [3, 1], correct: true },
    ]);
  });

  it('oneOp gives every result of one operation in either order', () => {
    expect(oneOp(6, 3)).toEqual([9, 18, 3, -3, 2, 0.5]);
  });
});

describe('markValues', () => {
  const marks = (steps: string[], consistent: 'always' | 'leads' | 'reaches') => {
    const g = buildValueGraph(steps, Q);
    const m = markValues(g, GOLDS, { consistent });
    return g.nodes.filter((n) => n.step >= 0).map((n) => `${n.value}:${m[n.id]}`);
  };

  it('trusts gold values and suspects misstated arithmetic, what is computed from it, and invented values', () => {
    expect(marks(['7 + 5 = 12', '12 * 3 = 38', '38 - 5 = 33'], 'leads')).toEqual([
      '12:trusted',
      '38:suspect',
      '33:suspect',
    ]);
    expect(marks(['She counts 9 red pens.', 'So 9 + 5 = 14 pens.'], 'leads')).toEqual(['9:suspect', '14:suspect']);
  });

  it('suspects right arithmetic off the gold values unless it leads to one (leads) or always trusts it (always)', () => {
    const steps = ['7 * 3 = 21 red', '5 * 3 = 15 blue', '21 + 15 = 36', '21 - 5 = 16'];
    expect(marks(steps, 'leads')).toEqual(['21:trusted', '15:trusted', '36:trusted', '16:suspect']);
    expect(marks(steps, 'always')).toEqual(['21:trusted', '15:trusted', '36:trusted', '16:trusted']);
  });

  it('trusts right arithmetic over two gold values wherever it leads (36 + 12 = 48 is a sound step)', () => {
    // 48 leads to no gold value, but both its operands are the ARS's own answers; 48 - 5 = 43 is the first error.
    expect(marks(['7 + 5 = 12', '12 * 3 = 36', '36 + 12 = 48', '48 - 5 = 43'], 'leads')).toEqual([
      '12:trusted',
      '36:trusted',
      '48:trusted',
      '43:suspect',
    ]);
    // One gold operand and a question number is not enough.
    expect(marks(['7 + 5 = 12', '12 + 7 = 19'], 'leads')).toEqual(['12:trusted', '19:suspect']);
  });

  it('does not count a later value that undoes it as leading to gold', () => {
    expect(marks(['7 + 5 = 12', '12 + 5 = 17', '17 - 5 = 12', '12 * 3 = 36'], 'leads')).toEqual([
      '12:trusted',
      '17:suspect',
      '12:trusted',
      '36:trusted',
    ]);
    expect(marks(['7 + 5 = 12', '12 + 5 = 17', '17 - 5 = 12', '12 * 3 = 36'], 'always')).toEqual([
      '12:trusted',
      '17:trusted',
      '12:trusted',
      '36:trusted',
    ]);
  });

  it('trusts a product of unit sizes as a conversion, not a product of a question number and a unit size', () => {
    // 60 * 60 = 3600 seconds an hour leads to no gold value; 7 * 60 = 420 (7 is the question's) still has to.
    expect(marks(['7 + 5 = 12', 'An hour is 60 * 60 = 3600 seconds.', '7 * 60 = 420'], 'leads')).toEqual([
      '12:trusted',
      '60:trusted',
      '3600:trusted',
      '420:suspect',
    ]);
  });

  it('reaches: also trusts a value that one operation with a question number (not its operand) turns into gold', () => {
    // 24 + 7 = 31 (F): 24 is a partial result under `reaches`, an unused detour under `leads`.
    // The constant 2, stated by no question, enters as a trusted value where it is first used.
    expect(marks(['7 + 5 = 12', '12 * 2 = 24'], 'reaches')).toEqual(['12:trusted', '2:trusted', '24:trusted']);
    expect(marks(['7 + 5 = 12', '12 * 2 = 24'], 'leads')).toEqual(['12:trusted', '2:trusted', '24:suspect']);
  });
});

describe('firstFailure and rootCause', () => {
  const run = (steps: string[], final: number) => {
    const g = buildValueGraph(steps, Q);
    const m = markValues(g, GOLDS, { consistent: 'leads' });
    return {
      first: firstFailure(g, m, final),
      root: rootCause(g, m, final)?.step ?? null,
      fin: g.nodes[finalNode(g, final)]?.step ?? null,
    };
  };

  it('a misstated computation is the first failure and the root cause of the wrong final value', () => {
    expect(
      run(['She has 7 + 5 = 12 pens.', 'Tripled: 12 * 3 = 38 pens.', 'Then 38 - 5 = 33.', 'The answer is 33.'], 33),
    ).toEqual({ first: 1, root: 1, fin: 2 });
  });

  it('an off-gold value the final answer does not rest on still counts as the first failure, not as root cause', () => {
    expect(run(['7 + 5 = 12 pens.', 'Red left: 7 - 5 = 2.', '12 * 3 = 36', '36 + 5 = 41'], 41)).toEqual({
      first: 1,
      root: 3,
      fin: 3,
    });
  });

  it('with every value trusted, the step of the wrong final value is the failure', () => {
    expect(
      run(['7 + 5 = 12 pens.', 'Tripled: 12 * 3 = 36 pens.', 'She has 36 - 5 = 31 and gives 36 / 12 = 3 to each.'], 3),
    ).toEqual({ first: 2, root: 2, fin: 2 });
  });

  it('is null when no value is suspect and no step holds the final value', () => {
    expect(run(['7 + 5 = 12 pens.', 'Tripled: 12 * 3 = 36 pens.'], 30)).toEqual({ first: null, root: null, fin: null });
  });
});

import { describe, expect, it } from 'vitest';
import type { ArsNode, PathRow } from '../../../schemas/index.ts';
import { impliedValues } from '../../../stages/align/implied.ts';
import {
  align,
  arithmeticErrors,
  carriedValues,
  computations,
  evaluate,
  ffsStepForFree,
  firstDeviation,
  keepCarried,
  pathFacts,
  alignNodes,
} from '../../../stages/align/align.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const node = (
  node_id: string,
  position: number,
  answer: string,
  depends_on: string[],
  question = `q ${node_id}`,
): ArsNode => ({
  problem_id: 'p1',
  node_id,
  position,
  question,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});

// Josh flips a house: Q1 cost 130000, Q2 increase 120000, Q3 new value 200000 (from Q2), F profit 70000.
const HOUSE =
  'Josh buys a house for $80,000 and then puts in $50,000 in repairs. This increased the value of the house by 150%. How much profit did he make?';
const nodes: ArsNode[] = [
  node('Q1', 0, '130000', []),
  node('Q2', 1, '120000', []),
  node('Q3', 2, '200000', ['Q2']),
  node('F', 3, '70000', ['Q1', 'Q3'], HOUSE),
];
const path = (steps: string[], extra: Partial<PathRow> = {}): PathRow => ({
  run_id: 'r',
  problem_id: 'p1',
  path_id: 'p1/a',
  mode: 'free',
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: null,
  given_correct: null,
  finish_reason: null,
  tokens_in: 0,
  tokens_out: 0,
  ...extra,
});

describe('evaluate', () => {
  it.each([
    ['16-3-4', 9, [16, 3, 4]],
    ['2 \\times (3 + 4)', 14, [2, 3, 4]],
    ['\\frac{1}{3} \\times 18', 6, [1, 3, 18]],
    ['20% * 50', 10, [20, 50]],
    ['$80,000 + $50,000', 130000, [80000, 50000]],
  ])('%s = %d', (expr, value, operands) => {
    expect(evaluate(expr)).toMatchObject({ value, operands });
  });

  it.each(['3 apples', '(2 + 3', '4 * * 2'])('%s is not an expression', (expr) => {
    expect(evaluate(expr)).toBeNull();
  });
});

describe('computations', () => {
  it.each([
    {
      text: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.',
      want: [{ expr: '16-3-4', stated: 9, actual: 9, correct: true }],
    },
    {
      text: 'So, \\(3 \\times 15 = 45\\) wolves and \\(15 - 3 = 12\\) cougars.',
      want: [
        { expr: '3*15', stated: 45, correct: true },
        { expr: '15-3', stated: 12, correct: true },
      ],
    },
    { text: 'the hourly wage: 3 hours * $35/hour = $105.', want: [{ expr: '3*35', stated: 105, correct: true }] },
    {
      text: '\\[ 4 \\text{ checks/month} \\times 12 \\text{ months} + 3 = 48 + 3 = 51 \\]',
      want: [
        { expr: '4*12+3', stated: 51, correct: true },
        { expr: '48+3', stated: 51, correct: true },
      ],
    },
    {
      text: 'Step 3: the guests are 300 (from step 2) + 10 (from step 3) = 310.',
      want: [{ expr: '300+10', stated: 310, actual: 310, correct: true }],
    },
    {
      text: 'After a year it is $52,500 + ($52,500 * 0.05) = $55,625.',
      want: [{ expr: '52500+(52500*0.05)', stated: 55625, actual: 55125, correct: false }],
    },
  ])('$text', ({ text, want }) => {
    expect(computations(text, 0)).toMatchObject(want);
  });

  it('accepts a value rounded to the decimals it shows', () => {
    expect(computations('Each pays 100 / 3 = 33.33 dollars', 0)[0]?.correct).toBe(true);
    expect(computations('Each pays 100 / 3 = 33.4 dollars', 0)[0]?.correct).toBe(false);
    // ...or to the significant digits it shows, at least 3 (7900 * 1.469 = 11605.1).
    expect(computations('The balance is 7900 × 1.469 = 11610.', 0)[0]?.correct).toBe(true);
    expect(computations('Each pays 100 / 3 = 30 dollars', 0)[0]?.correct).toBe(false);
  });
});

describe('arithmeticErrors', () => {
  it('flags misstated arithmetic with its step, even where no node asks for it', () => {
    expect(
      arithmeticErrors(['She has 16 - 3 = 13 eggs.', 'She bakes 4 so 13 - 4 = 8 are left.', 'She makes 8 * 2 = $16.']),
    ).toEqual([{ step: 1, expr: '13-4', stated: 8, actual: 9 }]);
  });

  it('finds none in a clean solution', () => {
    expect(
      arithmeticErrors([
        '80,000+50,000=$<<80000+50000=130000>>130,000',
        'Profit 200000-130000=<<200000-130000=70000>>70000',
      ]),
    ).toEqual([]);
  });
});

describe('alignNodes', () => {
  it('matches gold values to the steps that compute them', () => {
    const f = pathFacts(
      [
        'The house and repairs cost 80,000+50,000=$<<80000+50000=130000>>130,000',
        'The value went up by 80,000*1.5=<<80000*1.5=120000>>120,000',
        'So the house is worth 120,000+80,000=$<<120000+80000=200000>>200,000',
        'Profit is 200,000-130,000=$<<200000-130000=70000>>70,000',
      ],
      HOUSE,
    );
    const { answers, rules } = alignNodes(f, nodes);
    expect(answers).toEqual([
      { node_id: 'Q1', answer: '130000', step: 0 },
      { node_id: 'Q2', answer: '120000', step: 1 },
      { node_id: 'Q3', answer: '200000', step: 2 },
    ]);
    expect(rules).toEqual(['gold-computed', 'gold-computed', 'gold-computed']);
  });

  it('finds a wrong answer and follows it to the node that uses it', () => {
    const f = pathFacts(
      [
        'The house and repairs cost 80,000+50,000=$<<80000+50000=130000>>130,000',
        'The value went up by 80,000*1.5=<<80000*1.5=12000>>12,000',
        'So the house is worth 12,000+80,000=$<<12000+80000=92000>>92,000',
        'Profit is 92,000-130,000=$<<92000-130000=-38000>>-38,000',
      ],
      HOUSE,
    );
    const { answers, rules } = alignNodes(f, nodes);
    expect(answers).toEqual([
      { node_id: 'Q1', answer: '130000', step: 0 },
      { node_id: 'Q2', answer: '12000', step: 1 },
      { node_id: 'Q3', answer: '92000', step: 2 },
    ]);
    expect(rules).toEqual(['gold-computed', 'from-given', 'propagated']);
  });

  it('leaves a node null when the path never computes it', () => {
    const f = pathFacts(['He spent 80000 + 50000 = 130000.', 'He sold it, so the answer is 130000.'], HOUSE);
    expect(alignNodes(f, nodes).answers.map((a) => a.answer)).toEqual(['130000', null, null]);
  });
});

describe('align', () => {
  it('fills node answers, F and a missing final answer of free paths', () => {
    const out = align({
      paths: [
        path([
          'Cost: 80000 + 50000 = 130000.',
          'Gain: 80000 * 1.5 = 120000.',
          'Value: 120000 + 80000 = 200000.',
          'Profit: 200000 - 130000 = 70000. The answer is \\boxed{70000}.',
        ]),
      ],
      nodes,
    });
    expect(out.paths[0]!.final_answer).toBe('70000');
    expect(out.paths[0]!.node_answers).toEqual([
      { node_id: 'Q1', answer: '130000', step: 0 },
      { node_id: 'Q2', answer: '120000', step: 1 },
      { node_id: 'Q3', answer: '200000', step: 2 },
      { node_id: 'F', answer: '70000', step: 3 },
    ]);
  });

  it('passes ars-guided paths and already aligned paths through unchanged', () => {
    const guided = path(['130000', '1', '2', '3'], {
      mode: 'ars-guided',
      node_answers: [{ node_id: 'Q1', answer: '1', step: 0 }],
      final_answer: '3',
    });
    const done = path(['x'], { path_id: 'p1/b', node_answers: [{ node_id: 'Q1', answer: '7', step: 0 }] });
    const out = align({ paths: [guided, done], nodes });
    expect(out.paths[0]).toBe(guided);
    expect(out.paths[1]).toBe(done);
  });
});

describe('ffsStepForFree', () => {
  const steps = [
    'Let us read the problem.',
    'The house and repairs cost 80000+50000=130000',
    'It gained 80000*1.5=12000',
    'Worth 12000+80000=92000',
    'Profit 92000-130000=-38000',
  ];
  it.each([
    {
      label: 'an answered node: its step',
      ffs: 'Q2',
      answers: [
        ['Q1', '130000', 1],
        ['Q2', '12000', 2],
        ['Q3', '92000', 3],
      ],
      want: 2,
    },
    {
      label: 'a missing node: the next step with new arithmetic after earlier nodes',
      ffs: 'Q2',
      answers: [
        ['Q1', '130000', 1],
        ['Q2', null, null],
        ['Q3', null, null],
      ],
      want: 2,
    },
    {
      label: 'F after all nodes: the first step with new arithmetic after them',
      ffs: 'F',
      answers: [['Q1', '130000', 1]],
      want: 2,
    },
    { label: 'an unknown node', ffs: 'Q9', answers: [], want: -1 },
  ])('$label', ({ ffs, answers, want }) => {
    const node_answers = answers.map(([node_id, answer, step]) => ({
      node_id: node_id as string,
      answer: answer as string | null,
      step: step as number | null,
    }));
    expect(ffsStepForFree({ steps, node_answers }, nodes, ffs)).toBe(want);
  });
});

describe('firstDeviation', () => {
  it('is the first step computing a value that is neither given nor gold', () => {
    expect(
      firstDeviation(pathFacts(['80000+50000=130000', '80000*2=160000', '160000-130000=30000'], HOUSE), nodes),
    ).toBe(1);
    expect(firstDeviation(pathFacts(['80000+50000=130000', '80000*1.5=120000'], HOUSE), nodes)).toBeNull();
  });
});

describe('keepCarried (a node counts only when the final answer rests on it)', () => {
  const answered = (...vals: [string, string | null, number | null][]) =>
    vals.map(([node_id, answer, step]) => ({ node_id, answer, step }));
  const all = answered(['Q1', '130000', 0], ['Q2', '120000', 1], ['Q3', '200000', 2]);
  it.each([
    {
      label: 'a clean path keeps every node',
      steps: ['80000+50000=130000', '80000*1.5=120000', '120000+80000=200000', '200000-130000=70000'],
      final: '70000',
      want: ['130000', '120000', '200000'],
    },
    {
      label: 'a path that stops at a parent of F has not carried it (F is one step from its parents)',
      steps: ['80000+50000=130000', '80000*1.5=120000', '120000+80000=200000'],
      final: '200000',
      want: [null, '120000', null],
    },
    {
      label: 'a miscalculated final step carries nothing back',
      steps: ['80000+50000=130000', '80000*1.5=120000', '120000+80000=200000', '200000-130000=60000'],
      final: '60000',
      want: [null, null, null],
    },
    {
      label: 'a node computed but never used toward the final answer is missing',
      steps: ['80000+50000=130000', '80000*1.5=120000', '120000+80000=200000', '200000-80000=120000'],
      final: '120000',
      want: [null, '120000', '200000'],
    },
    {
      label: 'a final answer no computation states leaves the answers as they are',
      steps: ['80000+50000=130000', '80000*1.5=120000', '120000+80000=200000', 'So he made 5 dollars'],
      final: '5',
      want: ['130000', '120000', '200000'],
    },
  ])('$label', ({ steps, final, want }) => {
    const kept = keepCarried(all, pathFacts(steps, HOUSE), final, ['Q1', 'Q3']);
    expect(kept.map((a) => a.answer)).toEqual(want);
    expect(kept.filter((a) => a.answer === null).every((a) => a.step === null)).toBe(true);
  });

  it('align drops uncarried nodes by default and keeps them with carry: false', () => {
    const p = path([
      'Cost: 80000 + 50000 = 130000.',
      'Gain: 80000 * 1.5 = 120000.',
      'Value: 120000 + 80000 = 200000.',
      'The answer is \\boxed{200000}.',
    ]);
    expect(align({ paths: [p], nodes }).paths[0]!.node_answers.map((a) => a.answer)).toEqual([
      null,
      '120000',
      null,
      '200000',
    ]);
    expect(align({ paths: [p], nodes }, { carry: false }).paths[0]!.node_answers.map((a) => a.answer)).toEqual([
      '130000',
      '120000',
      '200000',
      '200000',
    ]);
  });
});

describe('carriedValues', () => {
  it('follows the final value back through the computations that produced its operands', () => {
    const f = pathFacts(['2*3=6', '10-1=9', '6+4=10', '10*5=50'], 'x');
    // 10 * 5 with 10 = 6 + 4 also carries the values it implies, 6 * 5 and 4 * 5.
    expect(carriedValues(f, 50)?.values.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 10, 20, 30, 50]);
    expect(carriedValues(f, 7)).toBeNull();
  });
});

describe('impliedValues (a computation grouped otherwise than the ARS)', () => {
  const tree = (e: string) => evaluate(e)!.tree;
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  it.each([
    { why: 'a compound part of the expression', expr: '40/2+5', want: [20] },
    { why: 'partial products of regrouped factors', expr: '3*60*3', want: [9, 180] },
    { why: 'a common factor taken out of a sum', expr: '5*10+8*10', want: [13, 50, 80] },
    { why: 'a sum multiplied out', expr: '(3-0.2)*10', want: [2, 2.8, 30] },
    { why: 'the terms a difference takes away, together', expr: '16-3-4', want: [7] },
    { why: 'no partial sums of added terms', expr: '2+3+4', want: [] },
  ])('$why: $expr', ({ expr, want }) => {
    expect(sorted(impliedValues(tree(expr)))).toEqual(want);
  });

  it('follows a leaf into the earlier computation that produced it', () => {
    const f = pathFacts(
      ['He runs 3 x 60 = <<3*60=180>>180 meters a day', 'So 180 x 3 = <<180*3=540>>540 meters a week'],
      'James runs 3 sprints 3 times a week, 60 meters each.',
    );
    expect(f.implied).toEqual([[], [180, 9]]);
  });
});

describe('alignNodes: implied, given and parent rules', () => {
  const q = (id: string, pos: number, answer: string, deps: string[], question?: string) =>
    node(id, pos, answer, deps, question);
  it('answers a node the path only implies (gold-implied), and only with implicit evidence allowed', () => {
    const SPRINT = 'James runs 3 sprints 3 times a week. He runs 60 meters each sprint. How many meters a week?';
    const ars = [q('Q1', 0, '9', []), q('F', 1, '540', ['Q1'], SPRINT)];
    const f = pathFacts(
      ['He runs 3 x 60 = <<3*60=180>>180 meters a week', 'So he runs 180 x 3 = <<180*3=540>>540 meters a week'],
      SPRINT,
    );
    expect(alignNodes(f, ars)).toEqual({ answers: [{ node_id: 'Q1', answer: '9', step: 1 }], rules: ['gold-implied'] });
    expect(alignNodes(f, ars, { implicit: false }).answers[0]!.answer).not.toBe('9');
  });

  it('a parent value inside a compound expression lets its child match (40/2 + 5)', () => {
    const JEWELS =
      'Raymond has 40 jewels. Aaron has 5 more than half of them. Siobhan has 2 fewer than Aaron. How many does Siobhan have?';
    const ars = [q('Q1', 0, '20', []), q('Q2', 1, '25', ['Q1']), q('F', 2, '23', ['Q2'], JEWELS)];
    const f = pathFacts(
      ['Aaron has 40/2+5 = <<40/2+5=25.0>>25 jewels.', 'Siobhan has 25-2 = <<25-2=23>>23 jewels.'],
      JEWELS,
    );
    expect(alignNodes(f, ars)).toEqual({
      answers: [
        { node_id: 'Q1', answer: '20', step: 0 },
        { node_id: 'Q2', answer: '25', step: 0 },
      ],
      rules: ['gold-implied', 'gold-computed'],
    });
  });

  it('a node whose gold value the problem gives is answered by using that number, never by another computation', () => {
    const BEAN =
      'A beanstalk was 3 inches tall after a week. It doubled the second week and grew 4 more inches the third. How tall is it?';
    const ars = [q('Q1', 0, '3', []), q('Q2', 1, '6', ['Q1']), q('F', 2, '10', ['Q2'], BEAN)];
    const used = pathFacts(['It grew 2*3 = <<3*2=6>>6 inches.', 'It is 6+4 = <<6+4=10>>10 inches.'], BEAN);
    expect(alignNodes(used, ars)).toEqual({
      answers: [
        { node_id: 'Q1', answer: '3', step: 0 },
        { node_id: 'Q2', answer: '6', step: 0 },
      ],
      rules: ['given-used', 'gold-computed'],
    });
    const unused = pathFacts(['It is 2*4 = <<2*4=8>>8 inches.'], BEAN);
    expect(alignNodes(unused, ars).answers[0]).toEqual({ node_id: 'Q1', answer: null, step: null });
  });
});

describe('keepCarried with implied values', () => {
  it('keeps a parent of F that the final computation implies (5*10 + 8*10 carries 5 + 8)', () => {
    const TUTOR = 'Lloyd tutors 5 hours one week and 8 the next at $10 an hour. How much does he earn?';
    const ars = [node('Q1', 0, '13', []), node('F', 1, '130', ['Q1'], TUTOR)];
    const p = path([
      'He earns 5 hours x $10 = $<<5*10=50>>50 the first week.',
      'He earns 8 hours x $10 = $<<8*10=80>>80 the second.',
      'So, $50 + $80 = $<<50+80=130>>130.',
    ]);
    expect(align({ paths: [p], nodes: ars }).paths[0]!.node_answers).toEqual([
      { node_id: 'Q1', answer: '13', step: 2 },
      { node_id: 'F', answer: '130', step: 2 },
    ]);
  });
});

describe('keepCarried: parents of F combined over several steps', () => {
  const STICKERS =
    'Charlie had 10 stickers, bought 21 and got 23 for his birthday. He gave 9 to his sister and used 28 on a card. How many are left?';
  const ars = [node('Q1', 0, '54', []), node('Q2', 1, '37', []), node('F', 2, '17', ['Q1', 'Q2'], STICKERS)];
  it.each([
    [
      'a parent two sums back (45 - 28 after 54 - 9 = 45)',
      [
        'He had 10 + 21 = <<10+21=31>>31, then 31 + 23 = <<31+23=54>>54 stickers.',
        'He gave 9 away: 54 - 9 = <<54-9=45>>45.',
        'He used 28: 45 - 28 = <<45-28=17>>17 left.',
      ],
      [
        { node_id: 'Q1', answer: '54', step: 0 },
        { node_id: 'Q2', answer: '37', step: 2 },
        { node_id: 'F', answer: '17', step: 2 },
      ],
    ],
    [
      'the parent the final computation combines, not one it never uses',
      [
        'He had 10 + 21 + 23 = <<10+21+23=54>>54 stickers.',
        'He gave away 9 + 28 = <<9+28=37>>37.',
        'So he has 71 - 54 = <<71-54=17>>17 left.',
      ],
      [
        { node_id: 'Q1', answer: '54', step: 0 },
        { node_id: 'Q2', answer: null, step: null },
        { node_id: 'F', answer: '17', step: 2 },
      ],
    ],
  ])('keeps %s, drops what the final answer does not combine', (_why, steps, want) => {
    expect(align({ paths: [path(steps)], nodes: ars }).paths[0]!.node_answers).toEqual(want);
  });

  it('writes out earlier same-kind results: 60 + 45 after 15 + 30 = 45 combines 60, 45, 15 and 30', async () => {
    const { leafValues } = await import('../../../stages/align/implied.ts');
    const f = pathFacts(['15 + 30 = <<15+30=45>>45', '60 + 45 = <<60+45=105>>105'], 'q');
    expect(f.leaves[1]).toEqual([60, 45, 15, 30]);
    // A product is not written out into a sum.
    const g = pathFacts(['3 * 5 = <<3*5=15>>15', '15 + 2 = <<15+2=17>>17'], 'q');
    expect(g.leaves[1]).toEqual([15, 2]);
    expect(leafValues({ op: null, value: 3, args: [] })).toEqual([]);
  });
});

describe('results said in words, powers and precedence (the demo free paths)', () => {
  it('reads "x, which gives y" as a computation and aligns a + b / c and x^5', () => {
    expect(computations('Next, the growth factor over all the years is 1.08^5, which gives 1.469.', 0)).toMatchObject([
      { expr: '1.08^5', stated: 1.469, correct: true },
    ]);
    const CI =
      '7900 dollars is invested at 8% interest per year, compounded yearly. How many dollars of interest has it earned after 5 years?';
    const ars = [
      node('Q1', 0, '1.08', []),
      node('Q2', 1, '1.469', ['Q1']),
      node('Q3', 2, '11610', ['Q2']),
      node('F', 3, '3710', ['Q3'], CI),
    ];
    const p = path(
      [
        'Step 1: The yearly growth factor is 1 + 8 / 100 = 1.08.',
        'Step 2: Next, the growth factor over all the years is 1.08^5, which gives 1.469.',
        'Step 3: The balance at the end in dollars is 7900 × 1.469 = 11610.',
        'Step 4: The interest earned in dollars is 11610 - 7900 = 3710.',
      ],
      { final_answer: '3710' },
    );
    expect(align({ paths: [p], nodes: ars }).paths[0]!.node_answers.map((a) => [a.answer, a.step])).toEqual([
      ['1.08', 0],
      ['1.469', 1],
      ['11610', 2],
      ['3710', 3],
    ]);
  });
});

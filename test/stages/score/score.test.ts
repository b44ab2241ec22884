import { describe, it, expect } from 'vitest';
import { score, regionOf, categoryOf, DEFAULT_THRESHOLDS } from '../../../stages/score/score.ts';
import { firstFailure } from '../../../stages/score/ffs.ts';
import type { ArsNode, PathRow, Problem, Verdict } from '../../../schemas/index.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const problem: Problem = {
  problem_id: 'p',
  domain: 'math',
  question: 'q',
  images: [],
  choices: [],
  answer: '9',
  answer_spec: spec,
  source: 't',
  content_hash: 'h',
  role: 'data',
};
const node = (
  node_id: string,
  position: number,
  depends_on: string[],
  answer: string | null,
  is_final = false,
): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question: node_id,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final,
});
// Q1 → Q2 → F, Q3 → F
const nodes = [
  node('Q1', 0, [], '2'),
  node('Q2', 1, ['Q1'], '4'),
  node('Q3', 2, [], '5'),
  node('F', 3, ['Q2', 'Q3'], '9', true),
];
const guided = (id: string, a: (string | null)[], final: string | null): PathRow => ({
  run_id: 'r',
  problem_id: 'p',
  path_id: id,
  mode: 'ars-guided',
  sample_index: 0,
  model: 'm',
  steps: ['s0', 's1', 's2', 's3'],
  node_answers: [
    ...['Q1', 'Q2', 'Q3'].map((n, i) => ({ node_id: n, answer: a[i] ?? null, step: i })),
    { node_id: 'F', answer: final, step: 3 },
  ],
  final_answer: final,
  given_correct: null,
  finish_reason: 'stop',
  tokens_in: 0,
  tokens_out: 0,
});

describe('score', () => {
  const paths = [
    guided('A', ['2', '4', '5'], '9'), // all right
    guided('B', ['3', '6', '5'], '11'), // Q1 wrong, carried through Q2 to F
    guided('C', ['2', '4', '7'], '11'), // Q3 wrong, straight to F
    guided('D', ['3', '4', '5'], '9'), // Q1 wrong, final right: silent failure
    guided('E', ['2', '4', '5'], '10'), // every node right, final wrong: last step
  ];
  const out = score({ problems: [problem], nodes, paths }, { runId: 'r' });
  const by = Object.fromEntries(out.scored.map((s) => [s.path_id, s]));

  it.each([
    // id, PC, final_correct, ffs_node, ffs_step, ffs_evidence, silent_failure_node
    ['A', 1, true, null, -1, null, null],
    ['B', 1 / 3, false, 'Q1', 0, 'node', null],
    ['C', 2 / 3, false, 'Q3', 2, 'node', null],
    ['D', 2 / 3, true, null, -1, null, 'Q1'],
    ['E', 1, false, 'F', 3, 'final', null],
  ] as const)('path %s: PC %d, y %s, FFS %s at step %d (%s), silent %s', (id, PC, y, ffs, step, evidence, silent) => {
    expect(by[id]!.PC).toBeCloseTo(PC, 10);
    expect(by[id]!.final_correct).toBe(y);
    expect(by[id]!.ffs_node).toBe(ffs);
    expect(by[id]!.ffs_step).toBe(step);
    expect(by[id]!.ffs_evidence).toBe(evidence);
    expect(by[id]!.silent_failure_node).toBe(silent);
    expect(by[id]!.label_source).toBe('gold');
    expect(by[id]!.role).toBe('data');
  });

  it('computes FA as the share of the other K-1 paths with an equivalent final answer', () => {
    // Finals 9, 11, 11, 9, 10: A and D agree with one other path each, B and C with one, E with none.
    expect(out.scored.map((s) => s.FA)).toEqual([1 / 4, 1 / 4, 1 / 4, 1 / 4, 0]);
    const withNull = score(
      {
        problems: [problem],
        nodes,
        paths: [paths[0]!, { ...paths[1]!, final_answer: null }, guided('G', ['2', '4', '5'], '9.0')],
      },
      { runId: 'r' },
    ).scored;
    // 9 and 9.0 are equivalent; a null final answer agrees with nothing.
    expect(withNull.map((s) => s.FA)).toEqual([1 / 2, 0, 1 / 2]);
  });

  it('gates reliable by FA: a path no other path agrees with on F is not reliable', () => {
    // E has PC 1 and GC above 0.6 but FA 0 < tau_fa 0.25.
    expect(by.E!.GC!).toBeGreaterThanOrEqual(0.6);
    expect([by.E!.PC, by.E!.FA, by.E!.region]).toEqual([1, 0, 'uncertain']);
    expect(by.A!.region).toBe('reliable');
  });

  it('marks the problems of a calibration input', () => {
    const r = score({ problems: [{ ...problem, role: 'calibration' }], nodes, paths: [paths[0]!] }, { runId: 'r' });
    expect(r.scored[0]!.role).toBe('calibration');
  });

  it('computes GC as the share of the other K-1 paths agreeing, per node, averaged', () => {
    // A: Q1 agrees with C, E (2 of 4); Q2 with C, D, E (3 of 4); Q3 with B, D, E (3 of 4)
    expect(by.A!.GC).toBeCloseTo((2 / 4 + 3 / 4 + 3 / 4) / 3, 10);
    // B: Q1 agrees with D (1); Q2 with nobody (0); Q3 with A, D, E (3)
    expect(by.B!.GC).toBeCloseTo((1 / 4 + 0 + 3 / 4) / 3, 10);
    expect(out.problems[0]!.agreement).toEqual({ Q1: 3 / 5, Q2: 4 / 5, Q3: 4 / 5 });
  });

  it('records verdicts per node with the reference, F last', () => {
    expect(by.B!.verdicts.map((v) => [v.node_id, v.answer, v.reference, v.verdict])).toEqual([
      ['Q1', '3', '2', 'fail'],
      ['Q2', '6', '4', 'fail'],
      ['Q3', '5', '5', 'ok'],
      ['F', '11', '9', 'fail'],
    ]);
  });

  it('uses the consensus when a node has no gold, and marks a tie contested', () => {
    const free = [node('Q1', 0, [], null), node('Q2', 1, ['Q1'], null), node('F', 2, ['Q2'], null, true)];
    const p = (id: string, q1: string | null, q2: string, f: string) => ({
      ...guided(id, [q1, q2], f),
      node_answers: [
        { node_id: 'Q1', answer: q1, step: 0 },
        { node_id: 'Q2', answer: q2, step: 1 },
        { node_id: 'F', answer: f, step: 2 },
      ],
    });
    const r = score(
      {
        problems: [{ ...problem, answer: null }],
        nodes: free,
        paths: [p('a', '1', '5', '7'), p('b', '1', '6', '7'), p('c', null, '5', '8'), p('d', '2', '6', '7')],
      },
      { runId: 'r' },
    );
    const v = Object.fromEntries(r.scored.map((s) => [s.path_id, s.verdicts.map((x) => x.verdict)]));
    expect(v).toEqual({
      a: ['ok', 'contested', 'ok'],
      b: ['ok', 'contested', 'ok'],
      c: ['missing', 'contested', 'fail'],
      d: ['fail', 'contested', 'ok'],
    });
    expect(r.scored.map((s) => s.label_source)).toEqual(['consensus', 'consensus', 'consensus', 'consensus']);
    expect(r.scored.map((s) => s.final_correct)).toEqual([true, true, false, true]);
  });

  it('gives GC and FA null when K = 1, and the region rests on PC', () => {
    const r = score({ problems: [problem], nodes, paths: [paths[0]!] }, { runId: 'r' });
    expect([r.scored[0]!.GC, r.scored[0]!.FA]).toEqual([null, null]);
    expect(r.scored[0]!.region).toBe('reliable');
  });
});

describe('regions', () => {
  it.each([
    [0.9, 0.7, 0.5, 'reliable'],
    [0.8, 0.6, 0.25, 'reliable'],
    [0.79, 0.9, 1, 'uncertain'],
    [0.9, 0.59, 1, 'uncertain'],
    [0.9, 0.9, 0.2, 'uncertain'],
    [0.49, 0.9, 1, 'unreliable'],
    [0.9, 0.29, 1, 'unreliable'],
    // FA gates reliable only: a low FA never makes a path unreliable.
    [0.6, 0.9, 0, 'uncertain'],
    [null, 0.9, 1, 'uncertain'],
    [0.9, null, 1, 'reliable'],
    [0.9, 0.9, null, 'reliable'],
    [0.9, null, null, 'reliable'],
  ] as const)('PC %s, GC %s, FA %s → %s', (PC, GC, FA, region) =>
    expect(regionOf({ PC, GC, FA }, DEFAULT_THRESHOLDS)).toBe(region),
  );

  it.each([
    ['reliable', true, 'reliable-correct'],
    ['reliable', false, 'reliable-incorrect'],
    ['unreliable', true, 'unreliable-correct'],
    ['unreliable', false, 'unreliable-incorrect'],
    ['uncertain', true, 'uncertain'],
    ['reliable', null, 'uncertain'],
  ] as const)('%s crossed with y=%s → %s', (region, y, cat) => expect(categoryOf(region, y)).toBe(cat));
});

describe('firstFailure', () => {
  // Q1 → Q2 → F, Q1 → Q3 → F: a diamond
  const diamond = [
    node('Q1', 0, [], '1'),
    node('Q2', 1, ['Q1'], '2'),
    node('Q3', 2, ['Q1'], '3'),
    node('F', 3, ['Q2', 'Q3'], '5', true),
  ];
  const v = (o: Record<string, Verdict>) => new Map(Object.entries(o));
  it.each([
    ['root propagates through Q3', { Q1: 'fail', Q2: 'ok', Q3: 'fail' }, false, 'Q1', null],
    ['root does not propagate: error is in the last step', { Q1: 'fail', Q2: 'ok', Q3: 'ok' }, false, 'F', null],
    ['a missing answer is an error too', { Q1: 'ok', Q2: 'missing', Q3: 'ok' }, false, 'Q2', null],
    ['two roots: the earliest that propagates wins', { Q1: 'ok', Q2: 'fail', Q3: 'fail' }, false, 'Q2', null],
    ['contested is not an error', { Q1: 'contested', Q2: 'ok', Q3: 'ok' }, false, 'F', null],
    ['silent failure: earliest root cause', { Q1: 'ok', Q2: 'ok', Q3: 'fail' }, true, null, 'Q3'],
    ['correct with no error', { Q1: 'ok', Q2: 'ok', Q3: 'ok' }, true, null, null],
    ['no label: no FFS', { Q1: 'fail', Q2: 'fail', Q3: 'fail' }, null, null, null],
  ] as const)('%s', (_c, verdicts, y, ffs, silent) => {
    expect(firstFailure(diamond, v(verdicts), y)).toEqual({ ffs_node: ffs, silent_failure_node: silent });
  });
});

describe('score, free paths', () => {
  it('finds the FFS node through numeric alignment and its step in the path text', async () => {
    const { align } = await import('../../../stages/align/align.ts');
    const q =
      'Tom buys 3 bags of 4 apples and already has 5 apples. Half of all his apples are red. How many red apples does he have?';
    const n = (node_id: string, position: number, depends_on: string[], answer: string, is_final = false): ArsNode => ({
      problem_id: 'p',
      node_id,
      position,
      question: is_final ? q : `${node_id}?`,
      depends_on,
      answer,
      answer_spec: spec,
      uses_image: false,
      is_final,
    });
    const ars = [n('Q1', 0, [], '12'), n('Q2', 1, ['Q1'], '17'), n('F', 2, ['Q2'], '8.5', true)];
    const steps = [
      'He buys 3 * 4 = 12 apples.',
      'He eats 2, so 12 - 2 = 10 are left.',
      'With his own he has 10 + 5 = 15 apples.',
      'Half are red: 15 / 2 = 7.5.',
      'Final answer: 7.5',
    ];
    const path: PathRow = {
      ...guided('p/free/0', [], null),
      mode: 'free',
      steps,
      node_answers: [],
      final_answer: null,
    };
    const aligned = align({ paths: [path], nodes: ars }, { carry: false }).paths;
    const [s] = score(
      { problems: [{ ...problem, question: q, answer: '8.5' }], nodes: ars, paths: aligned },
      { runId: 'r' },
    ).scored;
    // "12 - 2 = 10": a value no reference explains, from trusted ones (12 is Q1's, 2 is the question's "half").
    expect([s!.final_answer, s!.final_correct, s!.ffs_node, s!.ffs_step, s!.ffs_evidence]).toEqual([
      '7.5',
      false,
      'Q2',
      1,
      'node',
    ]);
    expect(s!.verdicts.map((v) => [v.node_id, v.answer, v.verdict])).toEqual([
      ['Q1', '12', 'ok'],
      ['Q2', '10', 'fail'],
      ['F', '7.5', 'fail'],
    ]);
  });
});

/** One FFS localiser: score's `ffs_step` and `ffs_evidence` for wrong paths, from the no-model checks of the text. */
import { describe, expect, it } from 'vitest';
import type { ArsNode, PathRow, Problem } from '../../../schemas/index.ts';
import { align } from '../../../stages/align/align.ts';
import { localise, score } from '../../../stages/score/score.ts';
import { scoreStats } from '../../../stages/score/stats.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const Q =
  'Ann has 7 red pens and five blue pens. She triples her pens, then gives 5 away. How many pens does she have?';
const node = (node_id: string, position: number, depends_on: string[], answer: string | null): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question: node_id === 'F' ? Q : `${node_id}?`,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
// Q1 = 12 pens, Q2 = 36 after tripling, F = 31.
const nodes = [node('Q1', 0, [], '12'), node('Q2', 1, ['Q1'], '36'), node('F', 2, ['Q2'], '31')];
const problem: Problem = {
  problem_id: 'p',
  domain: 'math',
  question: Q,
  images: [],
  choices: [],
  answer: '31',
  answer_spec: spec,
  source: 't',
  content_hash: 'h',
  role: 'data',
};
const free = (id: string, steps: string[], final: string | null = null): PathRow => ({
  run_id: 'r',
  problem_id: 'p',
  path_id: id,
  mode: 'free',
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: final,
  given_correct: null,
  finish_reason: null,
  tokens_in: 0,
  tokens_out: 0,
});
const scoreFree = (steps: string[], final: string | null = null) => {
  const { paths } = align({ paths: [free('p/0', steps, final)], nodes });
  return score({ problems: [problem], nodes, paths }, { runId: 'r' }).scored[0]!;
};

describe('ffs_step and ffs_evidence of free paths', () => {
  it.each([
    {
      why: 'a right final answer has no FFS',
      steps: ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31'],
      want: [-1, null],
    },
    {
      why: 'a false computation places the step (arithmetic)',
      steps: ['7 + 5 = 12', '12 * 3 = 38', '38 - 5 = 33'],
      want: [1, 'arithmetic'],
    },
    {
      why: 'the earliest value no reference explains, from trusted values, places it (node)',
      steps: ['7 + 5 = 12', 'Red left: 7 - 5 = 2.', '12 * 3 = 36', '36 + 5 = 41'],
      want: [1, 'node'],
    },
    {
      why: 'a wrong last operation on values that are all right says no more than the final answer (final)',
      steps: ['7 + 5 = 12', '12 * 3 = 36', '36 + 5 = 41', 'She has 41.'],
      want: [2, 'final'],
    },
    {
      why: 'an earlier false computation in the chain moves the step before the node answered wrongly',
      steps: ['7 + 5 = 13', '13 * 3 = 39', '39 - 5 = 34'],
      want: [0, 'arithmetic'],
    },
    {
      why: 'a false computation outranks an earlier value no reference explains (another route, not an error for certain)',
      steps: ['Red doubled: 7 * 2 = 14.', '7 + 5 = 12', '12 * 3 = 38', '38 - 5 = 33'],
      want: [2, 'arithmetic'],
    },
    {
      why: 'a step that restates known numbers into a relation before the step evaluating the wrong final value holds it',
      steps: ['7 + 5 = 12', '12 * 3 = 36', 'Giving 5 away leaves 36 + 5 pens.', 'That is 41.'],
      want: [2, 'final'],
    },
    {
      why: 'a step that computes before the wrong final value does not take it',
      steps: ['7 + 5 = 12', '12 * 3 = 36', 'Giving 5 away: 36 + 5 = 41.', 'That is 41 pens.'],
      want: [2, 'final'],
    },
  ])('$why: $want', ({ steps, want }) => {
    const s = scoreFree(steps);
    expect([s.ffs_step, s.ffs_evidence]).toEqual(want);
  });

  it('with no number to follow, TRACE node rule: the step where the FFS node should have been answered', () => {
    const s = scoreFree(['7 + 5 = 12', '12 * 3 = 36', 'She has many pens left.'], 'many');
    expect([s.final_correct, s.ffs_node, s.ffs_step, s.ffs_evidence]).toEqual([false, 'F', 2, 'final']);
  });

  it('with no number to follow, a step restating known numbers before the node rule step holds the error', () => {
    const s = scoreFree(['7 + 5 = 12', '12 * 3 = 36', 'She gives 5 away.', 'She keeps 36 - 5 = 31, or so.'], 'none');
    expect([s.final_correct, s.ffs_node, s.ffs_step, s.ffs_evidence]).toEqual([false, 'F', 2, 'final']);
  });

  it('trusts the references (consensus when there is no gold), not only gold answers', () => {
    // No gold at all: Q1's consensus 12 and Q2's 36 are the references, 31 the final consensus.
    const bare = nodes.map((n) => ({ ...n, answer: null }));
    const ps = [
      free('p/0', ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31']),
      free('p/1', ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31']),
      free('p/2', ['7 + 5 = 12', '12 * 3 = 36', '36 + 5 = 41']),
    ];
    const { paths } = align({ paths: ps, nodes: bare });
    const s = score({ problems: [{ ...problem, answer: null }], nodes: bare, paths }, { runId: 'r' }).scored;
    expect(s.map((x) => [x.label_source, x.final_correct, x.ffs_step, x.ffs_evidence])).toEqual([
      ['consensus', true, -1, null],
      ['consensus', true, -1, null],
      ['consensus', false, 2, 'final'],
    ]);
  });
});

describe('localise, ars-guided paths', () => {
  const guided = { mode: 'ars-guided' as const, final_answer: '33', node_answers: [] };
  it.each([
    ['Q1', ['Q1: 7 + 5 = 12', 'Q2: 12 * 3 = 36', 'F: 36 - 5 = 33'], { step: 0, evidence: 'node' }],
    ['Q2', ['Q1: 12', 'Q2: 12 * 3 = 38', 'F: 33'], { step: 1, evidence: 'arithmetic' }],
    ['F', ['Q1: 12', 'Q2: 36', 'F: 36 + 5 = 41'], { step: 2, evidence: 'final' }],
  ] as const)('FFS node %s at its position', (ffs, steps, want) => {
    expect(localise({ ...guided, steps: [...steps] }, nodes, ffs, ['12', '36', '31'])).toEqual(want);
  });
});

describe('scoreStats', () => {
  it('counts evidence kinds and final agreement for the summary', () => {
    const ps = [
      free('p/0', ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31']),
      free('p/1', ['7 + 5 = 12', '12 * 3 = 38', '38 - 5 = 33']),
      free('p/2', ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31']),
    ];
    const { paths } = align({ paths: ps, nodes });
    const st = scoreStats(score({ problems: [problem], nodes, paths }, { runId: 'r' }).scored);
    expect(st).toMatchObject({
      paths: 3,
      ffs_evidence: { arithmetic: 1 },
      FA_histogram: { '0.00': 1, '0.50': 2 },
      FA_null: 0,
    });
    expect(st.FA_mean).toBeCloseTo(1 / 3, 10);
  });
});

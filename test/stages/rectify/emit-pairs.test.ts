/** Tests of step pairs with rectified chosen steps: `chosen_source`, the continuation's id, the peer rule as fallback. */
import { describe, expect, it } from 'vitest';
import { buildStepPreference } from '../../../stages/emit/build.ts';
import { rectifiedChoice, rectifiedByPath } from '../../../stages/emit/rectified.ts';
import type { ArsNode, Problem, ScoredPath, Verdict } from '../../../schemas/index.ts';
import type { RectifiedRow } from '../../../schemas/state.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const problem: Problem = {
  problem_id: 'p',
  domain: 'math',
  question: 'What is (1+1)*2?',
  images: [],
  choices: [],
  answer: '4',
  answer_spec: spec,
  source: 't',
  content_hash: 'h',
  role: 'data',
};
const node = (node_id: string, position: number, depends_on: string[]): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question: node_id,
  depends_on,
  answer: null,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const nodes = [node('Q1', 0, []), node('Q2', 1, ['Q1']), node('F', 2, ['Q2'])];
const scored = (
  path_id: string,
  answers: string[],
  verdicts: Verdict[],
  over: Partial<ScoredPath> = {},
): ScoredPath => ({
  problem_id: 'p',
  path_id,
  domain: 'math',
  PC: 1,
  GC: 1,
  FA: 1,
  region: 'reliable',
  model: 'm',
  run_id: 'r',
  mode: 'ars-guided',
  category: 'reliable-correct',
  final_answer: answers[2] ?? null,
  final_correct: true,
  label_source: 'gold',
  ffs_node: null,
  ffs_step: -1,
  ffs_evidence: null,
  silent_failure_node: null,
  role: 'data',
  steps: [`Q1: 1+1 = ${answers[0]}`, `Q2: ${answers[0]}*2 = ${answers[1]}`, `Final answer: ${answers[2]}`],
  verdicts: ['Q1', 'Q2', 'F'].map((id, i) => ({
    node_id: id,
    answer: answers[i] ?? null,
    reference: null,
    verdict: verdicts[i]!,
    agreement: 1,
    step: i,
  })),
  ...over,
});
const wrong = {
  final_correct: false,
  category: 'uncertain' as const,
  region: 'uncertain' as const,
  ffs_node: 'Q2',
  ffs_step: 1,
  // A cut whose node verdict placed it: one of emit.cut_evidence's default kinds.
  ffs_evidence: 'node' as const,
};
const good = scored('p/a', ['2', '4', '4'], ['ok', 'ok', 'ok']);
const badQ2 = scored('p/c', ['2', '5', '5'], ['ok', 'fail', 'fail'], wrong);
const rect = (i: number, chosen: string, ffs_step = 1): RectifiedRow => ({
  problem_id: 'p',
  path_id: 'p/c',
  rect_path_id: `p/c/rect/${i}`,
  ffs_node: 'Q2',
  ffs_step,
  chosen,
  steps: [chosen, 'Step 3: 4', 'Final answer: 4'],
  final_answer: '4',
  model: 'm',
});
const opts = { sft_per_problem: 2, pairs_per_problem: 4, keep_after_ffs: false };

describe('step pairs with rectification', () => {
  it('take the first rectified chosen step of the rejected path, with the continuation as full_chosen', () => {
    const out = buildStepPreference(
      {
        problems: [problem],
        nodes,
        scored: [good, badQ2],
        rectified: [rect(10, 'Step 2: 2*2 = 4 (b)'), rect(3, 'Step 2: 2*2 = 4')],
      },
      opts,
    );
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({
      initial_reason_steps: 'Q1: 1+1 = 2',
      rejected: 'Q2: 2*2 = 5',
      chosen: 'Step 2: 2*2 = 4',
      full_chosen: 'Step 2: 2*2 = 4\nStep 3: 4\nFinal answer: 4',
      chosen_path_id: 'p/c/rect/3',
      chosen_source: 'rectified',
      path_id: 'p/c',
      k_drawn: null,
    });
  });

  it('fall back to a peer path that agrees on the prefix when the path has no rectified step', () => {
    const out = buildStepPreference({ problems: [problem], nodes, scored: [good, badQ2], rectified: [] }, opts);
    expect(out.rows.map((r) => [r.chosen, r.chosen_path_id, r.chosen_source])).toEqual([
      ['Q2: 2*2 = 4', 'p/a', 'peer'],
    ]);
  });

  it('use a rectified step when no peer could give one', () => {
    const out = buildStepPreference(
      { problems: [problem], nodes, scored: [badQ2], rectified: [rect(0, 'Step 2: 2*2 = 4')] },
      opts,
    );
    expect(out.rows.map((r) => r.chosen_source)).toEqual(['rectified']);
    expect(buildStepPreference({ problems: [problem], nodes, scored: [badQ2] }, opts).dropped).toEqual({
      'no path answers the FFS node correctly after the same prefix': 1,
    });
  });

  it('carry k_drawn from the scored path', () => {
    const out = buildStepPreference(
      { problems: [problem], nodes, scored: [good, { ...badQ2, k_drawn: 5 } as ScoredPath] },
      opts,
    );
    expect(out.rows[0]!.k_drawn).toBe(5);
  });
});

describe('rectifiedChoice', () => {
  it('ignores a continuation cut at another step (the path was scored again since)', () => {
    const byPath = rectifiedByPath([rect(0, 'Step 2: 2*2 = 4', 2)]);
    expect(rectifiedChoice(byPath, badQ2)).toBeNull();
    expect(rectifiedChoice(rectifiedByPath([rect(0, 'Step 2: 2*2 = 4')]), badQ2)?.chosen_path_id).toBe('p/c/rect/0');
  });
});

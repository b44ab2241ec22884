import { describe, expect, it } from 'vitest';
import type { ArsNode } from '../../../schemas/index.ts';
import { evalTrace } from '../../../pipeline/cli/commands/eval-trace.ts';
import { evalProcessbench, predictFfsStep } from '../../../pipeline/cli/commands/eval-processbench.ts';
import { describeShared, sharedData } from '../../shared.ts';

describeShared('eval trace on GSM8K (numeric alignment, no model)', () => {
  // Target best AUROC >= 0.90 reached on all paths: auroc_mean 0.904 (auroc_pc 0.900); on the even
  // (calibration) half 0.8995 / 0.893 (just short), on the odd half 0.909 / 0.907. Reliable precision
  // >= 0.95 NOT reached: held-out 0.862 at coverage 0.704 (0.859 at 0.679 before the rules below).
  // Rules: socratic instruction steps ("Simplify", "Define a variable") and lines stating an equation
  // in an unknown are no ARS nodes (27 of 1319 problems are left with none, hence no PC); `a - b - c`
  // implies `b + c`. Before them: auroc_pc 0.895, auroc_gc 0.843, auroc_mean 0.898.
  it('PC predicts is_correct; reliable precision and coverage, held out', async () => {
    const r = await evalTrace({
      problems: sharedData('gsm8k', 'test_socratic.jsonl'),
      paths: sharedData('gsm8k', 'example_model_solutions.jsonl'),
    });
    expect(r).toMatchObject({ problems: 1319, paths: 5276, rejects: 0 });
    // y_k from the gold `####` answer must reproduce GSM8K's own is_correct on (nearly) every path.
    expect(r.label_disagreements).toBeLessThan(10);
    expect(r.auroc_pc!).toBeCloseTo(0.9001, 3);
    expect(r.auroc_gc!).toBeCloseTo(0.8489, 3);
    expect(r.auroc_mean!).toBeCloseTo(0.9043, 3);
    // Only carried node answers count (keepCarried).
    expect(r.aligned_share).toBeCloseTo(0.6827, 3);
    expect(r.at_min_coverage).not.toBeNull();
    expect(r.at_min_coverage!.coverage!).toBeCloseTo(0.7036, 3);
    expect(r.at_min_coverage!.precision!).toBeCloseTo(0.862, 3);
    // Why 0.95 is out of reach under TRACE.md: no grid pair beats ~0.89, and all but one of the
    // held-out reliable wrong paths answered every intermediate node right (their error is in F).
    expect(r.ceiling.max_precision!.precision).toBeLessThan(0.9);
    expect(r.ceiling.reliable_incorrect).toBe(117);
    expect(r.ceiling.all_nodes_ok).toBe(116);
    // Outside the contract, agreement on F would clear it (reported for the decision, used by no stage).
    expect(r.outside_contract.precision!).toBeCloseTo(0.9597, 3);
    expect(r.outside_contract.coverage!).toBeCloseTo(0.6882, 3);
  }, 120_000);
});

describe('predictFfsStep', () => {
  const spec = { kind: 'number' as const, tolerance: null, unit: null };
  const Q =
    'Ann has 7 red pens and five blue pens. She triples her pens, then gives 5 away. How many pens does she have?';
  const nodes: ArsNode[] = [
    {
      problem_id: 'p',
      node_id: 'Q1',
      position: 0,
      question: 'How many pens at first?',
      depends_on: [],
      answer: '12',
      answer_spec: spec,
      uses_image: false,
      is_final: false,
    },
    {
      problem_id: 'p',
      node_id: 'Q2',
      position: 1,
      question: 'How many after tripling?',
      depends_on: ['Q1'],
      answer: '36',
      answer_spec: spec,
      uses_image: false,
      is_final: false,
    },
    {
      problem_id: 'p',
      node_id: 'F',
      position: 2,
      question: Q,
      depends_on: ['Q2'],
      answer: '31',
      answer_spec: spec,
      uses_image: false,
      is_final: true,
    },
  ];
  it.each([
    {
      why: 'right final answer',
      steps: ['7 + 5 = 12', '12 * 3 = 36', '36 - 5 = 31'],
      final: '31',
      correct: true,
      want: -1,
    },
    {
      why: 'misstated arithmetic',
      steps: ['7 + 5 = 12', '12 * 3 = 38', '38 - 5 = 33'],
      final: '33',
      correct: false,
      want: 1,
    },
    {
      why: 'an off-gold detour before the end',
      steps: ['7 + 5 = 12', 'Red left: 7 - 5 = 2.', '12 * 3 = 36', '36 + 5 = 41'],
      final: '41',
      correct: false,
      want: 1,
    },
    {
      why: 'a wrong last operation on gold values',
      steps: ['7 + 5 = 12', '12 * 3 = 36', '36 + 5 = 41', 'She has 41.'],
      final: '41',
      correct: false,
      want: 2,
    },
    {
      why: 'no number to follow: the last step',
      steps: ['7 + 5 = 12', '12 * 3 = 36', 'She has many.'],
      final: null,
      correct: false,
      want: 2,
    },
  ])('$why: $want', ({ steps, final, correct, want }) => {
    expect(predictFfsStep({ steps, final_answer: final }, { final_correct: correct }, nodes)).toBe(want);
  });
});

describeShared('eval processbench (GSM8K half, no model)', () => {
  it('localises the first failure step on its value graph, with F1 above the ARS-node FFS', async () => {
    const r = await evalProcessbench({
      data: sharedData('processbench', 'gsm8k.dev.json'),
      ars: sharedData('gsm8k', 'test_socratic.jsonl'),
    });
    expect(r).toMatchObject({ n: 200, skipped: 0, even: { n: 100 }, odd: { n: 100 } });
    // Issue 5 target f1 >= 80 is NOT reached. Measured (rules chosen on even rows):
    // all acc_error 51.9, acc_correct 99.0, f1 68.1; even 49.1 / 100 / 65.8; odd 54.9 / 98.0 / 70.4.
    expect(r.acc_error).toBeCloseTo(51.92, 1);
    expect(r.acc_correct).toBeCloseTo(98.96, 1);
    expect(r.f1).toBeCloseTo(68.11, 1);
    expect(r.even.f1).toBeCloseTo(65.82, 1);
    expect(r.odd.f1).toBeCloseTo(70.37, 1);
    expect(r.f1).toBeGreaterThan(r.f1_score_ffs_step);
  }, 120_000);
});

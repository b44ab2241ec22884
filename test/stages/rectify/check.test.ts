/** Tests of the check a continuation's first step must pass to give a chosen step. */
import { describe, expect, it } from 'vitest';
import { checkTarget, chosenKey, passes, stepAnswer } from '../../../stages/rectify/check.ts';
import type { NodeVerdict } from '../../../schemas/index.ts';

const num = { kind: 'number' as const, tolerance: null, unit: null };
const ohm = { kind: 'quantity' as const, tolerance: 0.001, unit: 'ohm' };

describe('stepAnswer', () => {
  it.each<[string, string | null]>([
    ['Step 3: So the resistance = 14 + 2 = 16 ohm.', '16 ohm'],
    ['Step 2: Next, the current is 20 / 16, which gives 1.25 A.', '1.25 A'],
    ['Q1: What is R? R = 14 + 2 Answer: 16 ohm', '16 ohm'],
    ['Final answer: 1000 J', '1000 J'],
    ['Step 4: The current is 1.25 A.', '1.25'],
    ['Step 1: Read the problem carefully', null],
  ])('%j states %j', (step, want) => {
    expect(stepAnswer(step)).toBe(want);
  });
});

const v = (node_id: string, reference: string | null, verdict: NodeVerdict['verdict'], step: number | null) => ({
  node_id,
  answer: 'x',
  reference,
  verdict,
  agreement: 0.5,
  step,
});

describe('checkTarget', () => {
  const specOf = (id: string) => (id === 'Q2' ? ohm : num);
  it('checks the node the path answered at its FFS step, against that node reference, and the final reference', () => {
    const s = {
      ffs_node: 'Q2',
      ffs_step: 1,
      verdicts: [v('Q1', '4', 'ok', 0), v('Q2', '16', 'fail', 1), v('F', '32', 'fail', 2)],
    };
    expect(checkTarget(s, specOf)).toEqual({
      node_id: 'Q2',
      reference: '16',
      spec: ohm,
      final_reference: '32',
      final_spec: num,
    });
  });

  it('checks the node answered at the step when its arithmetic placed the cut before the FFS node', () => {
    const s = {
      ffs_node: 'Q2',
      ffs_step: 0,
      verdicts: [v('Q1', '4', 'ok', 0), v('Q2', '16', 'fail', 1), v('F', '32', 'fail', 2)],
    };
    expect(checkTarget(s, specOf)?.node_id).toBe('Q1');
  });

  it('checks the FFS node itself when no node was answered at the step (a missing answer)', () => {
    const s = {
      ffs_node: 'Q2',
      ffs_step: 1,
      verdicts: [v('Q1', '4', 'ok', 0), v('Q2', '16', 'missing', null), v('F', '32', 'fail', 2)],
    };
    expect(checkTarget(s, specOf)?.node_id).toBe('Q2');
  });

  it('has nothing to check without a reference (a contested node or final answer) or without an FFS', () => {
    const contested = {
      ffs_node: 'Q2',
      ffs_step: 1,
      verdicts: [v('Q2', null, 'contested', 1), v('F', '32', 'fail', 2)],
    };
    const noFinal = { ffs_node: 'Q2', ffs_step: 1, verdicts: [v('Q2', '16', 'fail', 1), v('F', null, 'contested', 2)] };
    expect(checkTarget(contested, specOf)).toBeNull();
    expect(checkTarget(noFinal, specOf)).toBeNull();
    expect(checkTarget({ ffs_node: null, ffs_step: -1, verdicts: [] }, specOf)).toBeNull();
  });
});

describe('passes', () => {
  const t = { node_id: 'Q2', reference: '16', spec: ohm, final_reference: '32', final_spec: num };
  it.each([
    [
      'a right first step and a right final answer',
      ['Step 2: R = 14 + 2 = 16 ohm.', 'Step 3: 2 * 16 = 32'],
      '32',
      true,
    ],
    ['a wrong final answer', ['Step 2: R = 14 + 2 = 16 ohm.', 'Step 3: 2 * 16 = 30'], '30', false],
    ['a first step off the reference', ['Step 2: R = 14 + 3 = 17 ohm.', 'Step 3: 32'], '32', false],
    ['a first step in the wrong unit', ['Step 2: R = 14 + 2 = 16 A.', 'Step 3: 32'], '32', false],
    ['a false computation that lands on the reference', ['Step 2: R = 14 + 3 = 16 ohm.', 'Step 3: 32'], '32', false],
    ['no final answer', ['Step 2: R = 14 + 2 = 16 ohm.'], null, false],
    ['no step at all', [], '32', false],
  ])('%s: %j', (_what, steps, final_answer, want) => {
    expect(passes({ steps, final_answer }, t)).toBe(want);
  });
});

describe('chosenKey', () => {
  it('is the same for steps that differ only in their label, spaces and case', () => {
    expect(chosenKey('Step 3: R = 16  ohm.')).toBe(chosenKey('step 7:  r = 16 ohm.'));
    expect(chosenKey('Step 3: R = 16 ohm.')).not.toBe(chosenKey('Step 3: R = 15 ohm.'));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalStepErrors, firstArithmeticFlag } from '../../../pipeline/cli/commands/eval-step-errors.ts';
import { describeShared, sharedData } from '../../shared.ts';

describe('firstArithmeticFlag', () => {
  it.each([
    { steps: ['A = (3 + 4) = 7.', 'B = (2 * 5) = 11.', 'A + B = 7 + 11 = 18.'], want: 1 },
    // A rewrite that changes the value: (7 - -7 * 4) is 35, not (7 - 28).
    { steps: ['C = ((3 * 4) * (7 - -7 * 4)) = ((12) * (7 - 28)) = -252.'], want: 0 },
    { steps: ['A = (3 + 4) = 7.', 'So the answer is 7'], want: -1 },
    { steps: ['The first letter of "kitten" is "k".'], want: -1 },
  ])('$steps.0 → $want', ({ steps, want }) => {
    expect(firstArithmeticFlag(steps)).toBe(want);
  });
});

describe('evalStepErrors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-steperr-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scores the first flag against mistake_index and counts rows with no arithmetic', async () => {
    const file = join(dir, 'rows.jsonl');
    await writeFile(
      file,
      [
        {
          input: '(3 + 4) + (2 * 5) =',
          steps: ['A = (3 + 4) = 7.', 'B = (2 * 5) = 11.', 'A + B = 7 + 11 = 18.'],
          target: '17',
          answer: '18',
          mistake_index: 1,
        },
        {
          input: '(1 + 1) =',
          steps: ['A = (1 + 1) = 2.', 'So the answer is 2'],
          target: '2',
          answer: '2',
          mistake_index: null,
        },
        {
          input: '(2 * 2) =',
          steps: ['A = (2 * 2) = 4.', 'Then 4 + 0 = 5.'],
          target: '4',
          answer: '5',
          mistake_index: 0,
        },
        { input: 'sort: b a', steps: ['The words are "a" and "b".'], target: 'a b', answer: 'b a', mistake_index: 0 },
        { input: 'bad', steps: 'not a list', mistake_index: null },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const r = await evalStepErrors({ data: file });
    expect(r).toMatchObject({
      n: 4,
      n_mistake: 3,
      flagged: 2,
      first_flag_equals_mistake_index: 2,
      rate: 0.5,
      early: 0,
      missed: 2,
      not_applicable: 1,
      skipped: 1,
    });
    expect(r.acc_error).toBeCloseTo(100 / 3, 6);
    expect(r.acc_correct).toBe(100);
  });
});

describeShared('eval step-errors on BIG-Bench-Mistake', () => {
  it('multistep arithmetic: the first flagged step is mistake_index on >= 85% of rows', async () => {
    const r = await evalStepErrors({ data: sharedData('step-errors', 'multistep_arithmetic.jsonl') });
    expect(r).toMatchObject({ n: 300, not_applicable: 0, skipped: 0 });
    expect(r.rate).toBeGreaterThanOrEqual(0.85); // measured 0.877 (263 / 300)
    expect(r.acc_error).toBeGreaterThanOrEqual(88); // measured 90.8
  });

  it.each(['word_sorting', 'dyck_languages', 'logical_deduction', 'tracking_shuffled_objects'])(
    '%s: the method does not apply (no arithmetic in any row)',
    async (task) => {
      const r = await evalStepErrors({ data: sharedData('step-errors', `${task}.jsonl`) });
      expect(r.not_applicable).toBe(r.n);
      expect(r.flagged).toBe(0);
    },
  );
});

import { expect, it } from 'vitest';
import { evalTrace } from '../pipeline/commands/eval-trace.ts';
import { evalProcessbench } from '../pipeline/commands/eval-processbench.ts';
import { describeShared, sharedData } from './shared.ts';

describeShared('eval trace on GSM8K (numeric alignment, no model)', () => {
  it('PC predicts is_correct with AUROC >= 0.84 and labels agree with is_correct', async () => {
    const r = await evalTrace({ problems: sharedData('gsm8k', 'test_socratic.jsonl'), paths: sharedData('gsm8k', 'example_model_solutions.jsonl') });
    expect(r).toMatchObject({ problems: 1319, paths: 5276, rejects: 0 });
    // y_k from the gold `####` answer must reproduce GSM8K's own is_correct on (nearly) every path.
    expect(r.label_disagreements).toBeLessThan(10);
    expect(r.auroc_pc!).toBeGreaterThanOrEqual(0.84);
    expect(Math.max(r.auroc_pc!, r.auroc_gc!, r.auroc_mean!)).toBeGreaterThanOrEqual(0.85);
    expect(r.aligned_share).toBeGreaterThan(0.7);
  }, 120_000);
});

describeShared('eval processbench (GSM8K half, no model)', () => {
  it('localises the first failure step with F1 above the FFS-only baseline', async () => {
    const r = await evalProcessbench({ data: sharedData('processbench', 'gsm8k.dev.json'), ars: sharedData('gsm8k', 'test_socratic.jsonl') });
    expect(r).toMatchObject({ n: 200, skipped: 0 });
    expect(r.acc_correct).toBeGreaterThanOrEqual(85);
    expect(r.f1).toBeGreaterThanOrEqual(55);
    expect(r.f1).toBeGreaterThan(r.f1_score_ffs_step);
  }, 120_000);
});

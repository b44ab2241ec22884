import { describe, expect, it } from 'vitest';
import { auroc, bootstrap, processBenchF1, wilson } from '../../../stages/lib/metrics.ts';

describe('auroc', () => {
  it.each([
    { scores: [0.9, 0.8, 0.2, 0.1], labels: [true, true, false, false], want: 1 },
    { scores: [0.1, 0.2, 0.8, 0.9], labels: [true, true, false, false], want: 0 },
    { scores: [0.5, 0.5, 0.5, 0.5], labels: [true, false, true, false], want: 0.5 },
    // pairs: (0.9>0.3) 1, (0.9>0.5) 1, (0.5=0.5) 0.5, (0.5>0.3) 1 → 3.5 / 4
    { scores: [0.9, 0.5, 0.5, 0.3], labels: [true, true, false, false], want: 0.875 },
  ])('scores $scores vs $labels → $want', ({ scores, labels, want }) => {
    expect(auroc(scores, labels)).toBeCloseTo(want, 12);
  });

  it('drops rows whose score or label is null', () => {
    expect(auroc([0.9, null, 0.1, 0.95], [true, false, false, null])).toBe(1);
  });

  it('is null when one class is empty', () => {
    expect(auroc([0.1, 0.2, 0.3], [true, true, true])).toBeNull();
  });

  it('names both lengths when they differ', () => {
    expect(() => auroc([0.1, 0.2], [true])).toThrow(
      'auroc expected as many labels as scores, got 1 labels for 2 scores',
    );
  });
});

describe('wilson', () => {
  it.each([
    { k: 0, n: 0, lo: 0, hi: 1 },
    { k: 50, n: 100, lo: 0.4038, hi: 0.5962 },
    { k: 95, n: 100, lo: 0.88825, hi: 0.97846 },
    { k: 10, n: 10, lo: 0.7225, hi: 1 },
  ])('$k of $n → [$lo, $hi]', ({ k, n, lo, hi }) => {
    const [a, b] = wilson(k, n);
    expect(a).toBeCloseTo(lo, 4);
    expect(b).toBeCloseTo(hi, 4);
  });

  it('rejects k outside 0..n', () => {
    expect(() => wilson(5, 3)).toThrow('wilson expected 0 <= k <= n, got k=5, n=3');
  });
});

describe('bootstrap', () => {
  it('brackets the mean and is reproducible with a seed', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const mean = (s: number[]) => s.reduce((a, b) => a + b, 0) / s.length;
    const a = bootstrap(xs, mean, { seed: 7, rounds: 500 })!;
    const b = bootstrap(xs, mean, { seed: 7, rounds: 500 })!;
    expect(a).toEqual(b);
    expect(a[0]).toBeLessThan(5.5);
    expect(a[1]).toBeGreaterThan(5.5);
    expect(a[0]).toBeGreaterThan(3);
    expect(a[1]).toBeLessThan(8);
  });

  it('is null on no items', () => {
    expect(bootstrap([], () => 1)).toBeNull();
  });
});

describe('processBenchF1', () => {
  it('scores erroneous and correct samples apart and takes their harmonic mean', () => {
    const r = processBenchF1([
      { label: 2, predicted: 2 },
      { label: 0, predicted: 1 },
      { label: -1, predicted: -1 },
      { label: -1, predicted: -1 },
      { label: -1, predicted: 3 },
    ]);
    expect(r.n).toBe(5);
    expect(r.acc_error).toBeCloseTo(50, 9);
    expect(r.acc_correct).toBeCloseTo(200 / 3, 9);
    expect(r.f1).toBeCloseTo((2 * 50 * (200 / 3)) / (50 + 200 / 3), 9);
  });
});

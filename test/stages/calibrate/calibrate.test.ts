import { describe, expect, it } from 'vitest';
import { aurocs, calibrate, evaluateThresholds, thresholdsFor } from '../../../stages/calibrate/calibrate.ts';

type Row = {
  PC: number | null;
  GC: number | null;
  final_correct: boolean | null;
  domain: 'math' | 'physics' | 'chemistry' | 'other';
};
const r = (
  PC: number | null,
  GC: number | null,
  final_correct: boolean | null,
  domain: Row['domain'] = 'math',
): Row => ({ PC, GC, final_correct, domain });
/** `n` copies of a row. */
const many = (n: number, row: Row): Row[] => Array.from({ length: n }, () => ({ ...row }));

describe('evaluateThresholds', () => {
  it('counts precision over reliable paths and coverage over correct ones; GC null rests on PC', () => {
    const rows = [r(1, 1, true), r(1, 0.8, false), r(0.5, 1, true), r(1, null, true), r(null, 1, true), r(1, 1, null)];
    const e = evaluateThresholds(rows, 0.8, 0.6);
    expect(e).toMatchObject({ n_labeled: 5, n_correct: 4, n_reliable: 3 });
    expect(e.precision).toBeCloseTo(2 / 3, 12);
    expect(e.coverage).toBeCloseTo(2 / 4, 12);
  });
});

describe('aurocs', () => {
  it('scores PC, GC and their mean, ignoring nulls', () => {
    const rows = [r(1, 0.2, true), r(0.9, 0.9, true), r(0.2, 0.5, false), r(0.1, 0.1, false), r(null, null, true)];
    expect(aurocs(rows)).toEqual({ auroc_pc: 1, auroc_gc: 0.75, auroc_mean: 1 });
  });
});

describe('calibrate', () => {
  // 30 clean correct paths (PC 0.8, GC 0.9), 10 correct ones with low GC, 10 wrong ones at PC 1 / GC 0.4, 20 wrong low.
  const rows = [
    ...many(30, r(0.8, 0.9, true)),
    ...many(10, r(1, 0.3, true)),
    ...many(10, r(1, 0.4, false)),
    ...many(20, r(0.2, 0.1, false)),
  ];

  it('picks the thresholds with the best coverage at the target precision', () => {
    const cal = calibrate(rows, { grid: [0, 0.5, 1], targetPrecision: 0.95, minReliable: 5 });
    expect(cal.global).toMatchObject({
      tau_pc: 0.5,
      tau_gc: 0.5,
      precision: 1,
      coverage: 0.75,
      n_reliable: 30,
      source: 'global',
      met_target: true,
    });
    expect(cal.global.precision_ci[0]).toBeCloseTo(0.8865, 3);
    expect(cal.domains.math).toMatchObject({ source: 'global', tau_pc: 0.5, tau_gc: 0.5 });
    expect(cal.notes).toEqual(['math: 70 labeled paths < 200, global thresholds used']);
  });

  it('calibrates a domain on its own when it has enough paths', () => {
    const cal = calibrate(rows, { grid: [0, 0.5, 1], minDomainPaths: 50, minReliable: 5 });
    expect(cal.domains.math).toMatchObject({ source: 'domain', tau_pc: 0.5, tau_gc: 0.5, met_target: true });
    expect(cal.notes).toEqual([]);
  });

  it('falls back to the global thresholds for a small domain while a large one calibrates on its own', () => {
    const physics = [...many(4, r(1, 1, true, 'physics')), r(1, 1, false, 'physics')];
    const cal = calibrate([...rows, ...physics], { grid: [0, 0.5, 1], minDomainPaths: 50, minReliable: 5 });
    expect(cal.domains.math).toMatchObject({
      source: 'domain',
      tau_pc: 0.5,
      tau_gc: 0.5,
      met_target: true,
      n_labeled: 70,
    });
    // physics keeps the global thresholds but reports its own precision (4 of 5) and Wilson interval.
    expect(cal.domains.physics).toMatchObject({
      source: 'global',
      tau_pc: cal.global.tau_pc,
      tau_gc: cal.global.tau_gc,
      n_labeled: 5,
      n_reliable: 5,
      precision: 0.8,
    });
    expect(cal.domains.physics!.precision_ci[0]).toBeCloseTo(0.3755, 3);
    expect(cal.domains.physics!.precision_ci[1]).toBeCloseTo(0.9638, 3);
    expect(cal.notes).toEqual(['physics: 5 labeled paths < 50, global thresholds used']);
  });

  it('keeps the defaults and says so when no grid point reaches the target', () => {
    const noisy = [...many(10, r(1, 1, true)), ...many(10, r(1, 1, false))];
    const cal = calibrate(noisy, { grid: [0, 0.5, 1] });
    expect(cal.global).toMatchObject({
      tau_pc: 0.8,
      tau_gc: 0.6,
      source: 'default',
      met_target: false,
      precision: 0.5,
    });
    expect(cal.notes[0]).toBe(
      'global: no (tau_pc, tau_gc) on the grid reaches precision 0.95 with at least 10 reliable paths; defaults 0.8/0.6 kept',
    );
  });

  it('hands score per-domain thresholds with low bounds never above the high ones', () => {
    const cal = calibrate(rows, { grid: [0, 0.2, 0.5, 1], minReliable: 5 });
    expect(thresholdsFor(cal)('math')).toEqual({
      tau_pc: cal.global.tau_pc,
      tau_gc: cal.global.tau_gc,
      tau_pc_low: Math.min(0.5, cal.global.tau_pc),
      tau_gc_low: Math.min(0.3, cal.global.tau_gc),
    });
    expect(thresholdsFor(cal)('physics')).toEqual(thresholdsFor(cal)('math'));
  });
});

describe('calibration counts reliable paths as filter will place them', () => {
  // PC 1 and GC 0.2: under tau_gc_low 0.3 such a path is unreliable whatever tau_gc is.
  const rows = [r(1, 0.2, true), r(1, 0.2, true), r(1, 0.9, true), r(1, 0.9, false)];
  it.each([
    [{ tau_pc_low: 0.5, tau_gc_low: 0.3 }, 1, 2, 0.5],
    [{ tau_pc_low: 0, tau_gc_low: 0 }, 3, 4, 0.75],
  ])('with lows %j: %d of %d reliable paths correct', (lows, hit, reliable, precision) => {
    const e = evaluateThresholds(rows, 0.8, 0, lows);
    expect([e.n_reliable, e.precision]).toEqual([reliable, precision]);
    expect(e.coverage).toBeCloseTo(hit / 3, 10);
  });
});

describe('gridCounts', () => {
  it('equals evaluateThresholds at every grid pair', async () => {
    const { gridCounts } = await import('../../../stages/calibrate/calibrate.ts');
    const rows = [
      r(1, 1, true),
      r(0.8, 0.6, true),
      r(0.8, 0.55, false),
      r(0.6, null, true),
      r(0.45, 0.9, false),
      r(null, 0.9, true),
      r(0.95, 0.25, true),
      r(0.75, 0.7, null),
    ].filter((x) => x.final_correct !== null);
    const grid = [0, 0.25, 0.5, 0.6, 0.75, 0.8, 1];
    const lows = { tau_pc_low: 0.5, tau_gc_low: 0.3 };
    const at = gridCounts(rows, grid, lows);
    for (const [i, a] of grid.entries())
      for (const [j, b] of grid.entries())
        expect(at(i, j), `tau_pc ${a}, tau_gc ${b}`).toEqual(evaluateThresholds(rows, a, b, lows));
  });
});

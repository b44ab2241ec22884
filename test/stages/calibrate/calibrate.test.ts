import { describe, expect, it } from 'vitest';
import {
  aurocs,
  calibrate,
  calibrateFromCounts,
  calibrationCounts,
  evaluateThresholds,
  mergeCalibrationCounts,
  thresholdsFor,
  type Labeled,
} from '../../../stages/calibrate/calibrate.ts';
import { gridCounts } from '../../../stages/calibrate/search.ts';
import { aurocOf } from '../../../stages/calibrate/counts.ts';
import { DEFAULT_THRESHOLDS } from '../../../stages/score/regions.ts';
import { auroc, seededRandom } from '../../../stages/lib/metrics.ts';

type Domain = Labeled['domain'];
const r = (PC: number | null, GC: number | null, final_correct: boolean | null, o: Partial<Labeled> = {}): Labeled => ({
  PC,
  GC,
  FA: null,
  final_correct,
  domain: 'math' as Domain,
  label_source: 'gold',
  ...o,
});
/** `n` copies of a row. */
const many = (n: number, row: Labeled): Labeled[] => Array.from({ length: n }, () => ({ ...row }));
const TH = DEFAULT_THRESHOLDS;

describe('evaluateThresholds', () => {
  it('counts precision over reliable paths and coverage over correct ones; a null GC or FA rests on the rest', () => {
    const rows = [
      r(1, 1, true),
      r(1, 0.8, false),
      r(0.5, 1, true),
      r(1, null, true),
      r(null, 1, true),
      r(1, 1, null),
      r(1, 1, true, { FA: 0.2 }), // FA under tau_fa 0.25: not reliable
    ];
    const e = evaluateThresholds(rows, TH);
    expect(e).toMatchObject({ n_labeled: 6, n_correct: 5, n_reliable: 3 });
    expect(e.precision).toBeCloseTo(2 / 3, 12);
    expect(e.coverage).toBeCloseTo(2 / 5, 12);
  });
});

describe('aurocs', () => {
  it('scores PC, GC, FA and mean(PC, GC) over gold and given labels only, ignoring nulls', () => {
    const rows = [
      r(1, 0.2, true, { FA: 1 }),
      r(0.9, 0.9, true, { FA: 0 }),
      r(0.2, 0.5, false, { FA: 0.5, label_source: 'given' }),
      r(0.1, 0.1, false, { FA: 0.5 }),
      r(null, null, true),
      r(0, 0, true, { label_source: 'consensus' }), // never counted
    ];
    expect(aurocs(rows)).toEqual({ auroc_pc: 1, auroc_gc: 0.75, auroc_fa: 0.5, auroc_mean: 1 });
  });

  it('gives the AUROC of rank statistics exactly, from histograms keyed by the exact score', () => {
    const rand = seededRandom(7);
    const scores = Array.from({ length: 400 }, () => Math.round(rand() * 12) / 12);
    const labels = scores.map((s) => rand() < 0.3 + 0.5 * s);
    const h: Record<string, [number, number]> = {};
    scores.forEach((s, i) => ((h[String(s)] ??= [0, 0])[labels[i] ? 0 : 1] += 1));
    expect(aurocOf(h)).toBeCloseTo(auroc(scores, labels)!, 12);
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

  it('picks the thresholds with the best coverage whose Wilson lower bound meets the target, and says so', () => {
    // The configured 0.8 / 0.6 / 0.25 join the grid; of the points with the best coverage the strictest wins.
    const cal = calibrate(rows, { grid: [0, 0.5, 1], faGrid: [0], targetPrecision: 0.85, minReliable: 5 });
    expect(cal.global).toMatchObject({
      tau_pc: 0.8,
      tau_gc: 0.8,
      tau_fa: 0.25,
      precision: 1,
      coverage: 0.75,
      n_reliable: 30,
      source: 'global',
      met_target: true,
      labels: { gold: 70, given: 0, consensus: 0, none: 0 },
    });
    // 30 of 30: the Wilson lower bound is 0.8865, above 0.85.
    expect(cal.global.precision_ci[0]).toBeCloseTo(0.8865, 3);
    expect(cal.rule).toContain('Wilson 95% lower bound');
    expect(cal.calibrated_on).toBe('labeled data paths');
    expect(cal.domains.math).toMatchObject({ source: 'global', tau_pc: 0.8, tau_gc: 0.8 });
    expect(cal.notes).toEqual([
      'calibrated on 70 gold and 0 given labels of the labeled paths; 0 consensus-labeled paths never calibrate',
      'math: 70 labeled paths < 200, global thresholds used',
    ]);
  });

  it('never meets the target on a point estimate alone (issue 10: 56 paths, lower bound about 0.76)', () => {
    // 49 of 56 reliable paths correct: precision 0.875 clears a target of 0.85, but the Wilson 95%
    // lower bound is 0.764, so the target is not met and the configured thresholds stay.
    const few = [...many(49, r(1, 1, true)), ...many(7, r(1, 1, false)), ...many(40, r(0.1, 0.1, false))];
    const cal = calibrate(few, { targetPrecision: 0.85 });
    expect(cal.global.met_target).toBe(false);
    expect(cal.global.source).toBe('default');
    expect([cal.global.tau_pc, cal.global.tau_gc, cal.global.tau_fa]).toEqual([0.8, 0.6, 0.25]);
    expect([cal.global.n_reliable, cal.global.precision]).toEqual([56, 0.875]);
    expect(cal.global.precision_ci[0]).toBeCloseTo(0.764, 3);
    // The same paths meet a target under their lower bound.
    expect(calibrate(few, { targetPrecision: 0.76 }).global.met_target).toBe(true);
  });

  it('calibrates on gold and given labels only: consensus labels never calibrate', () => {
    // With the consensus rows counted, 60 reliable of which 50 "correct" would meet a lower target.
    const mixed = [
      ...many(10, r(1, 1, true)),
      ...many(50, r(1, 1, true, { label_source: 'consensus' })),
      ...many(10, r(1, 1, false)),
      ...many(5, r(1, 1, null, { label_source: 'none' })),
    ];
    const cal = calibrate(mixed, { targetPrecision: 0.5, minReliable: 5 });
    expect(cal.global.n_labeled).toBe(20);
    expect(cal.global.labels).toEqual({ gold: 20, given: 0, consensus: 50, none: 5 });
    expect(cal.global.met_target).toBe(false);
    expect(cal.global.precision).toBe(0.5);
  });

  it('uses the labels of calibration inputs when the run has them, and applies the result to every domain', () => {
    const data = many(40, r(1, 1, false, { domain: 'physics' }));
    const calSet = [
      ...many(40, r(1, 1, true, { role: 'calibration' })),
      ...many(40, r(0.1, 0.1, false, { role: 'calibration' })),
    ];
    const cal = calibrate([...data, ...calSet], { targetPrecision: 0.9 });
    expect(cal.calibrated_on).toBe('calibration inputs');
    expect(cal.global).toMatchObject({ n_labeled: 80, met_target: true, precision: 1 });
    expect(cal.domains.physics).toMatchObject({ source: 'global', n_labeled: 0, met_target: true });
    expect(thresholdsFor(cal)('physics')).toEqual({
      ...TH,
      tau_pc: cal.global.tau_pc,
      tau_gc: cal.global.tau_gc,
      tau_fa: cal.global.tau_fa,
    });
  });

  it('searches tau_fa too: final agreement can be what makes the target reachable', () => {
    // PC and GC cannot tell these apart; FA can.
    const fa = [...many(40, r(1, 1, true, { FA: 1 })), ...many(20, r(1, 1, false, { FA: 0 }))];
    const cal = calibrate(fa, { targetPrecision: 0.9 });
    expect(cal.global).toMatchObject({ met_target: true, precision: 1, coverage: 1 });
    expect(cal.global.tau_fa).toBeGreaterThan(0);
    expect(cal.global.auroc_fa).toBe(1);
  });

  it('calibrates a domain on its own when it has enough paths', () => {
    const cal = calibrate(rows, { grid: [0, 0.5, 1], targetPrecision: 0.85, minDomainPaths: 50, minReliable: 5 });
    expect(cal.domains.math).toMatchObject({ source: 'domain', tau_pc: 0.8, tau_gc: 0.8, met_target: true });
  });

  it('with unmet closest, takes the grid point whose precision lower bound is highest when none reaches the target', () => {
    // Loose configured thresholds let 20 wrong paths at PC 0.8 in; no point reaches 0.95 with 10
    // correct and 2 wrong at PC 1, but PC 1 comes closest (10 of 12, lower bound 0.552).
    const rows = [...many(10, r(1, 1, true)), ...many(2, r(1, 1, false)), ...many(20, r(0.8, 1, false))];
    const th = { ...TH, tau_pc: 0.7, tau_gc: 0.45, tau_fa: 0.3 };
    const opts = { grid: [0, 0.5, 0.8, 1], thresholds: th };
    const kept = calibrate(rows, opts);
    expect(kept.global).toMatchObject({ source: 'default', met_target: false, tau_pc: 0.7, n_reliable: 32 });
    const cal = calibrate(rows, { ...opts, unmet: 'closest' });
    expect(cal.global).toMatchObject({ source: 'closest', met_target: false, tau_pc: 1, n_reliable: 12 });
    expect(cal.global.precision_ci[0]).toBeCloseTo(0.552, 3);
    expect(cal.domains.math).toMatchObject({ source: 'closest', tau_pc: 1 });
    expect(thresholdsFor(cal, th)('math')).toMatchObject({ tau_pc: 1, tau_pc_low: th.tau_pc_low });
    expect(thresholdsFor(kept, th)('math')).toEqual(th);
    expect(cal.notes[1]).toContain('the one whose lower bound is highest (0.552), 1/');
    // Too few paths for any point: the configured thresholds stand whatever `unmet` says.
    expect(calibrate(rows.slice(0, 5), { ...opts, unmet: 'closest' }).global.source).toBe('default');
  });

  it('keeps the configured thresholds and says so when no grid point reaches the target', () => {
    const noisy = [...many(10, r(1, 1, true)), ...many(10, r(1, 1, false))];
    const th = { ...TH, tau_pc: 0.7, tau_gc: 0.45, tau_fa: 0.3 };
    const cal = calibrate(noisy, { grid: [0, 0.5, 1], thresholds: th });
    expect(cal.global).toMatchObject({
      tau_pc: 0.7,
      tau_gc: 0.45,
      tau_fa: 0.3,
      source: 'default',
      met_target: false,
      precision: 0.5,
    });
    expect(cal.notes[1]).toBe(
      'global: no (tau_pc, tau_gc, tau_fa) on the grid has a Wilson lower bound of precision >= 0.95 with at least 10 reliable paths; configured 0.7/0.45/0.3 kept',
    );
    expect(thresholdsFor(cal, th)('math')).toEqual(th);
  });
});

describe('calibration from per-shard counts', () => {
  const rand = seededRandom(11);
  const domains: Domain[] = ['math', 'physics', 'chemistry'];
  const sources = ['gold', 'gold', 'given', 'consensus', 'none'] as const;
  const rows: Labeled[] = Array.from({ length: 3000 }, () => {
    const PC = Math.round(rand() * 5) / 5;
    const GC = rand() < 0.1 ? null : Math.round(rand() * 7) / 7;
    const FA = rand() < 0.1 ? null : Math.round(rand() * 3) / 3;
    const label_source = sources[Math.floor(rand() * sources.length)]!;
    return {
      PC: rand() < 0.05 ? null : PC,
      GC,
      FA,
      final_correct: label_source === 'none' ? null : rand() < 0.15 + 0.8 * PC * (FA ?? 0.5),
      domain: domains[Math.floor(rand() * 3)]!,
      label_source,
      role: rand() < 0.02 ? 'calibration' : 'data',
    };
  });

  it('merged shard counts calibrate exactly as the rows do, in any shard order', () => {
    const opts = { targetPrecision: 0.8, minDomainPaths: 300 };
    const direct = calibrate(rows, opts);
    const shards = [0, 1, 2, 3, 4].map((k) =>
      calibrationCounts(
        rows.filter((_, i) => i % 5 === k),
        opts,
      ),
    );
    const merged = mergeCalibrationCounts([shards[3]!, shards[0]!, shards[4]!, shards[1]!, shards[2]!]);
    expect(calibrateFromCounts(merged, opts)).toEqual(direct);
    // Plain JSON, and bounded by the grids and distinct scores, not by paths.
    expect(JSON.parse(JSON.stringify(merged))).toEqual(merged);
    expect(JSON.stringify(merged).length).toBeLessThan(JSON.stringify(rows).length / 4);
    // The check can fail: another target gives another calibration.
    expect(calibrateFromCounts(merged, { ...opts, targetPrecision: 0.6 })).not.toEqual(direct);
  });

  it('agrees with evaluateThresholds at the chosen point, domain by domain', () => {
    const cal = calibrate(rows, { minDomainPaths: 300, targetPrecision: 0.8 });
    const useCal = cal.calibrated_on === 'calibration inputs';
    for (const d of domains) {
      const c = cal.domains[d]!;
      const mine = rows.filter(
        (p) => p.domain === d && (p.role === 'calibration') === useCal && ['gold', 'given'].includes(p.label_source),
      );
      const e = evaluateThresholds(mine, { ...TH, tau_pc: c.tau_pc, tau_gc: c.tau_gc, tau_fa: c.tau_fa });
      expect([c.n_reliable, c.n_labeled, c.precision], d).toEqual([e.n_reliable, e.n_labeled, e.precision]);
    }
  });

  it('refuses to merge counts made with other grids', () => {
    const a = calibrationCounts(rows.slice(0, 10));
    const b = calibrationCounts(rows.slice(10, 20), { grid: [0, 0.5, 1] });
    expect(() => mergeCalibrationCounts([a, b])).toThrow(/calibration counts 1 were made with grids or thresholds/);
  });
});

describe('calibration counts reliable paths as filter will place them', () => {
  // PC 1 and GC 0.2: under tau_gc_low 0.3 such a path is unreliable whatever tau_gc is.
  const rows = [r(1, 0.2, true), r(1, 0.2, true), r(1, 0.9, true), r(1, 0.9, false)];
  it.each([
    [{ tau_pc_low: 0.5, tau_gc_low: 0.3 }, 1, 2, 0.5],
    [{ tau_pc_low: 0, tau_gc_low: 0 }, 3, 4, 0.75],
  ])('with lows %j: %d of %d reliable paths correct', (lows, hit, reliable, precision) => {
    const th = { ...TH, tau_pc: 0.8, tau_gc: 0, ...lows };
    const e = evaluateThresholds(rows, th);
    expect([e.n_reliable, e.precision]).toEqual([reliable, precision]);
    expect(e.coverage).toBeCloseTo(hit / 3, 10);
    const c = calibrate(rows, { thresholds: th, targetPrecision: 0.99, grid: [0, 0.8] });
    expect([c.global.n_reliable, c.global.precision]).toEqual([reliable, precision]);
  });
});

describe('gridCounts (the report frontier, PC-GC plane)', () => {
  it('equals evaluateThresholds with no FA gate at every grid pair', () => {
    const rows = [
      r(1, 1, true),
      r(0.8, 0.6, true),
      r(0.8, 0.55, false),
      r(0.6, null, true),
      r(0.45, 0.9, false),
      r(null, 0.9, true),
      r(0.95, 0.25, true),
    ];
    const grid = [0, 0.25, 0.5, 0.6, 0.75, 0.8, 1];
    const lows = { tau_pc_low: 0.5, tau_gc_low: 0.3 };
    const at = gridCounts(rows, grid, lows);
    for (const [i, a] of grid.entries())
      for (const [j, b] of grid.entries())
        expect(at(i, j), `tau_pc ${a}, tau_gc ${b}`).toEqual(
          evaluateThresholds(rows, { ...lows, tau_pc: a, tau_gc: b, tau_fa: 0 }),
        );
  });
});

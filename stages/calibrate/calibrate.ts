/**
 * @module stages/calibrate/calibrate
 * Calibration (TRACE.md "Reliability regions"): picks `(tau_pc, tau_gc, tau_fa)` on a grid to
 * maximise the coverage of correct paths subject to the Wilson 95% lower bound of
 * precision(correct | reliable) >= target, per domain with enough labeled paths, else globally.
 * Only `gold` and `given` labels calibrate; when the run has calibration inputs, only theirs do.
 * Reports Wilson intervals and the AUROC of PC, GC, FA and mean(PC, GC). Everything is computed
 * from mergeable counts (`counts.ts`), so shards can be counted apart and calibrated together.
 */
import { wilson } from '../lib/metrics.ts';
import { DEFAULT_THRESHOLDS, regionOf, type Thresholds } from '../score/regions.ts';
import {
  aurocOf,
  calibrationCounts,
  sumDomains,
  type CalibrationCounts,
  type CalibrateOptions,
  type DomainCounts,
  type Labeled,
} from './counts.ts';
import { bestPoint, closestPoint, countAt, type GridPoint } from './search.ts';

export {
  DEFAULT_GRID,
  calibrationCounts,
  mergeCalibrationCounts,
  type CalibrationCounts,
  type Labeled,
} from './counts.ts';
export { gridCounts } from './search.ts';

/** The rule that decides whether a grid point meets the target, written into calibration.json. */
export const TARGET_RULE =
  'a grid point meets the target when the Wilson 95% lower bound of its precision (precision_ci[0]) is >= target_precision, with at least min_reliable reliable paths; the point estimate alone never counts';

export interface DomainCalibration {
  tau_pc: number;
  tau_gc: number;
  tau_fa: number;
  precision: number | null;
  precision_ci: [number, number];
  coverage: number | null;
  coverage_ci: [number, number];
  n_labeled: number;
  n_correct: number;
  n_reliable: number;
  /** The labels that calibrated (gold, given) and those that never do (consensus, none), in the set used. */
  labels: { gold: number; given: number; consensus: number; none: number };
  auroc_pc: number | null;
  auroc_gc: number | null;
  auroc_fa: number | null;
  auroc_mean: number | null;
  /**
   * `domain`, `global`: calibrated there and met the target. `closest`: no point met it; the
   * thresholds are the grid point whose precision lower bound is highest (`calibrate.unmet`).
   * `default`: no point met it; the configured thresholds stand.
   */
  source: 'domain' | 'global' | 'closest' | 'default';
  met_target: boolean;
}

export interface Calibration {
  target_precision: number;
  rule: string;
  min_reliable: number;
  /** Whose labels calibrated: the run's calibration inputs when it has labeled ones, else its own labeled paths. */
  calibrated_on: 'calibration inputs' | 'labeled data paths';
  global: DomainCalibration;
  domains: Record<string, DomainCalibration>;
  /** Plain words for what happened, e.g. that no grid point met the target. */
  notes: string[];
}

/** Precision and coverage of the reliable region at fixed thresholds over labeled paths (any label), with Wilson intervals. */
export function evaluateThresholds(
  scored: readonly Pick<Labeled, 'PC' | 'GC' | 'FA' | 'final_correct'>[],
  th: Thresholds,
) {
  const labeled = scored.filter((p) => p.final_correct !== null);
  const correct = labeled.filter((p) => p.final_correct).length;
  const reliable = labeled.filter((p) => regionOf(p, th) === 'reliable');
  const hit = reliable.filter((p) => p.final_correct).length;
  return {
    n_labeled: labeled.length,
    n_correct: correct,
    n_reliable: reliable.length,
    precision: reliable.length ? hit / reliable.length : null,
    precision_ci: wilson(hit, reliable.length),
    coverage: correct ? hit / correct : null,
    coverage_ci: wilson(hit, correct),
  };
}

/** AUROC of PC, GC, FA and mean(PC, GC) (PC when GC is null) as predictors of final correctness, over paths that calibrate. */
export function aurocs(rows: readonly Labeled[]) {
  return aurocsOf(sumDomains(Object.values(calibrationCounts(rows).sets).flatMap((s) => Object.values(s))));
}

const aurocsOf = (d: DomainCounts) => ({
  auroc_pc: aurocOf(d.hist.pc),
  auroc_gc: aurocOf(d.hist.gc),
  auroc_fa: aurocOf(d.hist.fa),
  auroc_mean: aurocOf(d.hist.mean),
});

/** One set of counts calibrated (or evaluated at `fixed`, when given). */
function entry(
  counts: CalibrationCounts,
  d: DomainCounts,
  source: 'domain' | 'global',
  target: number,
  minReliable: number,
  fixed?: GridPoint,
  unmet: 'configured' | 'closest' = 'configured',
): DomainCalibration {
  const fallback = counts.thresholds;
  const best = fixed ? null : bestPoint(counts, d, target, minReliable);
  const closest = fixed || best || unmet !== 'closest' ? null : closestPoint(counts, d, minReliable);
  const at: GridPoint = fixed ??
    best ??
    closest ?? { tau_pc: fallback.tau_pc, tau_gc: fallback.tau_gc, tau_fa: fallback.tau_fa };
  const e = countAt(counts, d, at);
  const met = best !== null;
  const { gold, given, consensus, none } = d.labels;
  return {
    ...at,
    precision: e.n_reliable ? e.hit / e.n_reliable : null,
    precision_ci: wilson(e.hit, e.n_reliable),
    coverage: d.n_correct ? e.hit / d.n_correct : null,
    coverage_ci: wilson(e.hit, d.n_correct),
    n_labeled: d.n_labeled,
    n_correct: d.n_correct,
    n_reliable: e.n_reliable,
    labels: { gold, given, consensus, none },
    ...aurocsOf(d),
    source: met ? source : closest ? 'closest' : 'default',
    met_target: met,
  };
}

/**
 * Calibrates from counts (one shard's or merged): globally, then per domain with at least
 * `minDomainPaths` labeled paths. Time O(grid³) per domain, whatever the number of paths.
 */
export function calibrateFromCounts(counts: CalibrationCounts, opts: CalibrateOptions = {}): Calibration {
  const target = opts.targetPrecision ?? 0.95;
  const minDomain = opts.minDomainPaths ?? 200;
  const minReliable = opts.minReliable ?? 10;
  const unmet = opts.unmet ?? 'configured';
  const cal = Object.values(counts.sets.calibration);
  const useCal = cal.some((d) => d.n_labeled > 0);
  const set = useCal ? counts.sets.calibration : counts.sets.data;
  const fb = counts.thresholds;
  const notes: string[] = [];
  const global = entry(counts, sumDomains(Object.values(set)), 'global', target, minReliable, undefined, unmet);
  const { gold, given, consensus } = global.labels;
  notes.push(
    `calibrated on ${gold} gold and ${given} given labels of ${useCal ? 'the calibration inputs' : 'the labeled paths'}; ${consensus} consensus-labeled paths never calibrate`,
  );
  if (!global.met_target)
    notes.push(
      `global: no (tau_pc, tau_gc, tau_fa) on the grid has a Wilson lower bound of precision >= ${target} with at least ${minReliable} reliable paths; ${
        global.source === 'closest'
          ? `the one whose lower bound is highest (${f3(global.precision_ci[0])}), ${global.tau_pc}/${global.tau_gc}/${global.tau_fa}, taken (calibrate.unmet closest)`
          : `configured ${fb.tau_pc}/${fb.tau_gc}/${fb.tau_fa} kept`
      }`,
    );
  const domains: Record<string, DomainCalibration> = {};
  const names = [...new Set([...Object.keys(counts.sets.data), ...Object.keys(counts.sets.calibration)])].sort();
  for (const domain of names) {
    const d = set[domain] ?? sumDomains([]);
    if (d.n_labeled < minDomain) {
      const g = { tau_pc: global.tau_pc, tau_gc: global.tau_gc, tau_fa: global.tau_fa };
      domains[domain] = {
        ...entry(counts, d, 'global', target, minReliable, g),
        source: global.met_target ? 'global' : global.source,
        met_target: global.met_target,
      };
      notes.push(`${domain}: ${d.n_labeled} labeled paths < ${minDomain}, global thresholds used`);
      continue;
    }
    domains[domain] = entry(counts, d, 'domain', target, minReliable, undefined, unmet);
    if (!domains[domain].met_target)
      notes.push(
        `${domain}: no grid point meets the target; ${domains[domain].source === 'closest' ? 'the one whose precision lower bound is highest taken' : 'configured thresholds kept'}`,
      );
  }
  return {
    target_precision: target,
    rule: TARGET_RULE,
    min_reliable: minReliable,
    calibrated_on: useCal ? 'calibration inputs' : 'labeled data paths',
    global,
    domains,
    notes,
  };
}

/** Calibrates scored paths directly: `calibrateFromCounts(calibrationCounts(rows, opts), opts)`. */
export function calibrate(scored: readonly Labeled[], opts: CalibrateOptions = {}): Calibration {
  return calibrateFromCounts(calibrationCounts(scored, opts), opts);
}

/**
 * Thresholds in force per domain: the calibrated highs where calibration met its target or took the
 * closest point (`source` closest), else `base`; the lows stay `base`'s.
 */
export function thresholdsFor(cal: Pick<Calibration, 'global' | 'domains'>, base: Thresholds = DEFAULT_THRESHOLDS) {
  return (domain: string): Thresholds => {
    const c = cal.domains[domain] ?? cal.global;
    return c.met_target || c.source === 'closest'
      ? { ...base, tau_pc: c.tau_pc, tau_gc: c.tau_gc, tau_fa: c.tau_fa ?? base.tau_fa }
      : base;
  };
}

const f3 = (x: number) => x.toFixed(3);

/**
 * @module stages/calibrate/calibrate
 * Calibration (TRACE.md "Reliability regions"): picks `(tau_pc, tau_gc)` on a grid to maximise
 * the coverage of correct paths subject to precision(correct | reliable) >= target, per domain
 * with enough labeled paths, else globally; reports Wilson intervals and AUROCs of PC, GC, mean.
 */
import type { ScoredPath } from '../../schemas/index.ts';
import { auroc, wilson } from '../lib/metrics.ts';
import { DEFAULT_THRESHOLDS, regionOf, type Thresholds } from '../score/score.ts';

export interface DomainCalibration {
  tau_pc: number;
  tau_gc: number;
  precision: number | null;
  precision_ci: [number, number];
  coverage: number | null;
  coverage_ci: [number, number];
  n_labeled: number;
  n_correct: number;
  n_reliable: number;
  auroc_pc: number | null;
  auroc_gc: number | null;
  auroc_mean: number | null;
  source: 'domain' | 'global' | 'default';
  met_target: boolean;
}

export interface Calibration {
  target_precision: number;
  global: DomainCalibration;
  domains: Record<string, DomainCalibration>;
  /** Plain words for what happened, e.g. that no grid point met the target. */
  notes: string[];
}

export interface CalibrateOptions {
  targetPrecision?: number;
  minDomainPaths?: number;
  grid?: readonly number[];
  /** A threshold pair must make at least this many paths reliable to count (default 10): guards against precision 1 from 2 paths. */
  minReliable?: number;
  /** The low thresholds the filter will apply (default TRACE's 0.5 / 0.3): a path under either is unreliable whatever tau_pc, tau_gc say. */
  lows?: Pick<Thresholds, 'tau_pc_low' | 'tau_gc_low'>;
}

/** Default grid: 0, 0.05, ..., 1. */
export const DEFAULT_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

type Labeled = Pick<ScoredPath, 'PC' | 'GC' | 'final_correct' | 'domain'>;

type Lows = Pick<Thresholds, 'tau_pc_low' | 'tau_gc_low'>;
const DEFAULT_LOWS: Lows = { tau_pc_low: DEFAULT_THRESHOLDS.tau_pc_low, tau_gc_low: DEFAULT_THRESHOLDS.tau_gc_low };

/** Reliable exactly as `filter` will place it: the low thresholds apply too. */
const isReliable = (p: Labeled, tau_pc: number, tau_gc: number, lows: Lows) =>
  regionOf(p.PC, p.GC, { tau_pc, tau_gc, ...lows }) === 'reliable';

/** Precision and coverage of the reliable region at fixed thresholds, with Wilson intervals. */
export function evaluateThresholds(
  scored: readonly Labeled[],
  tau_pc: number,
  tau_gc: number,
  lows: Lows = DEFAULT_LOWS,
) {
  const labeled = scored.filter((p) => p.final_correct !== null);
  const correct = labeled.filter((p) => p.final_correct).length;
  const reliable = labeled.filter((p) => isReliable(p, tau_pc, tau_gc, lows));
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

/** AUROC of PC, GC and their mean (mean = PC when GC is null) as predictors of final correctness. */
export function aurocs(scored: readonly Labeled[]): {
  auroc_pc: number | null;
  auroc_gc: number | null;
  auroc_mean: number | null;
} {
  const y = scored.map((p) => p.final_correct);
  return {
    auroc_pc: auroc(
      scored.map((p) => p.PC),
      y,
    ),
    auroc_gc: auroc(
      scored.map((p) => p.GC),
      y,
    ),
    auroc_mean: auroc(
      scored.map((p) => (p.PC === null ? null : p.GC === null ? p.PC : (p.PC + p.GC) / 2)),
      y,
    ),
  };
}

/**
 * Reliable and reliable-correct counts at every grid pair, in O(paths + grid²): each path is
 * binned by how many grid values its PC and GC reach, and suffix sums give the counts.
 * Equal to `evaluateThresholds` at every pair (same comparisons as `regionOf`).
 */
export function gridCounts(labeled: readonly Labeled[], grid: readonly number[], lows: Lows = DEFAULT_LOWS) {
  const G = grid.length;
  const reach = (x: number) => grid.reduce((k, tau) => (x >= tau ? k + 1 : k), 0);
  const hist = Array.from({ length: G + 1 }, () => new Float64Array(G + 1));
  const hits = Array.from({ length: G + 1 }, () => new Float64Array(G + 1));
  let n_correct = 0;
  for (const p of labeled) {
    if (p.final_correct) n_correct++;
    if (p.PC === null || p.PC < lows.tau_pc_low || (p.GC !== null && p.GC < lows.tau_gc_low)) continue;
    const a = reach(p.PC);
    const b = p.GC === null ? G : reach(p.GC);
    hist[a]![b]!++;
    if (p.final_correct) hits[a]![b]!++;
  }
  // Suffix sums: R[i][j] = paths whose PC reaches more than i grid values and GC more than j.
  const suffix = (h: Float64Array[]) => {
    const r = Array.from({ length: G + 1 }, () => new Float64Array(G + 1));
    for (let i = G; i >= 0; i--)
      for (let j = G; j >= 0; j--)
        r[i]![j] =
          h[i]![j]! +
          (i < G ? r[i + 1]![j]! : 0) +
          (j < G ? r[i]![j + 1]! : 0) -
          (i < G && j < G ? r[i + 1]![j + 1]! : 0);
    return r;
  };
  const R = suffix(hist);
  const H = suffix(hits);
  /** Precision and coverage at grid indices (i, j), as `evaluateThresholds` gives them. */
  return (i: number, j: number) => {
    const n_reliable = R[i + 1]![j + 1]!;
    const hit = H[i + 1]![j + 1]!;
    return {
      n_labeled: labeled.length,
      n_correct,
      n_reliable,
      precision: n_reliable ? hit / n_reliable : null,
      precision_ci: wilson(hit, n_reliable),
      coverage: n_correct ? hit / n_correct : null,
      coverage_ci: wilson(hit, n_correct),
    };
  };
}

/** Best grid point for one set of paths; null when none reaches the target. */
function search(scored: readonly Labeled[], target: number, grid: readonly number[], minReliable: number, lows: Lows) {
  const sorted = [...grid].sort((a, b) => a - b);
  const at = gridCounts(scored, sorted, lows);
  let best: (ReturnType<typeof evaluateThresholds> & { tau_pc: number; tau_gc: number }) | null = null;
  for (const [i, tau_pc] of sorted.entries()) {
    for (const [j, tau_gc] of sorted.entries()) {
      const e = at(i, j);
      if (e.precision === null || e.precision < target || e.n_reliable < minReliable) continue;
      // Ties on coverage go to higher precision, then to the stricter thresholds (more margin).
      const dc = (e.coverage ?? 0) - (best?.coverage ?? 0);
      const dp = e.precision - (best?.precision ?? 0);
      const better =
        !best || dc > 0 || (dc === 0 && (dp > 0 || (dp === 0 && tau_pc + tau_gc > best.tau_pc + best.tau_gc)));
      if (better) best = { ...e, tau_pc, tau_gc };
    }
  }
  return best;
}

function calibrateSet(
  scored: readonly Labeled[],
  target: number,
  grid: readonly number[],
  minReliable: number,
  lows: Lows,
  source: 'domain' | 'global',
): DomainCalibration {
  const labeled = scored.filter((p) => p.final_correct !== null);
  const best = search(labeled, target, grid, minReliable, lows);
  const tau_pc = best?.tau_pc ?? DEFAULT_THRESHOLDS.tau_pc;
  const tau_gc = best?.tau_gc ?? DEFAULT_THRESHOLDS.tau_gc;
  const e = best ?? evaluateThresholds(labeled, tau_pc, tau_gc, lows);
  return {
    tau_pc,
    tau_gc,
    precision: e.precision,
    precision_ci: e.precision_ci,
    coverage: e.coverage,
    coverage_ci: e.coverage_ci,
    n_labeled: e.n_labeled,
    n_correct: e.n_correct,
    n_reliable: e.n_reliable,
    ...aurocs(labeled),
    source: best ? source : 'default',
    met_target: best !== null,
  };
}

/**
 * Calibrates thresholds globally and per domain. Time O(grid² × paths): 441 × n with the default grid.
 */
export function calibrate(scored: readonly Labeled[], opts: CalibrateOptions = {}): Calibration {
  const target = opts.targetPrecision ?? 0.95;
  const minDomain = opts.minDomainPaths ?? 200;
  const grid = opts.grid ?? DEFAULT_GRID;
  const minReliable = opts.minReliable ?? 10;
  const lows = opts.lows ?? DEFAULT_LOWS;
  const notes: string[] = [];
  const global = calibrateSet(scored, target, grid, minReliable, lows, 'global');
  if (!global.met_target)
    notes.push(
      `global: no (tau_pc, tau_gc) on the grid reaches precision ${target} with at least ${minReliable} reliable paths; defaults ${global.tau_pc}/${global.tau_gc} kept`,
    );
  const domains: Record<string, DomainCalibration> = {};
  for (const domain of [...new Set(scored.map((p) => p.domain))].sort()) {
    const rows = scored.filter((p) => p.domain === domain);
    const n = rows.filter((p) => p.final_correct !== null).length;
    if (n < minDomain) {
      const e = evaluateThresholds(rows, global.tau_pc, global.tau_gc, lows);
      domains[domain] = {
        ...global,
        ...e,
        ...aurocs(rows.filter((p) => p.final_correct !== null)),
        source: global.met_target ? 'global' : 'default',
      };
      notes.push(`${domain}: ${n} labeled paths < ${minDomain}, global thresholds used`);
      continue;
    }
    domains[domain] = calibrateSet(rows, target, grid, minReliable, lows, 'domain');
    if (!domains[domain].met_target) notes.push(`${domain}: no grid point reaches precision ${target}; defaults kept`);
  }
  return { target_precision: target, global, domains, notes };
}

/** Thresholds per domain from a calibration, for `score`'s `thresholds` option; low thresholds stay at their defaults (never above the high ones). */
export function thresholdsFor(cal: Calibration): (domain: string) => Thresholds {
  return (domain) => {
    const c = cal.domains[domain] ?? cal.global;
    return {
      tau_pc: c.tau_pc,
      tau_gc: c.tau_gc,
      tau_pc_low: Math.min(DEFAULT_THRESHOLDS.tau_pc_low, c.tau_pc),
      tau_gc_low: Math.min(DEFAULT_THRESHOLDS.tau_gc_low, c.tau_gc),
    };
  };
}

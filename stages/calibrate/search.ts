/**
 * @module stages/calibrate/search
 * The grid search under calibration: reliable and reliable-correct counts at every
 * (tau_pc, tau_gc, tau_fa) of the grid from a domain's cell counts by 3-D suffix sums, in
 * O(grid³) whatever the number of paths; and the 2-D (PC, GC) counts the report's frontier uses.
 */
import type { ScoredPath } from '../../schemas/index.ts';
import { wilson } from '../lib/metrics.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../score/regions.ts';
import type { CalibrationCounts, DomainCounts } from './counts.ts';

export interface GridPoint {
  tau_pc: number;
  tau_gc: number;
  tau_fa: number;
}

/** R[a][b][c] = paths whose PC, GC, FA reach at least a, b, c grid values: reliable at indices (a-1, b-1, c-1). */
function suffixSums(counts: CalibrationCounts, d: DomainCounts) {
  const A = counts.grid.length + 1;
  const C = counts.fa_grid.length + 1;
  const at = (a: number, b: number, c: number) => (a * A + b) * C + c;
  const n = new Float64Array(A * A * C);
  const hit = new Float64Array(A * A * C);
  for (const [key, [k, h]] of Object.entries(d.cells)) {
    const [a, b, c] = key.split(',').map(Number) as [number, number, number];
    n[at(a, b, c)]! += k;
    hit[at(a, b, c)]! += h;
  }
  for (const arr of [n, hit])
    for (let a = A - 1; a >= 0; a--)
      for (let b = A - 1; b >= 0; b--)
        for (let c = C - 1; c >= 0; c--) {
          // Inclusion-exclusion over the three axes.
          const v = (x: number, y: number, z: number) => (x < A && y < A && z < C ? arr[at(x, y, z)]! : 0);
          arr[at(a, b, c)] =
            arr[at(a, b, c)]! +
            v(a + 1, b, c) +
            v(a, b + 1, c) +
            v(a, b, c + 1) -
            v(a + 1, b + 1, c) -
            v(a + 1, b, c + 1) -
            v(a, b + 1, c + 1) +
            v(a + 1, b + 1, c + 1);
        }
  return (i: number, j: number, l: number) => ({
    n_reliable: n[at(i + 1, j + 1, l + 1)]!,
    hit: hit[at(i + 1, j + 1, l + 1)]!,
  });
}

/**
 * The grid point with the best coverage whose Wilson lower bound of precision reaches `target`
 * with at least `minReliable` reliable paths; ties go to higher precision, then to the stricter
 * thresholds (more margin). Null when none does.
 */
export function bestPoint(
  counts: CalibrationCounts,
  d: DomainCounts,
  target: number,
  minReliable: number,
): GridPoint | null {
  let best: (GridPoint & { hit: number; precision: number }) | null = null;
  for (const { tau_pc, tau_gc, tau_fa, n_reliable, hit } of gridPoints(counts, d)) {
    if (n_reliable < minReliable || wilson(hit, n_reliable)[0] < target) continue;
    const precision = hit / n_reliable;
    const better =
      !best ||
      hit > best.hit ||
      (hit === best.hit &&
        (precision > best.precision ||
          (precision === best.precision && tau_pc + tau_gc + tau_fa > best.tau_pc + best.tau_gc + best.tau_fa)));
    if (better) best = { tau_pc, tau_gc, tau_fa, hit, precision };
  }
  return best && { tau_pc: best.tau_pc, tau_gc: best.tau_gc, tau_fa: best.tau_fa };
}

/**
 * Where no grid point meets the target: the one whose Wilson lower bound of precision is highest,
 * with at least `minReliable` reliable paths (ties go to more reliable-correct paths, then to the
 * stricter thresholds). The point the labels show to come closest to the target; null when no
 * point has `minReliable` paths.
 */
export function closestPoint(counts: CalibrationCounts, d: DomainCounts, minReliable: number): GridPoint | null {
  let best: (GridPoint & { hit: number; lower: number }) | null = null;
  for (const { tau_pc, tau_gc, tau_fa, n_reliable, hit } of gridPoints(counts, d)) {
    if (n_reliable < minReliable) continue;
    const lower = wilson(hit, n_reliable)[0];
    const better =
      !best ||
      lower > best.lower ||
      (lower === best.lower &&
        (hit > best.hit || (hit === best.hit && tau_pc + tau_gc + tau_fa > best.tau_pc + best.tau_gc + best.tau_fa)));
    if (better) best = { tau_pc, tau_gc, tau_fa, hit, lower };
  }
  return best && { tau_pc: best.tau_pc, tau_gc: best.tau_gc, tau_fa: best.tau_fa };
}

/** Every point of the grids (tau_pc, tau_gc and tau_fa in grid order) with a domain's reliable and reliable-correct paths there. */
function* gridPoints(
  counts: CalibrationCounts,
  d: DomainCounts,
): Generator<GridPoint & { n_reliable: number; hit: number }> {
  const at = suffixSums(counts, d);
  for (const [i, tau_pc] of counts.grid.entries())
    for (const [j, tau_gc] of counts.grid.entries())
      for (const [l, tau_fa] of counts.fa_grid.entries()) yield { tau_pc, tau_gc, tau_fa, ...at(i, j, l) };
}

/** Reliable and reliable-correct paths of a domain at one grid point (which must be on the counts' grids). */
export function countAt(counts: CalibrationCounts, d: DomainCounts, p: GridPoint): { n_reliable: number; hit: number } {
  const i = counts.grid.indexOf(p.tau_pc);
  const j = counts.grid.indexOf(p.tau_gc);
  const l = counts.fa_grid.indexOf(p.tau_fa);
  if (i < 0 || j < 0 || l < 0)
    throw new Error(
      `thresholds ${JSON.stringify(p)} are not on the calibration grids (tau_pc/tau_gc ${JSON.stringify(counts.grid)}, tau_fa ${JSON.stringify(counts.fa_grid)})`,
    );
  return suffixSums(counts, d)(i, j, l);
}

type Plane = Pick<ScoredPath, 'PC' | 'GC' | 'final_correct'>;
type Lows = Pick<Thresholds, 'tau_pc_low' | 'tau_gc_low'>;
const DEFAULT_LOWS: Lows = { tau_pc_low: DEFAULT_THRESHOLDS.tau_pc_low, tau_gc_low: DEFAULT_THRESHOLDS.tau_gc_low };

/**
 * Reliable and reliable-correct counts at every (tau_pc, tau_gc) grid pair in the PC-GC plane
 * alone (FA not gated), in O(paths + grid²), for the report's precision-coverage frontier.
 */
export function gridCounts(labeled: readonly Plane[], grid: readonly number[], lows: Lows = DEFAULT_LOWS) {
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

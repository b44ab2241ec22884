/**
 * @module stages/calibrate/counts
 * Mergeable calibration counts: per problem role and domain, how many labeled paths reach each
 * cell of the (tau_pc, tau_gc, tau_fa) grid and how many of them are correct, with exact score
 * histograms for the AUROCs. A shard's counts are plain JSON; counts of shards add up.
 */
import type { LabelSource, ProblemRole, ScoredPath } from '../../schemas/index.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../score/regions.ts';

/** Paths a calibration reads: coordinates, label and where it came from, domain and problem role. */
export type Labeled = Pick<ScoredPath, 'PC' | 'GC' | 'FA' | 'final_correct' | 'domain' | 'label_source'> &
  Partial<Pick<ScoredPath, 'role'>>;

/** Positive and negative paths per exact score value (the key is the value's shortest decimal string). */
export type Histogram = Record<string, [positive: number, negative: number]>;

export interface DomainCounts {
  /** Every path by label source; only `gold` and `given` calibrate. */
  labels: Record<LabelSource, number>;
  /** Paths labeled `gold` or `given` with a known final correctness, and the correct ones among them. */
  n_labeled: number;
  n_correct: number;
  /**
   * Key `a,b,c`: the labeled paths whose PC, GC and FA reach exactly a, b and c values of the grids
   * (a null GC or FA reaches all), above the low thresholds: [paths, correct paths].
   */
  cells: Record<string, [number, number]>;
  /** Exact score histograms of the labeled paths, for AUROC. */
  hist: { pc: Histogram; gc: Histogram; fa: Histogram; mean: Histogram };
}

export interface CalibrationCounts {
  version: 1;
  /** Values tried for tau_pc and tau_gc, ascending; the configured ones are always among them. */
  grid: number[];
  /** Values tried for tau_fa, ascending. */
  fa_grid: number[];
  /** The configured thresholds: their lows always apply; their highs stand where no grid point meets the target. */
  thresholds: Thresholds;
  /** Per problem role, then domain. */
  sets: Record<ProblemRole, Record<string, DomainCounts>>;
}

export interface CalibrateOptions {
  /** Values tried for tau_pc and tau_gc (default 0, 0.05, ..., 1) and for tau_fa (the same by default). */
  grid?: readonly number[];
  faGrid?: readonly number[];
  /** The configured thresholds (default TRACE's). */
  thresholds?: Thresholds;
  targetPrecision?: number;
  minDomainPaths?: number;
  /** A grid point must make at least this many paths reliable to count (default 10). */
  minReliable?: number;
  /**
   * Where no grid point meets the target: keep the configured thresholds (`configured`, the
   * default here), or take the grid point whose precision lower bound is highest (`closest`).
   */
  unmet?: 'configured' | 'closest';
}

/** Default grid for every threshold: 0, 0.05, ..., 1. */
export const DEFAULT_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

const sortedWith = (grid: readonly number[], extra: number) => [...new Set([...grid, extra])].sort((a, b) => a - b);
const reach = (grid: readonly number[], x: number) => grid.reduce((k, tau) => (x >= tau ? k + 1 : k), 0);
const emptyLabels = (): Record<LabelSource, number> => ({ gold: 0, consensus: 0, given: 0, none: 0 });
/** Counts of a domain with no path yet. */
export const emptyDomain = (): DomainCounts => ({
  labels: emptyLabels(),
  n_labeled: 0,
  n_correct: 0,
  cells: {},
  hist: { pc: {}, gc: {}, fa: {}, mean: {} },
});

/** Whether a path's label may calibrate: gold or given, never consensus (TRACE.md "Calibration"). */
export const calibrates = (p: Pick<Labeled, 'label_source' | 'final_correct'>) =>
  (p.label_source === 'gold' || p.label_source === 'given') && p.final_correct !== null;

function add(h: Histogram, score: number | null, y: boolean): void {
  if (score === null || Number.isNaN(score)) return;
  const cell = (h[String(score)] ??= [0, 0]);
  cell[y ? 0 : 1]++;
}

/**
 * Counts one shard's (or a whole run's) scored paths. Memory: bounded by grid cells and distinct
 * score values per role and domain, not by paths; time O(paths × grid).
 */
export function calibrationCounts(rows: readonly Labeled[], opts: CalibrateOptions = {}): CalibrationCounts {
  const th = opts.thresholds ?? DEFAULT_THRESHOLDS;
  const grid = sortedWith(sortedWith(opts.grid ?? DEFAULT_GRID, th.tau_pc), th.tau_gc);
  const fa_grid = sortedWith(opts.faGrid ?? DEFAULT_GRID, th.tau_fa);
  const counts: CalibrationCounts = {
    version: 1,
    grid,
    fa_grid,
    thresholds: { ...th },
    sets: { data: {}, calibration: {} },
  };
  for (const p of rows) {
    const d = (counts.sets[p.role ?? 'data'][p.domain] ??= emptyDomain());
    d.labels[p.label_source]++;
    if (!calibrates(p)) continue;
    const y = p.final_correct === true;
    d.n_labeled++;
    if (y) d.n_correct++;
    add(d.hist.pc, p.PC, y);
    add(d.hist.gc, p.GC, y);
    add(d.hist.fa, p.FA, y);
    add(d.hist.mean, p.PC === null ? null : p.GC === null ? p.PC : (p.PC + p.GC) / 2, y);
    // Under a low threshold (or with no PC) a path is never reliable, whatever the high ones are.
    if (p.PC === null || p.PC < th.tau_pc_low || (p.GC !== null && p.GC < th.tau_gc_low)) continue;
    const key = `${reach(grid, p.PC)},${p.GC === null ? grid.length : reach(grid, p.GC)},${p.FA === null ? fa_grid.length : reach(fa_grid, p.FA)}`;
    const cell = (d.cells[key] ??= [0, 0]);
    cell[0]++;
    if (y) cell[1]++;
  }
  return counts;
}

/** Adds `b` into `a` (histograms and cells by key). */
function addDomain(a: DomainCounts, b: DomainCounts): DomainCounts {
  for (const [k, v] of Object.entries(b.labels) as [LabelSource, number][]) a.labels[k] += v;
  a.n_labeled += b.n_labeled;
  a.n_correct += b.n_correct;
  for (const [k, [n, hit]] of Object.entries(b.cells)) {
    const c = (a.cells[k] ??= [0, 0]);
    c[0] += n;
    c[1] += hit;
  }
  for (const kind of ['pc', 'gc', 'fa', 'mean'] as const)
    for (const [k, [pos, neg]] of Object.entries(b.hist[kind])) {
      const c = (a.hist[kind][k] ??= [0, 0]);
      c[0] += pos;
      c[1] += neg;
    }
  return a;
}

/** The sum of several domains' counts (a fresh object). */
export const sumDomains = (parts: Iterable<DomainCounts>): DomainCounts => {
  const out = emptyDomain();
  for (const p of parts) addDomain(out, p);
  return out;
};

/** Adds up the counts of several shards; they must come from the same grids and thresholds. */
export function mergeCalibrationCounts(parts: readonly CalibrationCounts[]): CalibrationCounts {
  const first = parts[0];
  if (!first) return calibrationCounts([]);
  const same = (c: CalibrationCounts) =>
    JSON.stringify([c.grid, c.fa_grid, c.thresholds]) === JSON.stringify([first.grid, first.fa_grid, first.thresholds]);
  const bad = parts.findIndex((c) => !same(c));
  if (bad >= 0)
    throw new Error(
      `calibration counts ${bad} were made with grids or thresholds ${JSON.stringify([parts[bad]!.grid, parts[bad]!.fa_grid, parts[bad]!.thresholds])}, expected those of counts 0: ${JSON.stringify([first.grid, first.fa_grid, first.thresholds])}`,
    );
  const out: CalibrationCounts = { ...first, thresholds: { ...first.thresholds }, sets: { data: {}, calibration: {} } };
  for (const c of parts)
    for (const role of ['data', 'calibration'] as const)
      for (const [domain, d] of Object.entries(c.sets[role])) addDomain((out.sets[role][domain] ??= emptyDomain()), d);
  return out;
}

/** AUROC (Mann-Whitney, ties 0.5) from an exact histogram; null when a class is empty. Equal to `auroc` on the same scores. */
export function aurocOf(h: Histogram): number | null {
  const groups = Object.entries(h)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  let pos = 0,
    neg = 0,
    u = 0;
  for (const [, [p, n]] of groups) {
    u += p * (neg + n / 2);
    pos += p;
    neg += n;
  }
  return pos === 0 || neg === 0 ? null : u / (pos * neg);
}

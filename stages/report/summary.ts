/**
 * @module stages/report/summary
 * The report's mergeable summary: counts only, so that a run of any size is summarised shard by
 * shard and the parts are added up. Its size is bounded by bins × domains × labels, never by paths.
 */
import type { Domain } from '../../schemas/problems.ts';

/** One scored path, reduced to what the report counts. `*_depth`: the node's depth in the ARS (null = not in the ARS). */
export interface ReportRow {
  problem_id: string;
  path_id: string;
  domain: Domain;
  mode: string;
  PC: number | null;
  GC: number | null;
  FA: number | null;
  region: string;
  category: string;
  final_correct: boolean | null;
  label_source: string;
  ffs_node: string | null;
  ffs_step: number;
  ffs_depth: number | null;
  silent_failure_node: string | null;
  silent_depth: number | null;
  k_drawn: number | null;
}

/**
 * Counts keyed by `|`-joined fields (plain JSON, keys sorted). Score axes are binned by
 * {@link reach}: the number of grid values 0, 0.05, …, 1 that the score is at least (1..21), `-`
 * for null, so a threshold on the grid splits the bins exactly as `x >= τ` splits the paths.
 * Label codes: `c`/`i` correct/incorrect by a gold or given label (the labels that may calibrate),
 * `C`/`I` by the final consensus, `u` unlabeled.
 */
export interface ReportSummary {
  /** Format and binning; merging refuses another. A string, so that the engine's generic merge (numbers add) keeps it. */
  format: typeof FORMAT;
  paths: number;
  /** `domain|mode|region|category|label_source|y` (y: `c`, `i` or `u`). */
  rows: Record<string, number>;
  /** `domain|pc|gc|fa|label` (binned scores, label code as above). */
  plane: Record<string, number>;
  /** Paths with a First Failure Step: `domain|mode|depth|ffs_step` (depth: `0`, `1`, …, `F`, or `?` off the ARS). */
  ffs: Record<string, number>;
  /** Silent failures: `domain|depth|node` (the earliest root cause). */
  silent: Record<string, number>;
  /** Paths by how many paths their problem drew: `mode|k_drawn` (`-` when not recorded). */
  k_drawn: Record<string, number>;
}

/** Bins per unit on PC, GC and FA: 0.05 wide, the calibration grid's step. */
export const BINS = 20;
export const FORMAT = 'tracepipe-report-summary/1, 20 bins per unit' as const;
/** The grid 0, 0.05, …, 1 that bins and thresholds are compared on. */
export const GRID: readonly number[] = Array.from({ length: BINS + 1 }, (_, i) => i / BINS);

/** How many grid values `x` is at least (0..21), with the same `>=` that `regionOf` and calibration use. */
export function reach(x: number): number {
  let i = Math.min(BINS, Math.max(0, Math.floor(x * BINS)));
  while (i < BINS && x >= GRID[i + 1]!) i++;
  while (i >= 0 && x < GRID[i]!) i--;
  return i + 1;
}

/** The grid index a threshold is compared at: the first grid value at least `tau` (exact for thresholds on the grid). */
export function gridIndex(tau: number): number {
  const i = GRID.findIndex((g) => g >= tau);
  return i < 0 ? GRID.length : i;
}

/** Whether a binned score passes `x >= tau`; a null score (`-`) is left out of the test, as TRACE.md says. */
export const passes = (bin: string, tau: number): boolean => bin === '-' || Number(bin) > gridIndex(tau);

/** Labels that may calibrate (TRACE.md): consensus labels would grade the consensus by itself. */
export const CALIBRATING_LABELS: readonly string[] = ['gold', 'given'];

const labelCode = (r: Pick<ReportRow, 'final_correct' | 'label_source'>) =>
  r.final_correct === null
    ? 'u'
    : CALIBRATING_LABELS.includes(r.label_source)
      ? r.final_correct
        ? 'c'
        : 'i'
      : r.final_correct
        ? 'C'
        : 'I';

/** Depth label of a node on the FFS and silent-failure axes: the final node is `F`, a node off the ARS `?`. */
export const depthLabel = (node: string, depth: number | null) =>
  node === 'F' ? 'F' : depth === null ? '?' : String(depth);

type Tables = 'rows' | 'plane' | 'ffs' | 'silent' | 'k_drawn';
const TABLES: readonly Tables[] = ['rows', 'plane', 'ffs', 'silent', 'k_drawn'];

// Counts accumulate in Maps (fast with many keys) and become plain objects with sorted keys once, at the end.
type Acc = Record<Tables, Map<string, number>>;
const acc = (): Acc => ({ rows: new Map(), plane: new Map(), ffs: new Map(), silent: new Map(), k_drawn: new Map() });
const bump = (m: Map<string, number>, key: string, n = 1) => m.set(key, (m.get(key) ?? 0) + n);
// A score that is not a finite number (none should come) counts as absent rather than inventing a bin.
const bin = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : String(reach(x)));
const sortedObject = (m: Map<string, number>) =>
  Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const finish = (paths: number, a: Acc): ReportSummary => ({
  format: FORMAT,
  paths,
  rows: sortedObject(a.rows),
  plane: sortedObject(a.plane),
  ffs: sortedObject(a.ffs),
  silent: sortedObject(a.silent),
  k_drawn: sortedObject(a.k_drawn),
});

/** A summary with no path. */
export const emptySummary = (): ReportSummary => finish(0, acc());

/** Summarises one set of rows (a shard, or a whole small run). Memory: the summary's counts only; time O(rows). */
export function summarizeReport(rows: readonly ReportRow[]): ReportSummary {
  const a = acc();
  for (const r of rows) {
    const y = r.final_correct === null ? 'u' : r.final_correct ? 'c' : 'i';
    bump(a.rows, `${r.domain}|${r.mode}|${r.region}|${r.category}|${r.label_source}|${y}`);
    bump(a.plane, `${r.domain}|${bin(r.PC)}|${bin(r.GC)}|${bin(r.FA)}|${labelCode(r)}`);
    if (r.ffs_node !== null) bump(a.ffs, `${r.domain}|${r.mode}|${depthLabel(r.ffs_node, r.ffs_depth)}|${r.ffs_step}`);
    if (r.silent_failure_node !== null)
      bump(a.silent, `${r.domain}|${depthLabel(r.silent_failure_node, r.silent_depth)}|${r.silent_failure_node}`);
    bump(a.k_drawn, `${r.mode}|${r.k_drawn ?? '-'}`);
  }
  return finish(rows.length, a);
}

/**
 * Adds summaries up: associative and commutative, and the merge of the summaries of parts equals
 * the summary of their union (as does stages/lib/summary's generic `mergeSummaries`, up to key
 * order). Refuses a part of another format or binning, naming it. Time O(total keys).
 */
export function mergeReportSummaries(parts: readonly ReportSummary[]): ReportSummary {
  const a = acc();
  let paths = 0;
  parts.forEach((p, i) => {
    if (p.format !== FORMAT)
      throw new Error(
        `report summary ${i + 1} of ${parts.length} has format ${JSON.stringify(p.format)}; expected ${FORMAT}`,
      );
    paths += p.paths;
    for (const k of TABLES) for (const [key, n] of Object.entries(p[k])) bump(a[k], key, n);
  });
  return finish(paths, a);
}

const parsed = new WeakMap<Record<string, number>, [string[], number][]>();

/** The entries of one count table with their keys split into fields (split once per table and reused: summaries are never mutated). */
export function counts(m: Record<string, number>, fields: number): readonly [string[], number][] {
  let out = parsed.get(m);
  if (!out) {
    out = Object.entries(m).map(([key, n]) => {
      const parts = key.split('|');
      // The last field (a node id in `silent`) may itself hold a `|`.
      return [[...parts.slice(0, fields - 1), parts.slice(fields - 1).join('|')], n];
    });
    parsed.set(m, out);
  }
  return out;
}

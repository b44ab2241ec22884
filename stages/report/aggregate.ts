/**
 * @module stages/report/aggregate
 * Pure aggregations behind each chart of the report: rows in, small tables out.
 */
import { wilson } from '../lib/metrics.ts';
import { DEFAULT_GRID, gridCounts } from '../calibrate/calibrate.ts';
import type { ReportPath } from './data.ts';
import type { Thresholds } from '../score/score.ts';

const countBy = <T>(rows: readonly T[], key: (r: T) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return m;
};

export const correctness = (y: boolean | null): 'correct' | 'incorrect' | 'unlabeled' =>
  y === null ? 'unlabeled' : y ? 'correct' : 'incorrect';

/** A deterministic offset in [-1, 1) from a string (FNV-1a), so the jittered plane is the same on every run. */
export function jitterOf(id: string, salt: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${salt}:${id}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return (h >>> 0) / 2 ** 31 - 1;
}

export interface PlanePoint {
  PC: number;
  GC: number;
  correctness: string;
  n: number;
}

/**
 * Points of the PC-GC plane: one jittered point per path up to `maxPoints`, else one point per
 * 0.05-wide bin and correctness with its count (memory stays bounded by the 21 x 21 x 3 bins).
 */
export function planePoints(
  paths: readonly ReportPath[],
  maxPoints = 3000,
): { points: PlanePoint[]; binned: boolean; missing: number } {
  const placed = paths.filter((p): p is ReportPath & { PC: number; GC: number } => p.PC !== null && p.GC !== null);
  const missing = paths.length - placed.length;
  if (placed.length <= maxPoints) {
    const j = (v: number, id: string, salt: string) => Math.min(1.02, Math.max(-0.02, v + 0.018 * jitterOf(id, salt)));
    return {
      points: placed.map((p) => ({
        PC: j(p.PC, p.path_id, 'pc'),
        GC: j(p.GC, p.path_id, 'gc'),
        correctness: correctness(p.final_correct),
        n: 1,
      })),
      binned: false,
      missing,
    };
  }
  const bins = countBy(
    placed,
    (p) => `${Math.round(p.PC * 20)}|${Math.round(p.GC * 20)}|${correctness(p.final_correct)}`,
  );
  const shift: Record<string, number> = { correct: -0.012, incorrect: 0.012, unlabeled: 0 };
  const points = [...bins].map(([k, n]) => {
    const [pc, gc, c] = k.split('|') as [string, string, string];
    return { PC: Number(pc) / 20 + (shift[c] ?? 0), GC: Number(gc) / 20, correctness: c, n };
  });
  return { points, binned: true, missing };
}

/** Paths per region and correctness (the plane's table). */
export function regionTable(
  paths: readonly ReportPath[],
): { region: string; correct: number; incorrect: number; unlabeled: number }[] {
  const by = countBy(paths, (p) => `${p.region}|${correctness(p.final_correct)}`);
  return ['reliable', 'uncertain', 'unreliable'].map((region) => ({
    region,
    correct: by.get(`${region}|correct`) ?? 0,
    incorrect: by.get(`${region}|incorrect`) ?? 0,
    unlabeled: by.get(`${region}|unlabeled`) ?? 0,
  }));
}

export interface FrontierPoint {
  domain: string;
  coverage: number;
  precision: number;
  tau_pc: number;
  tau_gc: number;
}

/**
 * Precision against coverage per domain (and `all`): every (tau_pc, tau_gc) of the grid is
 * evaluated and the Pareto frontier kept (no other pair has both higher coverage and higher precision).
 * Time O(grid^2 x paths).
 */
export function precisionCoverage(
  paths: readonly ReportPath[],
  grid: readonly number[] = DEFAULT_GRID,
  lows?: Pick<Thresholds, 'tau_pc_low' | 'tau_gc_low'>,
): FrontierPoint[] {
  const domains = ['all', ...[...new Set(paths.map((p) => p.domain))].sort()];
  return domains.flatMap((domain) => {
    const rows = domain === 'all' ? paths : paths.filter((p) => p.domain === domain);
    const pts: FrontierPoint[] = [];
    const sorted = [...grid].sort((a, b) => a - b);
    const at = gridCounts(
      rows.filter((p) => p.final_correct !== null),
      sorted,
      lows,
    );
    for (const [i, tau_pc] of sorted.entries())
      for (const [j, tau_gc] of sorted.entries()) {
        const e = at(i, j);
        if (e.precision !== null && e.coverage !== null)
          pts.push({ domain, coverage: e.coverage, precision: e.precision, tau_pc, tau_gc });
      }
    pts.sort(
      (a, b) => b.coverage - a.coverage || b.precision - a.precision || a.tau_pc - b.tau_pc || a.tau_gc - b.tau_gc,
    );
    let best = -1;
    return pts.filter((p) => (p.precision > best ? ((best = p.precision), true) : false));
  });
}

/** Precision and coverage of the regions actually assigned (the `region` column), with 95% Wilson intervals. */
export function regionPrecision(paths: readonly ReportPath[]) {
  const labeled = paths.filter((p) => p.final_correct !== null);
  const correct = labeled.filter((p) => p.final_correct).length;
  const reliable = labeled.filter((p) => p.region === 'reliable');
  const hit = reliable.filter((p) => p.final_correct).length;
  return {
    n_labeled: labeled.length,
    n_reliable: reliable.length,
    precision: reliable.length ? hit / reliable.length : null,
    precision_ci: wilson(hit, reliable.length),
    coverage: correct ? hit / correct : null,
    coverage_ci: wilson(hit, correct),
  };
}

/** Label of a node depth on the FFS and silent-failure axes: the final node is `F`, unknown nodes `?`. */
export const depthLabel = (node: string, depth: number | null) =>
  node === 'F' ? 'F' : depth === null ? '?' : String(depth);

/** Sorts depth labels: 0, 1, 2, ..., then F, then ?. */
export const depthOrder = (labels: Iterable<string>) => [...new Set(labels)].sort((a, b) => rank(a) - rank(b));
const rank = (l: string) => (l === 'F' ? 1e6 : l === '?' ? 1e6 + 1 : Number(l));

/** First Failure Steps per node depth and domain. */
export function ffsByDepth(paths: readonly ReportPath[]): { depth: string; domain: string; paths: number }[] {
  const by = countBy(
    paths.filter((p) => p.ffs_node !== null),
    (p) => `${depthLabel(p.ffs_node!, p.ffs_depth)}|${p.domain}`,
  );
  return [...by]
    .map(([k, n]) => {
      const [depth, domain] = k.split('|') as [string, string];
      return { depth, domain, paths: n };
    })
    .sort((a, b) => rank(a.depth) - rank(b.depth) || a.domain.localeCompare(b.domain));
}

/** Silent failures (correct final answer, wrong intermediate node) per domain and node depth. */
export function silentFailures(paths: readonly ReportPath[]): { domain: string; depth: string; paths: number }[] {
  const by = countBy(
    paths.filter((p) => p.silent_failure_node !== null),
    (p) => `${p.domain}|${depthLabel(p.silent_failure_node!, p.silent_depth)}`,
  );
  return [...by]
    .map(([k, n]) => {
      const [domain, depth] = k.split('|') as [string, string];
      return { domain, depth, paths: n };
    })
    .sort((a, b) => a.domain.localeCompare(b.domain) || rank(a.depth) - rank(b.depth));
}

/** Per domain: correct paths, silent failures among them, their share, and the node most often at fault. */
export function silentTable(
  paths: readonly ReportPath[],
): { domain: string; correct: number; silent: number; rate: number | null; top_node: string | null }[] {
  return [...new Set(paths.map((p) => p.domain))].sort().map((domain) => {
    const rows = paths.filter((p) => p.domain === domain);
    const correct = rows.filter((p) => p.final_correct === true).length;
    const silent = rows.filter((p) => p.silent_failure_node !== null);
    const top = [...countBy(silent, (p) => p.silent_failure_node!)].sort(
      (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
    )[0];
    return {
      domain,
      correct,
      silent: silent.length,
      rate: correct ? silent.length / correct : null,
      top_node: top ? top[0] : null,
    };
  });
}

export interface ModeAccuracy {
  domain: string;
  mode: string;
  labeled: number;
  correct: number;
  accuracy: number | null;
  lo: number;
  hi: number;
}

/** Final-answer accuracy of ars-guided against free paths per domain (and `all`), with 95% Wilson intervals. */
export function modeAccuracy(paths: readonly ReportPath[]): ModeAccuracy[] {
  const domains = ['all', ...[...new Set(paths.map((p) => p.domain))].sort()];
  const modes = [...new Set(paths.map((p) => p.mode))].sort();
  return domains
    .flatMap((domain) =>
      modes.map((mode) => {
        const rows = paths.filter(
          (p) => (domain === 'all' || p.domain === domain) && p.mode === mode && p.final_correct !== null,
        );
        const correct = rows.filter((p) => p.final_correct).length;
        const [lo, hi] = wilson(correct, rows.length);
        return {
          domain,
          mode,
          labeled: rows.length,
          correct,
          accuracy: rows.length ? correct / rows.length : null,
          lo,
          hi,
        };
      }),
    )
    .filter((r) => r.labeled > 0);
}

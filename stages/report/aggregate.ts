/**
 * @module stages/report/aggregate
 * The small tables behind each chart of the report, all read from the merged summary (never
 * from paths): time and memory O(summary size).
 */
import { wilson } from '../lib/metrics.ts';
import { CALIBRATING_LABELS, GRID, counts, passes, type ReportSummary } from './summary.ts';
import type { ThresholdSet, ThresholdsInForce } from './data.ts';

export const correctness = (y: string): 'correct' | 'incorrect' | 'unlabeled' =>
  y === 'c' || y === 'C' ? 'correct' : y === 'i' || y === 'I' ? 'incorrect' : 'unlabeled';

/** Which labels grade precision and accuracy: gold or given ones when the run has any, else the final consensus (which measures agreement, not correctness). */
export type Grading = 'gold or given' | 'consensus';

/** The labels a run's precision and accuracy are graded by, or null when no path is labeled. */
export function grading(s: ReportSummary): Grading | null {
  let consensus = false;
  for (const [[, , , , source, y], n] of counts(s.rows, 6)) {
    if (y === 'u' || !n) continue;
    if (CALIBRATING_LABELS.includes(source!)) return 'gold or given';
    consensus = true;
  }
  return consensus ? 'consensus' : null;
}

/** Whether a row's label counts under a grading. */
const graded = (source: string, y: string, g: Grading | null) =>
  y !== 'u' && g !== null && (g === 'consensus') !== CALIBRATING_LABELS.includes(source);

/** Paths per label source (gold, given, consensus, none). */
export function labelCounts(s: ReportSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [[, , , , source], n] of counts(s.rows, 6)) out[source!] = (out[source!] ?? 0) + n;
  return out;
}

/** Paths per region and correctness (the plane's table). */
export function regionTable(
  s: ReportSummary,
): { region: string; correct: number; incorrect: number; unlabeled: number }[] {
  const t = new Map(
    ['reliable', 'uncertain', 'unreliable'].map((r) => [r, { correct: 0, incorrect: 0, unlabeled: 0 }]),
  );
  for (const [[, , region, , , y], n] of counts(s.rows, 6)) {
    const row = t.get(region!);
    if (row) row[correctness(y!)] += n;
  }
  return [...t].map(([region, c]) => ({ region, ...c }));
}

/** Precision and coverage of the regions actually assigned (the `region` column) in one domain or `all`, with 95% Wilson intervals. */
export function regionPrecision(s: ReportSummary, domain: string, g: Grading | null) {
  let labeled = 0;
  let correct = 0;
  let reliable = 0;
  let hit = 0;
  for (const [[d, , region, , source, y], n] of counts(s.rows, 6)) {
    if ((domain !== 'all' && d !== domain) || !graded(source!, y!, g)) continue;
    labeled += n;
    if (y === 'c') correct += n;
    if (region === 'reliable') reliable += n;
    if (region === 'reliable' && y === 'c') hit += n;
  }
  return {
    n_labeled: labeled,
    n_reliable: reliable,
    precision: reliable ? hit / reliable : null,
    precision_ci: wilson(hit, reliable),
    coverage: correct ? hit / correct : null,
    coverage_ci: wilson(hit, correct),
  };
}

/** Domains present in the summary, sorted. */
export const domainsOf = (s: ReportSummary) => [...new Set([...counts(s.rows, 6)].map(([[d]]) => d!))].sort();

/** FA against the gate of its domain: `pass` (FA ≥ τ_fa), `fail`, or `none` (no FA: K = 1, left out of the test). */
export type FaStatus = 'pass' | 'fail' | 'none';
const faStatus = (fa: string, th: ThresholdSet): FaStatus =>
  fa === '-' ? 'none' : passes(fa, th.tau_fa) ? 'pass' : 'fail';
const thOf = (t: ThresholdsInForce, domain: string) => t.domains[domain] ?? t.global;

export interface PlaneCell {
  /** Lower edges of the cell's 0.05 bins. */
  PC: number;
  GC: number;
  correctness: 'correct' | 'incorrect' | 'unlabeled';
  fa: FaStatus;
  n: number;
}

/**
 * The PC–GC plane as bins: one cell per (PC bin, GC bin, correctness, FA status against each
 * path's own domain's τ_fa), summed over domains; paths without PC or GC are counted in `missing`.
 * `fa` counts every path (drawn or not) by FA status and correctness, for the table beside the chart.
 */
export function planeCells(s: ReportSummary, t: ThresholdsInForce) {
  const cells = new Map<string, PlaneCell>();
  const fa: Record<FaStatus, { correct: number; incorrect: number; unlabeled: number }> = {
    pass: { correct: 0, incorrect: 0, unlabeled: 0 },
    fail: { correct: 0, incorrect: 0, unlabeled: 0 },
    none: { correct: 0, incorrect: 0, unlabeled: 0 },
  };
  let missing = 0;
  for (const [[domain, pc, gc, f, y], n] of counts(s.plane, 5)) {
    const status = faStatus(f!, thOf(t, domain!));
    const c = correctness(y!);
    fa[status][c] += n;
    if (pc === '-' || gc === '-') {
      missing += n;
      continue;
    }
    const key = `${pc}|${gc}|${c}|${status}`;
    const cell = cells.get(key) ?? {
      PC: GRID[Number(pc) - 1]!,
      GC: GRID[Number(gc) - 1]!,
      correctness: c,
      fa: status,
      n: 0,
    };
    cell.n += n;
    cells.set(key, cell);
  }
  const order = (a: PlaneCell, b: PlaneCell) =>
    a.PC - b.PC || a.GC - b.GC || a.correctness.localeCompare(b.correctness);
  return { cells: [...cells.values()].sort(order), missing, fa };
}

/** Sorts depth labels: 0, 1, 2, ..., then F, then ?. */
export const depthOrder = (labels: Iterable<string>) => [...new Set(labels)].sort((a, b) => rank(a) - rank(b));
const rank = (l: string) => (l === 'F' ? 1e6 : l === '?' ? 1e6 + 1 : Number(l));

/** Adds counts up under a new key. */
function regroup(entries: Iterable<[string[], number]>, key: (f: string[]) => string | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const [f, n] of entries) {
    const k = key(f);
    if (k !== null) m.set(k, (m.get(k) ?? 0) + n);
  }
  return m;
}

/** First Failure Steps per node depth and domain. */
export function ffsByDepth(s: ReportSummary): { depth: string; domain: string; paths: number }[] {
  return [...regroup(counts(s.ffs, 4), ([d, , depth]) => `${depth}|${d}`)]
    .map(([k, paths]) => {
      const [depth, domain] = k.split('|') as [string, string];
      return { depth, domain, paths };
    })
    .sort((a, b) => rank(a.depth) - rank(b.depth) || a.domain.localeCompare(b.domain));
}

/** First Failure Steps per step index (`ffs_step`, 0-based) and mode. */
export function ffsBySteps(s: ReportSummary): { step: number; mode: string; paths: number }[] {
  return [...regroup(counts(s.ffs, 4), ([, mode, , step]) => `${step}|${mode}`)]
    .map(([k, paths]) => {
      const [step, mode] = k.split('|') as [string, string];
      return { step: Number(step), mode, paths };
    })
    .sort((a, b) => a.step - b.step || a.mode.localeCompare(b.mode));
}

/** Silent failures (correct final answer, wrong intermediate node) per domain and node depth. */
export function silentFailures(s: ReportSummary): { domain: string; depth: string; paths: number }[] {
  return [...regroup(counts(s.silent, 3), ([d, depth]) => `${d}|${depth}`)]
    .map(([k, paths]) => {
      const [domain, depth] = k.split('|') as [string, string];
      return { domain, depth, paths };
    })
    .sort((a, b) => a.domain.localeCompare(b.domain) || rank(a.depth) - rank(b.depth));
}

/** Per domain: correct paths, silent failures among them, their share, and the node most often at fault. */
export function silentTable(
  s: ReportSummary,
): { domain: string; correct: number; silent: number; rate: number | null; top_node: string | null }[] {
  const correct = regroup(counts(s.rows, 6), ([d, , , , , y]) => (y === 'c' ? d! : null));
  const byNode = regroup(counts(s.silent, 3), ([d, , node]) => `${d}|${node}`);
  return domainsOf(s).map((domain) => {
    const nodes = [...byNode]
      .filter(([k]) => k.startsWith(`${domain}|`))
      .map(([k, n]) => [k.slice(domain.length + 1), n] as const);
    const silent = nodes.reduce((a, [, n]) => a + n, 0);
    const top = [...nodes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    const c = correct.get(domain) ?? 0;
    return { domain, correct: c, silent, rate: c ? silent / c : null, top_node: top ? top[0] : null };
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

/** Final-answer accuracy of ars-guided against free paths per domain (and `all`), graded by `g`, with 95% Wilson intervals. */
export function modeAccuracy(s: ReportSummary, g: Grading | null): ModeAccuracy[] {
  const by = new Map<string, { labeled: number; correct: number }>();
  for (const [[d, mode, , , source, y], n] of counts(s.rows, 6)) {
    if (!graded(source!, y!, g)) continue;
    for (const domain of ['all', d!]) {
      const e = by.get(`${domain}|${mode}`) ?? { labeled: 0, correct: 0 };
      e.labeled += n;
      if (y === 'c') e.correct += n;
      by.set(`${domain}|${mode}`, e);
    }
  }
  return [...by]
    .map(([k, { labeled, correct }]) => {
      const [domain, mode] = k.split('|') as [string, string];
      const [lo, hi] = wilson(correct, labeled);
      return { domain, mode, labeled, correct, accuracy: labeled ? correct / labeled : null, lo, hi };
    })
    .sort(
      (a, b) =>
        Number(b.domain === 'all') - Number(a.domain === 'all') ||
        a.domain.localeCompare(b.domain) ||
        a.mode.localeCompare(b.mode),
    );
}

/** Paths per mode and `k_drawn` (how many paths their problem drew); `-` when not recorded. */
export function kDrawn(s: ReportSummary): { mode: string; k: string; paths: number }[] {
  return [...counts(s.k_drawn, 2)]
    .map(([[mode, k], paths]) => ({ mode: mode!, k: k!, paths }))
    .sort(
      (a, b) => a.mode.localeCompare(b.mode) || (a.k === '-' ? 1e9 : Number(a.k)) - (b.k === '-' ? 1e9 : Number(b.k)),
    );
}

/** Totals for the page's headline numbers; accuracy is graded by `g`. */
export function totals(s: ReportSummary, g: Grading | null) {
  let labeled = 0;
  let correct = 0;
  let reliableCorrect = 0;
  for (const [[, , , category, source, y], n] of counts(s.rows, 6)) {
    if (graded(source!, y!, g)) labeled += n;
    if (graded(source!, y!, g) && y === 'c') correct += n;
    if (category === 'reliable-correct') reliableCorrect += n;
  }
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  return {
    paths: s.paths,
    grading: g,
    accuracy: labeled ? correct / labeled : null,
    reliableCorrect,
    ffs: sum(s.ffs),
    silent: sum(s.silent),
  };
}

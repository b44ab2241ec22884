/**
 * @module stages/report/frontier
 * Precision against coverage per domain over the whole (τ_pc, τ_gc, τ_fa) grid, from the
 * summary's binned plane: a 22³ histogram per domain and suffix sums give every grid triple in
 * O(cells + 22³), whatever the number of paths.
 */
import { GRID, counts, gridIndex, type ReportSummary } from './summary.ts';
import type { Grading } from './aggregate.ts';
import type { ThresholdSet, ThresholdsInForce } from './data.ts';

export interface FrontierPoint {
  domain: string;
  coverage: number;
  precision: number;
  tau_pc: number;
  tau_gc: number;
  tau_fa: number;
}

const S = GRID.length + 1; // bin values 0..21 per axis
const at = (a: number, b: number, c: number) => (a * S + b) * S + c;

/** In-place suffix sums along the three axes: afterwards h[a, b, c] = the sum of the cells at or above (a, b, c). */
function suffix3(h: Float64Array): void {
  for (let a = 0; a < S; a++)
    for (let b = 0; b < S; b++) for (let c = S - 2; c >= 0; c--) h[at(a, b, c)]! += h[at(a, b, c + 1)]!;
  for (let a = 0; a < S; a++)
    for (let c = 0; c < S; c++) for (let b = S - 2; b >= 0; b--) h[at(a, b, c)]! += h[at(a, b + 1, c)]!;
  for (let b = 0; b < S; b++)
    for (let c = 0; c < S; c++) for (let a = S - 2; a >= 0; a--) h[at(a, b, c)]! += h[at(a + 1, b, c)]!;
}

/**
 * Every (τ_pc, τ_gc, τ_fa) of the 0.05 grid is evaluated against the labels `g` selects, with each
 * domain's low thresholds as filter applies them, and the Pareto frontier kept (no other triple
 * has both higher coverage and higher precision). Thresholds off the grid are compared at the
 * next grid value up.
 */
export function precisionCoverage(s: ReportSummary, t: ThresholdsInForce, g: Grading | null): FrontierPoint[] {
  if (g === null) return [];
  const domains = [...new Set([...counts(s.plane, 5)].map(([[d]]) => d!))].sort();
  const want = (y: string) => (g === 'gold or given' ? y === 'c' || y === 'i' : y === 'C' || y === 'I');
  return ['all', ...domains].flatMap((domain) =>
    frontierOf(s, domain, domain === 'all' ? t.global : (t.domains[domain] ?? t.global), want),
  );
}

function frontierOf(
  s: ReportSummary,
  domain: string,
  lows: ThresholdSet,
  want: (y: string) => boolean,
): FrontierPoint[] {
  const hist = new Float64Array(S * S * S);
  const hits = new Float64Array(S * S * S);
  let nCorrect = 0;
  const pcLow = gridIndex(lows.tau_pc_low);
  const gcLow = gridIndex(lows.tau_gc_low);
  for (const [[d, pc, gc, fa, y], n] of counts(s.plane, 5)) {
    if ((domain !== 'all' && d !== domain) || !want(y!)) continue;
    const correct = y === 'c' || y === 'C';
    if (correct) nCorrect += n;
    // A null PC is uncertain, never reliable; under a low threshold is unreliable whatever the high ones say.
    if (pc === '-' || Number(pc) <= pcLow || (gc !== '-' && Number(gc) <= gcLow)) continue;
    // A null GC or FA is left out of its test: it reaches every grid value.
    const i = at(Number(pc), gc === '-' ? S - 1 : Number(gc), fa === '-' ? S - 1 : Number(fa));
    hist[i]! += n;
    if (correct) hits[i]! += n;
  }
  if (!nCorrect) return [];
  suffix3(hist);
  suffix3(hits);
  const pts: FrontierPoint[] = [];
  for (const [i, tau_pc] of GRID.entries())
    for (const [j, tau_gc] of GRID.entries())
      for (const [l, tau_fa] of GRID.entries()) {
        // Reliable at (i, j, l) = bins that reach beyond each index: PC >= τ_pc, GC >= τ_gc, FA >= τ_fa.
        const reliable = hist[at(i + 1, j + 1, l + 1)]!;
        if (!reliable || !nCorrect) continue;
        const hit = hits[at(i + 1, j + 1, l + 1)]!;
        pts.push({ domain, coverage: hit / nCorrect, precision: hit / reliable, tau_pc, tau_gc, tau_fa });
      }
  pts.sort(
    (a, b) =>
      b.coverage - a.coverage ||
      b.precision - a.precision ||
      a.tau_pc - b.tau_pc ||
      a.tau_gc - b.tau_gc ||
      a.tau_fa - b.tau_fa,
  );
  let best = -1;
  return pts.filter((p) => (p.precision > best ? ((best = p.precision), true) : false));
}

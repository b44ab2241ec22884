/**
 * @module stages/lib/metrics
 * Small statistics the evaluation commands report: AUROC (Mann-Whitney, ties 0.5),
 * Wilson score intervals, a seeded percentile bootstrap, and ProcessBench's F1.
 */
import { quantileSorted } from 'simple-statistics';

/**
 * Area under the ROC curve of `scores` as a predictor of `labels` (true = positive).
 * Pairs where either side is null are dropped; tied scores count 0.5; null when a class is empty.
 * Time O(n log n), memory O(n).
 */
export function auroc(scores: readonly (number | null)[], labels: readonly (boolean | null)[]): number | null {
  if (scores.length !== labels.length)
    throw new Error(`auroc expected as many labels as scores, got ${labels.length} labels for ${scores.length} scores`);
  const rows: { s: number; y: boolean }[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    const y = labels[i];
    if (s === null || s === undefined || y === null || y === undefined || Number.isNaN(s)) continue;
    rows.push({ s, y });
  }
  const nPos = rows.filter((r) => r.y).length;
  const nNeg = rows.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  rows.sort((a, b) => a.s - b.s);
  // Sum of positive ranks with average ranks for ties (Mann-Whitney U).
  let rankSumPos = 0;
  for (let i = 0; i < rows.length;) {
    let j = i;
    while (j < rows.length && rows[j]!.s === rows[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (rows[k]!.y) rankSumPos += avgRank;
    i = j;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Wilson score interval for `k` successes out of `n`; `[0, 1]` when `n` is 0. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  if (k < 0 || k > n) throw new Error(`wilson expected 0 <= k <= n, got k=${k}, n=${n}`);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A seeded uniform generator on [0, 1) (mulberry32), so intervals are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile bootstrap interval of `stat` over `items` resampled with replacement.
 * Runs `rounds` evaluations of `stat` (default 1000); resamples whose statistic is null are skipped.
 */
export function bootstrap<T>(
  items: readonly T[],
  stat: (sample: T[]) => number | null,
  opts: { rounds?: number; seed?: number; level?: number } = {},
): [number, number] | null {
  const rounds = opts.rounds ?? 1000;
  const level = opts.level ?? 0.95;
  const rand = seededRandom(opts.seed ?? 1);
  if (items.length === 0) return null;
  const values: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const sample: T[] = [];
    for (let i = 0; i < items.length; i++) sample.push(items[Math.floor(rand() * items.length)]!);
    const v = stat(sample);
    if (v !== null && !Number.isNaN(v)) values.push(v);
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return [quantileSorted(values, alpha), quantileSorted(values, 1 - alpha)];
}

/** ProcessBench's metric (×100): accuracy on erroneous samples, on correct samples (label -1), and their harmonic mean. */
export function processBenchF1(rows: readonly { label: number; predicted: number }[]): {
  n: number;
  acc_error: number;
  acc_correct: number;
  f1: number;
} {
  const err = rows.filter((r) => r.label !== -1);
  const cor = rows.filter((r) => r.label === -1);
  const accErr = err.length ? (100 * err.filter((r) => r.predicted === r.label).length) / err.length : 0;
  const accCor = cor.length ? (100 * cor.filter((r) => r.predicted === -1).length) / cor.length : 0;
  const f1 = accErr + accCor === 0 ? 0 : (2 * accErr * accCor) / (accErr + accCor);
  return { n: rows.length, acc_error: accErr, acc_correct: accCor, f1 };
}

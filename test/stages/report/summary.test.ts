import { describe, expect, it } from 'vitest';
import {
  BINS,
  GRID,
  emptySummary,
  mergeReportSummaries,
  reach,
  summarizeReport,
  type ReportSummary,
} from '../../../stages/report/summary.ts';
import { seededRandom } from '../../../stages/lib/metrics.ts';
import { mergeSummaries } from '../../../stages/lib/summary.ts';
import { ROWS, randomRows } from './fixture.ts';

/** Splits rows into `k` parts at random (a part may be empty). */
function randomSplit<T>(rows: readonly T[], k: number, seed: number): T[][] {
  const r = seededRandom(seed);
  const parts: T[][] = Array.from({ length: k }, () => []);
  for (const row of rows) parts[Math.floor(r() * k)]!.push(row);
  return parts;
}

describe('report summary', () => {
  it('bins a score by how many grid values it reaches, exactly as x >= tau compares', () => {
    const xs = [0, 1e-9, 0.05, 0.0499999, 0.1 + 0.2, 1 / 3, 0.6, 3 / 5, 12 / 20, 2 / 3, 0.7999999999, 0.8, 0.95, 1];
    for (const x of xs) expect(reach(x), `reach(${x})`).toBe(GRID.filter((g) => x >= g).length);
    expect([reach(0), reach(0.05), reach(0.8), reach(1)]).toEqual([1, 2, 17, 21]);
    expect(GRID.length).toBe(BINS + 1);
  });

  it('counts the fixture by domain, mode, region, category, label and binned scores', () => {
    const s = summarizeReport(ROWS.slice(0, 3));
    expect(s).toEqual({
      format: 'tracepipe-report-summary/1, 20 bins per unit',
      paths: 3,
      rows: {
        'math|ars-guided|reliable|reliable-correct|gold|c': 1,
        'math|ars-guided|unreliable|unreliable-incorrect|gold|i': 1,
        'math|free|uncertain|uncertain|gold|c': 1,
      },
      plane: { 'math|16|11|16|c': 1, 'math|21|21|21|c': 1, 'math|6|6|1|i': 1 },
      ffs: { 'math|ars-guided|0|0': 1 },
      silent: {},
      k_drawn: { 'ars-guided|5': 2, 'free|5': 1 },
    });
  });

  it('merging the summaries of random parts equals the summary of the union, in any grouping', () => {
    const rows = randomRows(3000, 7);
    const whole = summarizeReport(rows);
    for (const [k, seed] of [
      [2, 1],
      [3, 2],
      [7, 3],
      [16, 4],
    ] as const) {
      const parts = randomSplit(rows, k, seed).map((p) => summarizeReport(p));
      expect(mergeReportSummaries(parts), `${k} parts`).toEqual(whole);
      // Associative: merging merged halves gives the same.
      const half = Math.floor(parts.length / 2);
      expect(
        mergeReportSummaries([mergeReportSummaries(parts.slice(0, half)), mergeReportSummaries(parts.slice(half))]),
      ).toEqual(whole);
      expect(mergeReportSummaries([...parts].reverse())).toEqual(whole);
    }
    expect(mergeReportSummaries([])).toEqual(emptySummary());
    expect(mergeReportSummaries([whole, emptySummary()])).toEqual(whole);
  });

  it('is plain JSON whose size is bounded by the bins, not the paths', () => {
    const rows = randomRows(2000, 11);
    const s = summarizeReport(rows);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(JSON.stringify(s)).not.toContain(rows[0]!.path_id);
    // Ten times the paths, the same keys: only the counts grow.
    const ten = mergeReportSummaries(Array.from({ length: 10 }, () => s));
    const keys = (x: ReportSummary) => [x.rows, x.plane, x.ffs, x.silent, x.k_drawn].map((m) => Object.keys(m));
    expect(keys(ten)).toEqual(keys(s));
    expect(ten.paths).toBe(20_000);
    // The plane never holds more than domains × 22³ × 5 label codes cells.
    expect(Object.keys(s.plane).length).toBeLessThanOrEqual(4 * 22 ** 3 * 5);
  });

  it('refuses to merge a summary of another format, naming it', () => {
    const bad = {
      ...emptySummary(),
      format: 'tracepipe-report-summary/1, 10 bins per unit',
    } as unknown as ReportSummary;
    expect(() => mergeReportSummaries([emptySummary(), bad])).toThrow(
      'report summary 2 of 2 has format "tracepipe-report-summary/1, 10 bins per unit"; expected tracepipe-report-summary/1, 20 bins per unit',
    );
  });

  it("merges the same under the engine's one rule for every summary (numbers add, objects merge by key)", () => {
    const rows = randomRows(1500, 3);
    const parts = randomSplit(rows, 5, 9).map((p) => summarizeReport(p));
    expect(mergeSummaries(parts)).toEqual(summarizeReport(rows));
  });
});

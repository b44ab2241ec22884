/**
 * @module stages/filter/filter
 * Places every scored path in its region under the thresholds in force for its domain
 * (calibrated where calibration met its target, else the configured ones), FA gate included.
 */
import type { ScoredPath } from '../../schemas/index.ts';
import { categoryOf, regionOf, type Thresholds } from '../score/regions.ts';

export interface FilterOutput {
  paths: ScoredPath[];
  /** Paths per category, the numbers the summary and the report show. */
  categories: Record<string, number>;
  /** Paths whose region changed from the one score gave under the configured thresholds. */
  moved: number;
}

/** Re-regions paths under `thresholds(domain)`; rows are never dropped here, only labelled. */
export function filter(scored: readonly ScoredPath[], thresholds: (domain: string) => Thresholds): FilterOutput {
  const categories: Record<string, number> = {};
  let moved = 0;
  const paths = scored.map((p) => {
    const region = regionOf(p, thresholds(p.domain));
    const category = categoryOf(region, p.final_correct);
    if (region !== p.region) moved++;
    categories[category] = (categories[category] ?? 0) + 1;
    return { ...p, region, category };
  });
  return { paths, categories, moved };
}

/** @module stages/rectify/totals  Rectification's counts, summed over problems (and merged over shards): what the summary shows. */
import type { RectifyStatsRow } from '../../schemas/state.ts';

export interface RectifyTotals {
  ffs_paths: number;
  continuations: number;
  passed: number;
  rectified_paths: number;
  unusable: number;
  prompt_tokens: number;
  prefix_shared_tokens: number;
  /** Share of FFS paths that got a rectified chosen step. */
  rectified_share: number;
  /** Share of the continuations' prompt tokens that each shares with its original request. */
  prefix_shared_share: number;
}

const KEYS = [
  'ffs_paths',
  'continuations',
  'passed',
  'rectified_paths',
  'unusable',
  'prompt_tokens',
  'prefix_shared_tokens',
] as const;

/** Sums per-problem rows, or already summed parts (a merged summary), into the totals with their shares. */
export function sumRectifyStats(rows: unknown): RectifyTotals {
  const list = (Array.isArray(rows) ? rows : rows ? [rows] : []) as Partial<RectifyStatsRow>[];
  const t = Object.fromEntries(KEYS.map((k) => [k, 0])) as Record<(typeof KEYS)[number], number>;
  for (const r of list) for (const k of KEYS) t[k] += typeof r[k] === 'number' ? r[k] : 0;
  return {
    ...t,
    rectified_share: t.ffs_paths ? t.rectified_paths / t.ffs_paths : 0,
    prefix_shared_share: t.prompt_tokens ? t.prefix_shared_tokens / t.prompt_tokens : 0,
  };
}

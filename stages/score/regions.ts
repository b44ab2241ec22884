/**
 * @module stages/score/regions
 * Reliability regions (TRACE.md "Reliability regions"): the (PC, GC) plane with final agreement
 * FA as a third gate on `reliable`, crossed with final correctness into a category.
 */
import type { Category, Region } from '../../schemas/index.ts';

export interface Thresholds {
  tau_pc: number;
  tau_gc: number;
  tau_fa: number;
  tau_pc_low: number;
  tau_gc_low: number;
}
export const DEFAULT_THRESHOLDS: Thresholds = {
  tau_pc: 0.8,
  tau_gc: 0.6,
  tau_fa: 0.25,
  tau_pc_low: 0.5,
  tau_gc_low: 0.3,
};

/** A path's coordinates: PC (null without intermediate nodes), GC and FA (null when K = 1). */
export interface Coordinates {
  PC: number | null;
  GC: number | null;
  FA: number | null;
}

/**
 * The region of a path. A null GC or FA (K = 1) is left out of the test; a null PC (no
 * intermediate node) makes the path `uncertain`. FA gates `reliable` only, as TRACE.md says.
 */
export function regionOf(c: Coordinates, th: Thresholds): Region {
  if (c.PC === null) return 'uncertain';
  if (c.PC < th.tau_pc_low || (c.GC !== null && c.GC < th.tau_gc_low)) return 'unreliable';
  if (c.PC >= th.tau_pc && (c.GC === null || c.GC >= th.tau_gc) && (c.FA === null || c.FA >= th.tau_fa))
    return 'reliable';
  return 'uncertain';
}

/** Region crossed with final correctness; an unlabeled path is `uncertain`. */
export function categoryOf(region: Region, y: boolean | null): Category {
  if (region === 'uncertain' || y === null) return 'uncertain';
  return `${region}-${y ? 'correct' : 'incorrect'}`;
}

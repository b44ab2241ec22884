/**
 * @module stages/report/data
 * What the report is built from, as plain data: the merged summary of the scored paths, the
 * thresholds in force, calibration, the kept/dropped counts per stage and the run's identity.
 */
import type { Thresholds } from '../score/score.ts';
import type { DomainCalibration } from '../calibrate/calibrate.ts';
import type { ReportRow, ReportSummary } from './summary.ts';

/** TRACE.md's default τ_fa, for thresholds that do not carry one yet. */
export const DEFAULT_TAU_FA = 0.25;

/** The thresholds of one domain: τ_pc, τ_gc, τ_fa and the lows. */
export type ThresholdSet = Thresholds & { tau_fa: number };

/** Thresholds in force for the whole run and per domain (calibrated where calibration met its target). */
export interface ThresholdsInForce {
  global: ThresholdSet;
  domains: Record<string, ThresholdSet>;
}

/** A snapshot and the one it replaced (null for the first). */
export interface SnapshotRef {
  id: string;
  parent: string | null;
}

/** Calibration of one domain (or all), as `calibrate` writes it; fields it may add (e.g. the labels that calibrated) are shown as they come. */
export type CalibrationEntry = Omit<DomainCalibration, 'n_correct'> & {
  n_correct?: number;
  tau_fa?: number;
  auroc_fa?: number | null;
} & Record<string, unknown>;

/** `calibration.json`: what `calibrate` returns, with the config's `enabled`. */
export type Calibration = {
  enabled: boolean;
  target_precision?: number;
  global: CalibrationEntry;
  domains: Record<string, CalibrationEntry>;
  notes?: string[];
} & Record<string, unknown>;

/** One bar of the kept/dropped chart: `outcome` is `kept` or a reason. */
export interface FlowRow {
  step: string;
  outcome: string;
  rows: number;
}

/** Requests of adaptive sampling against fixed K; `saved` is the share of `requests_fixed` not sent (0..1). */
export interface AdaptiveCounts {
  requests_fixed: number;
  requests_sent: number;
  saved: number;
}

export interface ReportData {
  name: string;
  runId: string;
  snapshot: SnapshotRef | null;
  model: string;
  simulated: boolean;
  simulationNote: string | null;
  finishedAt: string | null;
  thresholds: ThresholdsInForce;
  calibration: Calibration | null;
  /** Counts of all the run's scored paths (merged per-shard summaries). */
  summary: ReportSummary;
  flow: FlowRow[];
  /** Counts per mode, e.g. `decomposed_problems`, `extractor_aligned_paths`, `rectified_pairs`. */
  modes?: Record<string, number>;
  adaptive?: AdaptiveCounts;
}

/** Depth of each ARS node, keyed `problem_id \0 node_id`: 0 for a node with no parents, else 1 + the deepest parent. */
export function nodeDepths(
  nodes: readonly { problem_id: string; node_id: string; position: number; depends_on: readonly string[] }[],
): Map<string, number> {
  const depth = new Map<string, number>();
  const key = (p: string, n: string) => `${p}\u0000${n}`;
  // Position is a topological order, so parents are seen before their children.
  for (const n of [...nodes].sort((a, b) => a.problem_id.localeCompare(b.problem_id) || a.position - b.position)) {
    const parents = n.depends_on.map((d) => depth.get(key(n.problem_id, d)) ?? 0);
    depth.set(key(n.problem_id, n.node_id), parents.length ? 1 + Math.max(...parents) : 0);
  }
  return depth;
}

/** The report's rows of one shard: scored paths with the ARS depths of their FFS and silent-failure nodes. */
export function toReportRows(
  paths: readonly Omit<ReportRow, 'ffs_depth' | 'silent_depth'>[],
  nodes: readonly { problem_id: string; node_id: string; position: number; depends_on: readonly string[] }[],
): ReportRow[] {
  const depths = nodeDepths(nodes);
  const depthOf = (p: string, n: string | null) => (n === null ? null : (depths.get(`${p}\u0000${n}`) ?? null));
  return paths.map((p) => ({
    ...p,
    ffs_depth: depthOf(p.problem_id, p.ffs_node),
    silent_depth: depthOf(p.problem_id, p.silent_failure_node),
  }));
}

/** Thresholds in force for a domain: the calibrated ones where calibration is on and met its target, else the configured ones. */
export function thresholdsInForce(
  base: Thresholds & { tau_fa?: number },
  cal: Calibration | null,
  domains: readonly string[],
): ThresholdsInForce {
  const configured: ThresholdSet = { ...base, tau_fa: base.tau_fa ?? DEFAULT_TAU_FA };
  const pick = (e: CalibrationEntry | undefined): ThresholdSet =>
    cal?.enabled && e?.met_target
      ? { ...configured, tau_pc: e.tau_pc, tau_gc: e.tau_gc, tau_fa: e.tau_fa ?? configured.tau_fa }
      : configured;
  return {
    global: pick(cal?.global),
    domains: Object.fromEntries(domains.map((d) => [d, pick(cal?.domains[d] ?? cal?.global)])),
  };
}

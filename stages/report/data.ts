/**
 * @module stages/report/data
 * What the report is built from, as plain data: the merged summary of the scored paths, the
 * thresholds in force, calibration, the kept/dropped counts per stage and the run's identity.
 */
import type { Config } from '../../schemas/config.ts';
import type { Thresholds } from '../score/score.ts';
import { thresholdsInForce, type CalibrationResult } from '../calibrate/index.ts';
import type { ReportSummary } from './summary.ts';

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

/** `calibration.json` as the calibrate stage keeps it; fields calibrate adds (e.g. the labels that calibrated, and how many) are shown as they come. */
export type Calibration = CalibrationResult;

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

/**
 * Thresholds in force for the run and each domain, by calibrate's one rule (`thresholdsInForce`),
 * with τ_fa: calibrated where calibrate records one, else the configured one.
 */
export function thresholdsByDomain(
  config: Pick<Config, 'thresholds'>,
  cal: Calibration | null | undefined,
  domains: readonly string[],
): ThresholdsInForce {
  // A key that is no domain gives the global calibration.
  const at = (d: string): ThresholdSet => {
    const t = thresholdsInForce(config, cal, d);
    return { ...t, tau_fa: t.tau_fa ?? DEFAULT_TAU_FA };
  };
  return { global: at(''), domains: Object.fromEntries(domains.map((d) => [d, at(d)])) };
}

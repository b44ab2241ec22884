/**
 * @module stages/report
 * The report stage (run grain): one self-contained HTML page with charts rendered to SVG on the
 * server and a table beside each chart, built from the merged per-shard summaries of the run
 * (never from all paths at once).
 */
import type { RunStage } from '../lib/stage.ts';
import type { CalibrationResult } from '../calibrate/index.ts';
import { thresholdsByDomain, type AdaptiveCounts, type ReportData, type SnapshotRef } from './data.ts';
import { domainsOf } from './aggregate.ts';
import { buildReport } from './html.ts';
import { loadCharts } from './render.ts';
import { emptySummary, type ReportSummary } from './summary.ts';

export { buildReport } from './html.ts';
export { summarizeReport, mergeReportSummaries, type ReportRow, type ReportSummary } from './summary.ts';
export { thresholdsByDomain } from './data.ts';
export type { ReportData, FlowRow, ThresholdSet, ThresholdsInForce, SnapshotRef, AdaptiveCounts } from './data.ts';

/** What the report shows of the run besides its paths: set by the engine (snapshot, modes and adaptive when it has them). */
export interface ReportMeta {
  name: string;
  model: string;
  simulated: boolean;
  simulationNote: string | null;
  snapshot?: SnapshotRef | null;
  modes?: Record<string, number>;
  adaptive?: AdaptiveCounts;
}

export const reportStage: RunStage = {
  kind: 'run',
  name: 'report',
  // `tracepipe report <run>` is its own command (it needs no config).
  command: false,
  describe: 'one self-contained HTML page with charts and tables (report/index.html)',
  version: 2,
  needs: ['filtered'],
  // `snapshot`: the one this run's outputs will be published as (the engine provides it).
  uses: ['calibrate', 'snapshot'],
  config: (c) => [c.thresholds, c.calibrate.enabled],
  warm: () => loadCharts(),
  async run({ config, runId, summaries, globals, stages }) {
    const meta = globals.meta as ReportMeta;
    const cal = (globals.calibrate as CalibrationResult | undefined) ?? null;
    // filter keeps `summarizeReport` of each shard's rows; the engine merges them.
    const summary = (summaries.filtered as { report?: ReportSummary } | undefined)?.report ?? emptySummary();
    const data: ReportData = {
      name: meta.name,
      runId,
      snapshot: (globals.snapshot as SnapshotRef | undefined) ?? meta.snapshot ?? null,
      model: meta.model,
      simulated: meta.simulated,
      simulationNote: meta.simulationNote,
      finishedAt: new Date().toISOString(),
      thresholds: thresholdsByDomain(config, cal, domainsOf(summary)),
      calibration: cal,
      summary,
      flow: stages.flatMap((s) => s.flow),
      ...(meta.modes ? { modes: meta.modes } : {}),
      ...(meta.adaptive ? { adaptive: meta.adaptive } : {}),
    };
    const { html, charts, warnings } = await buildReport(data);
    return {
      result: { charts, warnings: warnings.length },
      files: { 'report/index.html': html },
      stats: { charts, warnings: warnings.length },
    };
  },
};

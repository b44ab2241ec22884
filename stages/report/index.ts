/**
 * @module stages/report
 * The report people look at: `runs/<name>/report/index.html`, one self-contained page with
 * charts rendered to SVG on the server and a table beside each chart, built from the run's
 * merged per-shard summaries (never from all paths at once).
 */
import { join } from 'node:path';
import { writeFileAtomic, type Store } from '../../pipeline/io/store.ts';
import type { Stage } from '../../pipeline/engine/runner.ts';
import type { ReportData } from './data.ts';
import { loadReportData } from './load.ts';
import { buildReport } from './html.ts';

export { buildReport } from './html.ts';
export { summarizeReport, mergeReportSummaries, type ReportRow, type ReportSummary } from './summary.ts';
export { toReportRows, thresholdsInForce } from './data.ts';
export { loadReportData, readCalibration } from './load.ts';
export type { ReportData, FlowRow, ThresholdSet, ThresholdsInForce, SnapshotRef, AdaptiveCounts } from './data.ts';

/** Builds the report from report data and writes it atomically to `<runDir>/report/index.html`; returns the file, the number of charts and any chart warnings. */
export async function writeReport(
  runDir: string,
  data: ReportData,
): Promise<{ file: string; charts: number; warnings: string[] }> {
  const { html, charts, warnings } = await buildReport(data);
  const file = join(runDir, 'report', 'index.html');
  await writeFileAtomic(file, html);
  return { file, charts, warnings };
}

/** Builds the report of a run of the current engine from its store and run folder (the summary computed from the store's rows in chunks). */
export async function report(
  store: Store,
  runDir: string,
): Promise<{ file: string; charts: number; warnings: string[] }> {
  return writeReport(runDir, await loadReportData(store, runDir));
}

/** The `report` stage descriptor: append it to STAGES after `emit`. */
export const reportStage: Stage = {
  name: 'report',
  describe: 'one self-contained HTML page with charts and tables (report/index.html)',
  inputs: ['filtered_paths', 'ars_nodes', 'rejects', 'stage_runs', 'manifest.json', 'calibration.json'],
  outputs: ['report/index.html'],
  // The report reads the whole run; it has no settings of its own, and re-runs whenever anything upstream does.
  configSlice: () => 'report-v1',
  async run(ctx) {
    const { file, charts, warnings } = await report(ctx.store, ctx.runDir);
    for (const w of warnings) ctx.log(`  report ${w}`);
    return { file: file.slice(ctx.runDir.length + 1), charts, warnings: warnings.length };
  },
};

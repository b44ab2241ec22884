/**
 * @module stages/report
 * The report stage (run grain): one self-contained HTML page with charts rendered to SVG on the
 * server and a table beside each chart, built from the merged per-shard summaries of the run.
 */
import type { FilteredRow } from '../../schemas/state.ts';
import type { RunStage } from '../lib/stage.ts';
import { thresholdsInForce, type CalibrationResult } from '../calibrate/index.ts';
import type { ReportData, ReportPath } from './data.ts';

export type { ReportData, ReportPath, FlowRow } from './data.ts';
export { buildReport } from './html.ts';

/** Builds the report of a run folder from a DuckDB store of its scored paths (the report tests' fixture). */
export async function report(store: import('../../pipeline/io/store.ts').Store, runDir: string) {
  const { loadReportData } = await import('./data.ts');
  const { buildReport: build } = await import('./html.ts');
  const { writeFileAtomic } = await import('../../pipeline/io/store.ts');
  const { join } = await import('node:path');
  const { html, charts, warnings } = await build(await loadReportData(store, runDir));
  const file = join(runDir, 'report', 'index.html');
  await writeFileAtomic(file, html);
  return { file, charts, warnings };
}

/** What the report shows of the run besides its paths: set by the engine. */
export interface ReportMeta {
  name: string;
  model: string;
  simulated: boolean;
  simulationNote: string | null;
}

export const reportStage: RunStage = {
  kind: 'run',
  name: 'report',
  // `tracepipe report <run>` is its own command (it needs no config).
  command: false,
  describe: 'one self-contained HTML page with charts and tables (report/index.html)',
  version: 1,
  needs: ['filtered'],
  uses: ['calibrate'],
  config: (c) => [c.thresholds, c.calibrate.enabled],
  async run({ config, runId, summaries, globals, stages }) {
    const meta = globals.meta as ReportMeta;
    const cal = (globals.calibrate as CalibrationResult | undefined) ?? null;
    const rows = ((summaries.filtered as { rows?: FilteredRow[] } | undefined)?.rows ?? []) as FilteredRow[];
    const paths: ReportPath[] = rows.map((r) => ({
      path_id: r.path_id,
      domain: r.domain,
      mode: r.mode,
      PC: r.PC,
      GC: r.GC,
      region: r.region,
      category: r.category,
      final_correct: r.final_correct,
      ffs_node: r.ffs_node,
      ffs_depth: r.ffs_depth,
      silent_failure_node: r.silent_failure_node,
      silent_depth: r.silent_depth,
    }));
    const domains = [...new Set(paths.map((p) => p.domain))].sort();
    const data: ReportData = {
      name: meta.name,
      runId,
      model: meta.model,
      simulated: meta.simulated,
      simulationNote: meta.simulationNote,
      finishedAt: new Date().toISOString(),
      thresholds: {
        global: thresholdsInForce(config, cal, '__global__'),
        domains: Object.fromEntries(domains.map((d) => [d, thresholdsInForce(config, cal, d)])),
      },
      calibration: cal,
      paths,
      flow: stages.flatMap((s) => s.flow),
    };
    const { html, charts, warnings } = await (await import('./html.ts')).buildReport(data);
    return {
      result: { charts, warnings: warnings.length },
      files: { 'report/index.html': html },
      stats: { charts, warnings: warnings.length },
    };
  },
};

import { afterAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  flowRows,
  loadReportData,
  nodeDepths,
  thresholdsInForce,
  type ReportPath,
} from '../../../stages/report/data.ts';
import {
  ffsByDepth,
  modeAccuracy,
  planePoints,
  precisionCoverage,
  regionPrecision,
  regionTable,
  silentFailures,
  silentTable,
} from '../../../stages/report/aggregate.ts';
import { buildReport, report, reportStage } from '../../../stages/report/index.ts';
import { wilson } from '../../../stages/lib/metrics.ts';
import { repoRoot } from '../../shared.ts';
import { CALIBRATION, MANIFEST, NODES, PATHS, writeFixtureRun } from './fixture.ts';
import type { Store } from '../../../pipeline/io/store.ts';

const base = {
  path_id: 'x',
  domain: 'math' as const,
  mode: 'ars-guided',
  PC: 1,
  GC: 1,
  region: 'reliable',
  category: 'reliable-correct',
  final_correct: true,
  ffs_node: null,
  ffs_depth: null,
  silent_failure_node: null,
  silent_depth: null,
};
const rp = (o: Partial<ReportPath>): ReportPath => ({ ...base, ...o });
const depths = nodeDepths(NODES);
const fixturePaths: ReportPath[] = PATHS.map((p) => ({
  path_id: p.path_id,
  domain: p.domain,
  mode: p.mode,
  PC: p.PC,
  GC: p.GC,
  region: p.region,
  category: p.category,
  final_correct: p.final_correct,
  ffs_node: p.ffs_node,
  ffs_depth: p.ffs_node ? (depths.get(`${p.problem_id}\u0000${p.ffs_node}`) ?? null) : null,
  silent_failure_node: p.silent_failure_node,
  silent_depth: p.silent_failure_node ? (depths.get(`${p.problem_id}\u0000${p.silent_failure_node}`) ?? null) : null,
}));
const TH = { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 };

describe('report data', () => {
  it('node depth is 0 without parents, else 1 + the deepest parent', () => {
    expect([...depths]).toEqual([
      ['p1\u0000Q1', 0],
      ['p1\u0000Q2', 1],
      ['p1\u0000Q3', 1],
      ['p1\u0000F', 2],
      ['p2\u0000Q1', 0],
      ['p2\u0000Q2', 0],
      ['p2\u0000F', 1],
    ]);
  });

  it('uses calibrated thresholds only where calibration is on and met its target', () => {
    const met = { ...CALIBRATION.global, tau_pc: 0.6, tau_gc: 0.4, met_target: true };
    expect(
      thresholdsInForce(TH, { ...CALIBRATION, global: met, domains: { physics: { ...met, met_target: false } } }, [
        'math',
        'physics',
      ]),
    ).toEqual({
      global: { ...TH, tau_pc: 0.6, tau_gc: 0.4 },
      domains: { math: { ...TH, tau_pc: 0.6, tau_gc: 0.4 }, physics: TH },
    });
    expect(thresholdsInForce(TH, { ...CALIBRATION, enabled: false, global: met }, ['math'])).toEqual({
      global: TH,
      domains: { math: TH },
    });
    expect(thresholdsInForce(TH, null, [])).toEqual({ global: TH, domains: {} });
  });

  it('lists kept and dropped rows per stage with their reasons', () => {
    const reasons = [
      { stage: 'generate', code: 'malformed_json', n: 1 },
      { stage: 'ingest', code: 'invalid_ars', n: 1 },
      { stage: 'ingest', code: 'invalid_type', n: 1 },
    ];
    expect(flowRows(MANIFEST, reasons)).toEqual([
      { step: 'ingest: problems', outcome: 'kept', rows: 2 },
      { step: 'ingest: problems', outcome: 'invalid_ars', rows: 1 },
      { step: 'ingest: problems', outcome: 'invalid_type', rows: 1 },
      { step: 'generate: paths', outcome: 'kept', rows: 8 },
      { step: 'generate: paths', outcome: 'malformed_json', rows: 1 },
      { step: 'filter: paths', outcome: 'kept', rows: 1 },
      { step: 'filter: paths', outcome: 'uncertain', rows: 5 },
      { step: 'filter: paths', outcome: 'unreliable-incorrect', rows: 1 },
      { step: 'filter: paths', outcome: 'unreliable-correct', rows: 1 },
      { step: 'emit: sft', outcome: 'kept', rows: 1 },
      { step: 'emit: sft', outcome: 'category uncertain', rows: 5 },
      { step: 'emit: sft', outcome: 'category unreliable-incorrect', rows: 1 },
      { step: 'emit: sft', outcome: 'category unreliable-correct', rows: 1 },
      { step: 'emit: stepwise', outcome: 'kept', rows: 3 },
      { step: 'emit: stepwise', outcome: 'no FFS and not reliable-correct', rows: 5 },
    ]);
  });
});

describe('report aggregations', () => {
  it('counts paths per region and correctness', () => {
    expect(regionTable(fixturePaths)).toEqual([
      { region: 'reliable', correct: 1, incorrect: 0, unlabeled: 0 },
      { region: 'uncertain', correct: 2, incorrect: 2, unlabeled: 0 },
      { region: 'unreliable', correct: 1, incorrect: 1, unlabeled: 1 },
    ]);
  });

  it('jitters each path by at most 0.018, and bins when there are too many points', () => {
    const { points, binned, missing } = planePoints(fixturePaths);
    expect([points.length, binned, missing]).toEqual([7, false, 1]);
    points.forEach((p, i) => {
      expect(Math.abs(p.PC - fixturePaths[i]!.PC!)).toBeLessThanOrEqual(0.018);
      expect(Math.abs(p.GC - fixturePaths[i]!.GC!)).toBeLessThanOrEqual(0.018);
    });
    expect(planePoints(fixturePaths).points).toEqual(points);
    const same = [
      rp({ path_id: 'a' }),
      rp({ path_id: 'b' }),
      rp({ path_id: 'c', final_correct: false }),
      rp({ path_id: 'd', PC: 0.5, GC: 0.25 }),
    ];
    expect(planePoints(same, 2)).toEqual({
      binned: true,
      missing: 0,
      points: [
        { PC: 1 - 0.012, GC: 1, correctness: 'correct', n: 2 },
        { PC: 1 + 0.012, GC: 1, correctness: 'incorrect', n: 1 },
        { PC: 0.5 - 0.012, GC: 0.25, correctness: 'correct', n: 1 },
      ],
    });
  });

  it('keeps the Pareto frontier of precision and coverage over the threshold grid', () => {
    const rows = [
      rp({ path_id: 'a' }),
      rp({ path_id: 'b', PC: 0.5, GC: 0.5, final_correct: false }),
      rp({ path_id: 'c', PC: 0.5, GC: 0.5 }),
    ];
    const front = [
      { coverage: 1, precision: 2 / 3, tau_pc: 0, tau_gc: 0 },
      { coverage: 0.5, precision: 1, tau_pc: 0, tau_gc: 1 },
    ];
    expect(precisionCoverage(rows, [0, 0.5, 1])).toEqual([
      ...front.map((f) => ({ domain: 'all', ...f })),
      ...front.map((f) => ({ domain: 'math', ...f })),
    ]);
  });

  it('measures precision and coverage of the regions as assigned', () => {
    expect(regionPrecision(fixturePaths)).toEqual({
      n_labeled: 7,
      n_reliable: 1,
      precision: 1,
      precision_ci: wilson(1, 1),
      coverage: 1 / 4,
      coverage_ci: wilson(1, 4),
    });
    expect(regionPrecision([rp({ region: 'uncertain' })])).toEqual({
      n_labeled: 1,
      n_reliable: 0,
      precision: null,
      precision_ci: [0, 1],
      coverage: 0,
      coverage_ci: wilson(0, 1),
    });
  });

  it('counts First Failure Steps by node depth and domain, F last', () => {
    expect(ffsByDepth(fixturePaths)).toEqual([
      { depth: '0', domain: 'math', paths: 1 },
      { depth: '1', domain: 'math', paths: 1 },
      { depth: 'F', domain: 'physics', paths: 1 },
    ]);
  });

  it('counts silent failures by domain and depth, with their share of correct paths', () => {
    expect(silentFailures(fixturePaths)).toEqual([
      { domain: 'math', depth: '1', paths: 1 },
      { domain: 'physics', depth: '0', paths: 1 },
    ]);
    expect(silentTable(fixturePaths)).toEqual([
      { domain: 'math', correct: 3, silent: 1, rate: 1 / 3, top_node: 'Q2' },
      { domain: 'physics', correct: 1, silent: 1, rate: 1, top_node: 'Q1' },
    ]);
  });

  it('compares ars-guided and free accuracy per domain with Wilson intervals, unlabeled paths left out', () => {
    const row = (domain: string, mode: string, labeled: number, correct: number) => {
      const [lo, hi] = wilson(correct, labeled);
      return { domain, mode, labeled, correct, accuracy: correct / labeled, lo, hi };
    };
    expect(modeAccuracy(fixturePaths)).toEqual([
      row('all', 'ars-guided', 4, 2),
      row('all', 'free', 3, 2),
      row('math', 'ars-guided', 3, 2),
      row('math', 'free', 2, 1),
      row('physics', 'ars-guided', 1, 0),
      row('physics', 'free', 1, 1),
    ]);
  });
});

describe('report page', () => {
  const runDir = join(repoRoot, 'build', 'test-runs', 'report-unit');
  let store: Store | undefined;
  afterAll(() => store?.close());

  it('writes one self-contained page with six SVG charts, a table beside each, and SIMULATION on top', async () => {
    store = await writeFixtureRun(runDir);
    const out = await report(store, runDir);
    expect(out).toEqual({ file: join(runDir, 'report', 'index.html'), charts: 6, warnings: [] });
    expect((await readdir(join(runDir, 'report'))).sort()).toEqual(['index.html']);
    const html = await readFile(out.file, 'utf8');
    expect([...html.matchAll(/<figure class="chart" data-chart="(\w+)">/g)].map((m) => m[1])).toEqual([
      'plane',
      'frontier',
      'ffs',
      'silent',
      'modes',
      'flow',
    ]);
    expect(
      html.match(/<div class="row"><figure class="chart"[^]*?<\/figure><div class="tables"><table>/g)?.length,
    ).toBe(6);
    expect(html.match(/class="mark-[a-z]+ role-mark/g)?.length).toBeGreaterThanOrEqual(6);
    expect(html).toContain(
      '<div class="simulation" role="alert" id="simulation"><strong>SIMULATION.</strong> the model endpoint of this run was the bundled tracepipe simulator.</div>',
    );
    // Self-contained: no script, no stylesheet or image fetched from anywhere; the only URLs are SVG namespaces.
    expect(html).not.toMatch(/<script|<link|@import|src=|url\((?!#)/i);
    expect([...new Set(html.match(/https?:\/\/[^"' )]+/g))]).toEqual([
      'http://www.w3.org/2000/svg',
      'http://www.w3.org/1999/xlink',
    ]);
  });

  it('reads the data back from the store as the charts need it', async () => {
    store ??= await writeFixtureRun(runDir);
    const d = await loadReportData(store, runDir);
    expect(d.paths).toEqual(fixturePaths);
    expect([d.name, d.runId, d.model, d.simulated]).toEqual(['fixture', 'fixture-run', 'tracepipe-simulator', true]);
    expect(d.flow.slice(0, 5)).toEqual([
      { step: 'ingest: problems', outcome: 'kept', rows: 2 },
      { step: 'ingest: problems', outcome: 'invalid_ars', rows: 1 },
      { step: 'ingest: problems', outcome: 'invalid_type', rows: 1 },
      { step: 'generate: paths', outcome: 'kept', rows: 8 },
      { step: 'generate: paths', outcome: 'malformed_json', rows: 1 },
    ]);
  });

  it('takes the stage counts from stage_runs when the manifest has none yet (--only report)', async () => {
    const dir = join(repoRoot, 'build', 'test-runs', 'report-only');
    const s = await writeFixtureRun(dir);
    try {
      await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...MANIFEST, stages: [] }));
      await s.run(
        `CREATE TABLE stage_runs (name VARCHAR PRIMARY KEY, fingerprint VARCHAR, finished_at VARCHAR, seconds DOUBLE, stats VARCHAR)`,
      );
      await s.run(
        `INSERT INTO stage_runs VALUES ('ingest', 'f', 't', 0.1, '{"problems": 2}'), ('generate', 'f', 't', 0.1, '{"generated": 8, "imported": 0}')`,
      );
      expect((await loadReportData(s, dir)).flow).toEqual([
        { step: 'ingest: problems', outcome: 'kept', rows: 2 },
        { step: 'ingest: problems', outcome: 'invalid_ars', rows: 1 },
        { step: 'ingest: problems', outcome: 'invalid_type', rows: 1 },
        { step: 'generate: paths', outcome: 'kept', rows: 8 },
        { step: 'generate: paths', outcome: 'malformed_json', rows: 1 },
      ]);
    } finally {
      s.close();
    }
  });

  it('says so instead of drawing an empty chart, and has no SIMULATION banner for a real run', async () => {
    const d = {
      name: 'n',
      runId: 'r',
      model: 'm',
      simulated: false,
      simulationNote: null,
      finishedAt: null,
      thresholds: { global: TH, domains: {} },
      calibration: null,
      flow: [],
      paths: [rp({ path_id: 'a' })],
    };
    const { html, charts, warnings } = await buildReport(d);
    expect([charts, warnings]).toEqual([3, []]);
    expect(html).toContain('<p class="empty">No path has a First Failure Step.</p>');
    expect(html).toContain(
      '<p class="empty">No silent failure: no correct path has a wrong or missing intermediate node.</p>',
    );
    expect(html).toContain('<p class="empty">The manifest has no stage counts yet.</p>');
    expect(html).not.toContain('SIMULATION');
  });

  it('runs as a stage and reports the file and chart count', async () => {
    store ??= await writeFixtureRun(runDir);
    const stats = await reportStage.run({
      store,
      config: {} as never,
      runId: 'fixture-run',
      runDir,
      log: () => {},
      signal: new AbortController().signal,
    });
    expect(stats).toEqual({ file: 'report/index.html', charts: 6, warnings: 0 });
  });
});

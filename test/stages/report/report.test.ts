import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { thresholdsByDomain, type ReportData } from '../../../stages/report/data.ts';
import { flowRows, loadReportData, readCalibration, summarizeStore, toReportRows, report } from './load.ts';
import { mergeSummaries } from '../../../stages/lib/summary.ts';
import {
  ffsByDepth,
  ffsBySteps,
  grading,
  kDrawn,
  modeAccuracy,
  planeCells,
  regionPrecision,
  regionTable,
  silentFailures,
  silentTable,
} from '../../../stages/report/aggregate.ts';
import { precisionCoverage, type FrontierPoint } from '../../../stages/report/frontier.ts';
import { GRID, mergeReportSummaries, summarizeReport, type ReportRow } from '../../../stages/report/summary.ts';
import { buildReport, reportStage } from '../../../stages/report/index.ts';
import { wilson } from '../../../stages/lib/metrics.ts';
import { repoRoot } from '../../shared.ts';
import { CALIBRATION, MANIFEST, NODES, ROWS, randomRows, writeFixtureRun } from './fixture.ts';
import type { Store } from '../../../pipeline/io/store.ts';

const TH = { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 };
const IN_FORCE = { global: TH, domains: { math: TH, physics: TH } };
const S = summarizeReport(ROWS);

/** The frontier by brute force over the rows, every grid triple evaluated per TRACE.md's regions: what the binned summary must reproduce. */
function bruteFrontier(rows: readonly ReportRow[], domain: string, labels: readonly string[]): FrontierPoint[] {
  const mine = rows.filter(
    (r) => (domain === 'all' || r.domain === domain) && r.final_correct !== null && labels.includes(r.label_source),
  );
  const correct = mine.filter((r) => r.final_correct).length;
  const pts: FrontierPoint[] = [];
  for (const tau_pc of GRID)
    for (const tau_gc of GRID)
      for (const tau_fa of GRID) {
        const rel = mine.filter(
          (r) =>
            r.PC !== null &&
            !(r.PC < TH.tau_pc_low || (r.GC !== null && r.GC < TH.tau_gc_low)) &&
            r.PC >= tau_pc &&
            (r.GC === null || r.GC >= tau_gc) &&
            (r.FA === null || r.FA >= tau_fa),
        );
        const hit = rel.filter((r) => r.final_correct).length;
        if (rel.length && correct)
          pts.push({ domain, coverage: hit / correct, precision: hit / rel.length, tau_pc, tau_gc, tau_fa });
      }
  pts.sort(
    (a, b) =>
      b.coverage - a.coverage ||
      b.precision - a.precision ||
      a.tau_pc - b.tau_pc ||
      a.tau_gc - b.tau_gc ||
      a.tau_fa - b.tau_fa,
  );
  let best = -1;
  return pts.filter((p) => (p.precision > best ? ((best = p.precision), true) : false));
}

describe('report data', () => {
  it('gives each row the ARS depth of its FFS and silent-failure nodes (0 without parents, else 1 + the deepest parent)', () => {
    const row = (id: string) => ROWS.find((r) => r.path_id === id)!;
    expect(['p1/c', 'p1/d', 'p1/e', 'p2/a', 'p2/b'].map((id) => [row(id).ffs_depth, row(id).silent_depth])).toEqual([
      [0, null],
      [1, null],
      [null, 1],
      [1, null],
      [null, 0],
    ]);
    expect(toReportRows([{ ...ROWS[0]!, ffs_node: 'Q9' }], NODES)[0]!.ffs_depth).toBeNull();
  });

  it("uses calibrated thresholds (τ_fa too) only where calibration is on and met its target, else the config's", () => {
    const config = { thresholds: { ...TH, tau_fa: 0.3 } };
    const met = { ...CALIBRATION.global, tau_pc: 0.6, tau_gc: 0.4, tau_fa: 0.25, met_target: true };
    const cal = { ...CALIBRATION, global: met, domains: { physics: { ...met, met_target: false } } };
    expect(thresholdsByDomain(config, cal, ['math', 'physics'])).toEqual({
      global: { ...TH, tau_pc: 0.6, tau_gc: 0.4, tau_fa: 0.25 },
      domains: { math: { ...TH, tau_pc: 0.6, tau_gc: 0.4, tau_fa: 0.25 }, physics: { ...TH, tau_fa: 0.3 } },
    });
    expect(thresholdsByDomain(config, { ...CALIBRATION, enabled: false, global: met }, ['math'])).toEqual({
      global: { ...TH, tau_fa: 0.3 },
      domains: { math: { ...TH, tau_fa: 0.3 } },
    });
    expect(thresholdsByDomain(config, null, [])).toEqual({ global: { ...TH, tau_fa: 0.3 }, domains: {} });
  });

  it('reads calibration.json: null when absent, an error naming the file when corrupt', async () => {
    const dir = join(repoRoot, 'build', 'test-runs', 'report-calibration');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    expect(await readCalibration(dir)).toBeNull();
    await writeFile(join(dir, 'calibration.json'), '{"enabled": tru');
    await expect(readCalibration(dir)).rejects.toThrow(
      `${join(dir, 'calibration.json')} should hold JSON, got text that does not parse`,
    );
    await writeFile(join(dir, 'calibration.json'), '{"enabled": true}');
    await expect(readCalibration(dir)).rejects.toThrow(
      `${join(dir, 'calibration.json')} should hold a calibration with "global" thresholds and "domains", got {"enabled":true}`,
    );
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

describe('report tables from the summary', () => {
  it('counts paths per region and correctness', () => {
    expect(regionTable(S)).toEqual([
      { region: 'reliable', correct: 1, incorrect: 0, unlabeled: 0 },
      { region: 'uncertain', correct: 2, incorrect: 2, unlabeled: 0 },
      { region: 'unreliable', correct: 1, incorrect: 1, unlabeled: 1 },
    ]);
  });

  it('bins the plane at 0.05 by correctness and FA against τ_fa (FA = τ_fa passes), and counts every path by FA', () => {
    const { cells, missing, fa } = planeCells(S, IN_FORCE);
    expect(missing).toBe(1);
    expect(cells).toEqual([
      { PC: 0, GC: 0, correctness: 'correct', fa: 'pass', n: 1 },
      { PC: 0.25, GC: 0.25, correctness: 'incorrect', fa: 'fail', n: 1 },
      { PC: 0.5, GC: 0.5, correctness: 'incorrect', fa: 'pass', n: 1 },
      { PC: 0.5, GC: 0.75, correctness: 'correct', fa: 'pass', n: 1 },
      { PC: 0.75, GC: 0.5, correctness: 'correct', fa: 'pass', n: 1 },
      { PC: 1, GC: 0.5, correctness: 'incorrect', fa: 'fail', n: 1 },
      { PC: 1, GC: 1, correctness: 'correct', fa: 'pass', n: 1 },
    ]);
    expect(fa).toEqual({
      pass: { correct: 4, incorrect: 1, unlabeled: 0 },
      fail: { correct: 0, incorrect: 2, unlabeled: 0 },
      none: { correct: 0, incorrect: 0, unlabeled: 1 },
    });
    // Each path is placed by its own domain's τ_fa.
    const strictPhysics = { ...IN_FORCE, domains: { ...IN_FORCE.domains, physics: { ...TH, tau_fa: 0.75 } } };
    expect(planeCells(S, strictPhysics).fa.fail).toEqual({ correct: 1, incorrect: 2, unlabeled: 0 });
  });

  it('gives the same precision–coverage frontier over (τ_pc, τ_gc, τ_fa) as evaluating every path at every grid triple', () => {
    const rows = randomRows(400, 5);
    const s = summarizeReport(rows);
    const t = { global: TH, domains: { math: TH, physics: TH, chemistry: TH, other: TH } };
    expect(grading(s)).toBe('gold or given');
    const got = precisionCoverage(s, t, 'gold or given');
    for (const d of ['all', 'chemistry', 'math', 'other', 'physics'])
      expect(
        got.filter((p) => p.domain === d),
        d,
      ).toEqual(bruteFrontier(rows, d, ['gold', 'given']));
    const consensus = precisionCoverage(s, t, 'consensus').filter((p) => p.domain === 'all');
    expect(consensus).toEqual(bruteFrontier(rows, 'all', ['consensus']));
    expect(got.length).toBeGreaterThan(5);
  });

  it('grades precision by gold or given labels only, by the consensus only when there are none', () => {
    const consensusOnly = summarizeReport(
      ROWS.map((r) => ({ ...r, label_source: r.final_correct === null ? 'none' : 'consensus' })),
    );
    expect([grading(S), grading(consensusOnly), grading(summarizeReport([]))]).toEqual([
      'gold or given',
      'consensus',
      null,
    ]);
    const mixed = summarizeReport([
      ...ROWS,
      { ...ROWS[0]!, path_id: 'p1/z', label_source: 'consensus', final_correct: false, region: 'reliable' },
    ]);
    expect(regionPrecision(mixed, 'all', 'gold or given')).toEqual({
      n_labeled: 7,
      n_reliable: 1,
      precision: 1,
      precision_ci: wilson(1, 1),
      coverage: 1 / 4,
      coverage_ci: wilson(1, 4),
    });
    expect(regionPrecision(mixed, 'all', 'consensus')).toMatchObject({ n_labeled: 1, n_reliable: 1, precision: 0 });
    expect(regionPrecision(S, 'physics', 'gold or given')).toMatchObject({
      n_labeled: 2,
      n_reliable: 0,
      precision: null,
    });
  });

  it('counts First Failure Steps by node depth and domain (F last) and by step index and mode', () => {
    expect(ffsByDepth(S)).toEqual([
      { depth: '0', domain: 'math', paths: 1 },
      { depth: '1', domain: 'math', paths: 1 },
      { depth: 'F', domain: 'physics', paths: 1 },
    ]);
    expect(ffsBySteps(S)).toEqual([
      { step: 0, mode: 'ars-guided', paths: 1 },
      { step: 2, mode: 'ars-guided', paths: 1 },
      { step: 2, mode: 'free', paths: 1 },
    ]);
  });

  it('counts silent failures by domain and depth, with their share of correct paths and the top node', () => {
    expect(silentFailures(S)).toEqual([
      { domain: 'math', depth: '1', paths: 1 },
      { domain: 'physics', depth: '0', paths: 1 },
    ]);
    expect(silentTable(S)).toEqual([
      { domain: 'math', correct: 3, silent: 1, rate: 1 / 3, top_node: 'Q2' },
      { domain: 'physics', correct: 1, silent: 1, rate: 1, top_node: 'Q1' },
    ]);
  });

  it('compares ars-guided and free accuracy per domain with Wilson intervals, unlabeled paths left out', () => {
    const row = (domain: string, mode: string, labeled: number, correct: number) => {
      const [lo, hi] = wilson(correct, labeled);
      return { domain, mode, labeled, correct, accuracy: correct / labeled, lo, hi };
    };
    expect(modeAccuracy(S, grading(S))).toEqual([
      row('all', 'ars-guided', 4, 2),
      row('all', 'free', 3, 2),
      row('math', 'ars-guided', 3, 2),
      row('math', 'free', 2, 1),
      row('physics', 'ars-guided', 1, 0),
      row('physics', 'free', 1, 1),
    ]);
  });

  it('counts paths by how many paths their problem drew', () => {
    expect(kDrawn(S)).toEqual([
      { mode: 'ars-guided', k: '3', paths: 1 },
      { mode: 'ars-guided', k: '5', paths: 3 },
      { mode: 'free', k: '3', paths: 2 },
      { mode: 'free', k: '5', paths: 2 },
    ]);
  });
});

const DATA: ReportData = {
  name: 'fixture',
  runId: 'fixture-run',
  snapshot: { id: 'snap-0002', parent: 'snap-0001' },
  model: 'm',
  simulated: false,
  simulationNote: null,
  finishedAt: null,
  thresholds: IN_FORCE,
  calibration: CALIBRATION,
  summary: S,
  flow: flowRows(MANIFEST, [{ stage: 'ingest', code: 'invalid_type', n: 1 }]),
  modes: { decomposed_problems: 1, extractor_aligned_paths: 3, rectified_pairs: 2 },
  adaptive: { requests_fixed: 16, requests_sent: 10, saved: 0.375 },
};

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

  it('reads the run from the store as a summary, FA and k_drawn included where the table has them', async () => {
    store ??= await writeFixtureRun(runDir);
    const d = await loadReportData(store, runDir);
    expect(d.summary).toEqual(S);
    expect([d.name, d.runId, d.model, d.simulated, d.snapshot]).toEqual([
      'fixture',
      'fixture-run',
      'tracepipe-simulator',
      true,
      null,
    ]);
    expect(d.thresholds.domains).toEqual({ math: TH, physics: TH });
    expect(d.flow.slice(0, 3)).toEqual([
      { step: 'ingest: problems', outcome: 'kept', rows: 2 },
      { step: 'ingest: problems', outcome: 'invalid_ars', rows: 1 },
      { step: 'ingest: problems', outcome: 'invalid_type', rows: 1 },
    ]);
    // In chunks of 3 rows, merged: the same summary.
    expect(await summarizeStore(store, 'filtered_paths', 3)).toEqual(S);
    // A store as the current engine writes it (no FA, no k_drawn): those count as null.
    const old = await writeFixtureRun(join(repoRoot, 'build', 'test-runs', 'report-no-fa'), { fa: false });
    try {
      const s = (await loadReportData(old, join(repoRoot, 'build', 'test-runs', 'report-no-fa'))).summary;
      expect(s).toEqual(summarizeReport(ROWS.map((r) => ({ ...r, FA: null, k_drawn: null }))));
    } finally {
      old.close();
    }
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

  it('renders every chart from the summary alone: plain JSON with no path in it, and merged shard parts give the same page', async () => {
    const json = JSON.stringify(DATA);
    for (const r of ROWS) expect(json).not.toContain(`"${r.path_id}"`);
    expect(Object.keys(DATA)).not.toContain('paths');
    const whole = await buildReport(JSON.parse(json) as ReportData);
    expect([whole.charts, whole.warnings]).toEqual([6, []]);
    const shards = [ROWS.slice(0, 2), ROWS.slice(2, 3), ROWS.slice(3)].map((p) => summarizeReport(p));
    const merged = await buildReport({ ...DATA, summary: mergeReportSummaries(shards) });
    expect(merged.html).toBe(whole.html);
  });

  it('shows FA in the plane: a panel per side of τ_fa, the boundary in the legend and τ_fa in the tables', async () => {
    const { html } = await buildReport(DATA);
    const plane = html.slice(html.indexOf('<section id="plane">'), html.indexOf('<section id="frontier">'));
    expect(plane).toContain('>FA ≥ 0.25 (or no FA)</text>');
    expect(plane).toContain('>FA &lt; 0.25: never reliable</text>');
    expect(plane).toContain('>reliable: PC ≥ 0.8, GC ≥ 0.6, FA ≥ 0.25</text>');
    expect(plane).toContain('<th>τ_fa</th>');
    expect(plane).toContain('<tr><td>FA ≥ 0.25</td><td>4</td><td>1</td><td>0</td></tr>');
    expect(plane).toContain('<tr><td>FA &#60; 0.25</td><td>0</td><td>2</td><td>0</td></tr>');
    expect(plane).toContain('τ_fa = 0.25');
    // Per-domain τ_fa that differ: said so, and each domain's value in the table.
    const differ = await buildReport({
      ...DATA,
      thresholds: { ...IN_FORCE, domains: { math: TH, physics: { ...TH, tau_fa: 0.5 } } },
    });
    expect(differ.html).toContain('>FA ≥ τ_fa of its domain (or no FA)</text>');
    expect(differ.html).toContain(
      '<tr><td>physics</td><td>0.8</td><td>0.6</td><td>0.5</td><td>0.5</td><td>0.3</td></tr>',
    );
  });

  it('names the snapshot and its parent, the counts per mode, adaptive sampling, labels and what calibration recorded', async () => {
    const { html } = await buildReport(DATA);
    expect(html).toContain('snapshot <code>snap-0002</code> (parent <code>snap-0001</code>)');
    expect(html).toContain('<tr><td>parent snapshot</td><td>snap-0001</td></tr>');
    expect(html).toContain(
      '<tr><td>decomposed problems</td><td>1</td></tr><tr><td>extractor aligned paths</td><td>3</td></tr><tr><td>rectified pairs</td><td>2</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>fixed K would send</td><td>16</td></tr><tr><td>sent</td><td>10</td></tr><tr><td>saved</td><td>6 (37.5%)</td></tr>',
    );
    expect(html).toContain('<div class="kpi"><b>37.5%</b>requests saved by adaptive sampling</div>');
    expect(html).toContain('<tr><td>gold</td><td>7</td></tr><tr><td>none</td><td>1</td></tr>');
    expect(html).toContain('<tr><td>all</td><td>labels</td><td>gold 7, given 0, consensus 0, none 0</td></tr>');
    expect(html).toContain(`<tr><td>${CALIBRATION.notes[0]}</td></tr>`);
    expect(html).toContain('0.75 / 0.70 / 0.66 / 0.72');
    const first = await buildReport({ ...DATA, snapshot: { id: 's1', parent: null }, modes: {} });
    expect(first.html).toContain('<tr><td>parent snapshot</td><td>none (first snapshot)</td></tr>');
    expect(first.html).not.toContain('<th>mode</th><th>count</th>');
  });

  it('says so instead of drawing an empty chart, and has no SIMULATION banner for a real run', async () => {
    const d: ReportData = {
      ...DATA,
      calibration: null,
      flow: [],
      summary: summarizeReport([{ ...ROWS[0]!, ffs_node: null, silent_failure_node: null }]),
    };
    delete d.modes;
    delete d.adaptive;
    const { html, charts, warnings } = await buildReport(d);
    expect([charts, warnings]).toEqual([3, []]);
    expect(html).toContain('<p class="empty">No path has a First Failure Step.</p>');
    expect(html).toContain(
      '<p class="empty">No silent failure: no correct path has a wrong or missing intermediate node.</p>',
    );
    expect(html).toContain('<p class="empty">The manifest has no stage counts yet.</p>');
    expect(html).not.toContain('SIMULATION');
    expect(html).not.toContain('adaptive sampling');
  });

  it("runs as the engine's run stage from the merged filter summaries alone", async () => {
    const shards = [ROWS.slice(0, 4), ROWS.slice(4)].map((p) => ({ categories: {}, report: summarizeReport(p) }));
    const meta = { name: 'fixture', model: 'm', simulated: false, simulationNote: null, snapshot: DATA.snapshot };
    const out = await reportStage.run({
      config: { thresholds: TH, calibrate: { enabled: true } } as never,
      runId: 'fixture-run',
      summaries: { filtered: mergeSummaries(shards) },
      globals: { meta: { ...meta, modes: DATA.modes, adaptive: DATA.adaptive }, calibrate: CALIBRATION },
      stages: [{ name: 'all', totals: {}, flow: DATA.flow }],
      log: () => {},
    });
    expect(out.stats).toEqual({ charts: 6, warnings: 0 });
    const html = out.files['report/index.html']!;
    const finishedAt = /· finished ([^ <]+)/.exec(html)![1]!;
    // The same page as from the report data directly: nothing of it came from anywhere but the summaries.
    expect(html).toBe((await buildReport({ ...DATA, finishedAt })).html);
  });
});

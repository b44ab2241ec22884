/**
 * @module stages/report/html
 * Builds the report page from report data: one self-contained HTML string (inline CSS and SVG,
 * no script, no font or network request), a chart and its table side by side per section.
 */
import type { ReportData } from './data.ts';
import {
  depthOrder,
  ffsByDepth,
  modeAccuracy,
  planePoints,
  precisionCoverage,
  regionPrecision,
  regionTable,
  silentFailures,
  silentTable,
} from './aggregate.ts';
import { ffsSpec, flowSpec, frontierSpec, modeSpec, planeSpec, renderSvg, silentSpec } from './charts.ts';
import type { TopLevelSpec } from 'vega-lite';

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));
const ci = (c: readonly [number, number] | undefined) =>
  c ? ` <span class="ci">[${pct(c[0])}, ${pct(c[1])}]</span>` : '';

/** An HTML table from literal header cells and rows of cells (cells are escaped unless they are `{ html }`). */
export function table(
  head: readonly string[],
  rows: readonly (readonly (string | number | { html: string })[])[],
): string {
  const cell = (c: string | number | { html: string }) => (typeof c === 'object' ? c.html : escapeHtml(String(c)));
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

interface Section {
  id: string;
  title: string;
  note: string;
  spec: TopLevelSpec | null;
  empty: string;
  tables: string;
}

/** The six sections (a)-(f); a section whose data is empty says so instead of drawing an empty chart. */
function sections(d: ReportData): Section[] {
  const { paths } = d;
  const domains = [...new Set(paths.map((p) => p.domain))].sort();
  const plane = planePoints(paths);
  const th = d.thresholds;
  const frontier = precisionCoverage(paths, undefined, d.thresholds.global);
  const operating = ['all', ...domains].map((domain) => {
    const t = domain === 'all' ? th.global : (th.domains[domain] ?? th.global);
    // The regions the filter assigned, not a re-evaluation: the low thresholds and per-domain pairs apply as they did.
    const e = regionPrecision(domain === 'all' ? paths : paths.filter((p) => p.domain === domain));
    return {
      domain,
      tau_pc: t.tau_pc,
      tau_gc: t.tau_gc,
      coverage: e.coverage,
      precision: e.precision,
      precision_ci: e.precision_ci,
      coverage_ci: e.coverage_ci,
      n_labeled: e.n_labeled,
      n_reliable: e.n_reliable,
    };
  });
  const cal = d.calibration;
  const ffs = ffsByDepth(paths);
  const ffsDepths = depthOrder(ffs.map((r) => r.depth));
  const silent = silentFailures(paths);
  const modes = modeAccuracy(paths);
  const calRow = (domain: string) => (domain === 'all' ? cal?.global : cal?.domains[domain]);
  return [
    {
      id: 'plane',
      title: '(a) The PC–GC plane',
      spec: plane.points.length ? planeSpec(plane.points, plane.binned, th.global) : null,
      empty: 'No path has both PC and GC.',
      note: `Each ${plane.binned ? 'circle is a 0.05 × 0.05 bin of paths (area = count)' : 'dot is a path, jittered by up to ±0.018 so that equal scores stay visible'}, coloured by final-answer correctness. Lines: the region boundaries in force for the whole run${plane.missing ? `; ${plane.missing} paths without PC or GC are not drawn` : ''}.`,
      tables:
        table(
          ['region', 'correct', 'incorrect', 'unlabeled'],
          regionTable(paths).map((r) => [r.region, r.correct, r.incorrect, r.unlabeled]),
        ) +
        table(
          ['domain', 'τ_pc', 'τ_gc', 'τ_pc low', 'τ_gc low'],
          ['all', ...domains].map((x) => {
            const t = x === 'all' ? th.global : (th.domains[x] ?? th.global);
            return [x, t.tau_pc, t.tau_gc, t.tau_pc_low, t.tau_gc_low];
          }),
        ),
    },
    {
      id: 'frontier',
      title: '(b) Precision against coverage',
      spec: frontier.length
        ? frontierSpec(
            frontier,
            operating.filter((o) => o.coverage !== null && o.precision !== null) as {
              domain: string;
              coverage: number;
              precision: number;
            }[],
            cal?.target_precision ?? null,
          )
        : null,
      empty: 'No labeled path falls in a reliable region at any threshold.',
      note: `For every (τ_pc, τ_gc) on a 0.05 grid: precision of "reliable" (share of correct answers) against coverage (share of all correct paths that are reliable), Pareto frontier per domain (with the run's low thresholds, as calibrate and filter apply them). Diamonds: the regions the filter assigned${cal?.target_precision ? `; dashed line: the target precision ${cal.target_precision}` : ''}.`,
      tables: table(
        [
          'domain',
          'labeled',
          'τ_pc',
          'τ_gc',
          'precision in force [95% CI]',
          'coverage in force [95% CI]',
          'AUROC PC / GC / mean',
          'calibration',
        ],
        operating.map((o) => {
          const c = calRow(o.domain);
          return [
            o.domain,
            o.n_labeled,
            o.tau_pc,
            o.tau_gc,
            { html: pct(o.precision) + ci(o.precision_ci) },
            { html: pct(o.coverage) + ci(o.coverage_ci) },
            c ? `${num(c.auroc_pc)} / ${num(c.auroc_gc)} / ${num(c.auroc_mean)}` : '–',
            c ? `${c.source}${c.met_target ? '' : ', target not met'}` : 'none',
          ];
        }),
      ),
    },
    {
      id: 'ffs',
      title: '(c) First Failure Step by node depth and domain',
      spec: ffs.length ? ffsSpec(ffs, ffsDepths) : null,
      empty: 'No path has a First Failure Step.',
      note: 'Depth of the FFS node in the ARS: 0 for a node with no parents, else one more than its deepest parent; F is the final question (the error is in the last step).',
      tables: table(
        ['depth', ...domains, 'total'],
        ffsDepths.map((dep) => {
          const r = domains.map((x) => ffs.find((f) => f.depth === dep && f.domain === x)?.paths ?? 0);
          return [dep, ...r, r.reduce((a, b) => a + b, 0)];
        }),
      ),
    },
    {
      id: 'silent',
      title: '(d) Silent failures',
      spec: silent.length ? silentSpec(silent, depthOrder(silent.map((s) => s.depth))) : null,
      empty: 'No silent failure: no correct path has a wrong or missing intermediate node.',
      note: 'Paths whose final answer is right while an intermediate node is wrong or missing, by domain and the depth of the earliest such node.',
      tables: table(
        ['domain', 'correct paths', 'silent failures', 'share', 'most frequent node'],
        silentTable(paths).map((r) => [r.domain, r.correct, r.silent, pct(r.rate), r.top_node ?? '–']),
      ),
    },
    {
      id: 'modes',
      title: '(e) ARS-guided against free accuracy',
      spec: modes.length ? modeSpec(modes) : null,
      empty: 'No labeled path.',
      note: 'Final-answer accuracy of paths that answered every ARS node first (ars-guided) and of plain solutions (free), with 95% Wilson intervals.',
      tables: table(
        ['domain', 'mode', 'labeled', 'correct', 'accuracy [95% CI]'],
        modes.map((m) => [m.domain, m.mode, m.labeled, m.correct, { html: pct(m.accuracy) + ci([m.lo, m.hi]) }]),
      ),
    },
    {
      id: 'flow',
      title: '(f) Rows kept and dropped per stage',
      spec: d.flow.length ? flowSpec(d.flow) : null,
      empty: 'The manifest has no stage counts yet.',
      note: 'Share of each stage’s candidates kept, and why the rest were dropped: ingest and generate rejects by code, filter by category (only reliable-correct paths feed SFT), emit by the builders’ reasons.',
      tables: table(
        ['stage', 'kept or reason', 'rows'],
        d.flow.map((r) => [r.step, r.outcome, r.rows]),
      ),
    },
  ];
}

const CSS = `body{font:14px/1.45 Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;padding:0 16px;color:#222}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}.meta{color:#555;margin:0 0 16px}
.simulation{background:#b00020;color:#fff;font-size:18px;padding:12px 16px;border-radius:4px;margin:12px 0 20px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 20px}.kpi{border:1px solid #ddd;border-radius:4px;padding:8px 12px;min-width:120px}.kpi b{display:block;font-size:20px}
section{border-top:1px solid #ddd;padding:16px 0}.note{color:#555;margin:0 0 10px;max-width:1000px}
.row{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:24px;align-items:start}figure{margin:0}.tables{display:flex;flex-direction:column;align-items:flex-start;gap:12px;overflow-x:auto}
@media (max-width:900px){.row{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left;white-space:nowrap}th{background:#f6f6f6}
.ci{display:block;color:#777;font-size:11px}.empty{color:#777;font-style:italic;width:400px}`;

/** Builds the whole page; returns the HTML, how many charts it drew, and the chart renderer's warnings. */
export async function buildReport(d: ReportData): Promise<{ html: string; charts: number; warnings: string[] }> {
  const secs = sections(d);
  const rendered = await Promise.all(
    secs.map((s) => (s.spec ? renderSvg(s.spec, `chart-${s.id}`) : Promise.resolve(null))),
  );
  const svgs = rendered.map((r) => r?.svg ?? null);
  const labeled = d.paths.filter((p) => p.final_correct !== null);
  const kpis: [string, string][] = [
    ['paths', String(d.paths.length)],
    ['final accuracy', pct(labeled.length ? labeled.filter((p) => p.final_correct).length / labeled.length : null)],
    ['reliable-correct', String(d.paths.filter((p) => p.category === 'reliable-correct').length)],
    ['with an FFS', String(d.paths.filter((p) => p.ffs_node !== null).length)],
    ['silent failures', String(d.paths.filter((p) => p.silent_failure_node !== null).length)],
    ['AUROC of (PC+GC)/2', num(d.calibration?.global.auroc_mean)],
  ];
  const sim = d.simulated
    ? `<div class="simulation" role="alert" id="simulation"><strong>SIMULATION.</strong> ${escapeHtml((d.simulationNote ?? '').replace(/^SIMULATION:\s*/, '') || 'This run used the bundled model simulator, not a model: every number below describes synthetic data.')}</div>`
    : '';
  const body = secs
    .map(
      (s, i) =>
        `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2><p class="note">${escapeHtml(s.note)}</p><div class="row">${svgs[i] ? `<figure class="chart" data-chart="${s.id}">${svgs[i]}</figure>` : `<p class="empty">${escapeHtml(s.empty)}</p>`}<div class="tables">${s.tables}</div></div></section>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${d.simulated ? 'SIMULATION · ' : ''}tracepipe report · ${escapeHtml(d.name)}</title><style>${CSS}</style></head>
<body><h1>${d.simulated ? 'SIMULATION · ' : ''}tracepipe report: ${escapeHtml(d.name)}</h1>
<p class="meta">run <code>${escapeHtml(d.runId)}</code> · model <code>${escapeHtml(d.model)}</code>${d.finishedAt ? ` · finished ${escapeHtml(d.finishedAt)}` : ''} · definitions in TRACE.md</p>
${sim}<div class="kpis">${kpis.map(([k, v]) => `<div class="kpi"><b>${escapeHtml(v)}</b>${escapeHtml(k)}</div>`).join('')}</div>
${body}
</body></html>
`;
  return { html, charts: svgs.filter((s) => s !== null).length, warnings: rendered.flatMap((r) => r?.warnings ?? []) };
}

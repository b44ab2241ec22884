/**
 * @module stages/report/html
 * Builds the report page from report data: one self-contained HTML string (inline CSS and SVG,
 * no script, no font or network request): the run, then a chart and its tables side by side per section.
 */
import type { ReportData } from './data.ts';
import { grading, kDrawn, labelCounts, totals } from './aggregate.ts';
import { renderSvg } from './render.ts';
import { sections } from './sections.ts';
import { escapeHtml, num, pct, table } from './format.ts';

export { escapeHtml, table } from './format.ts';

const CSS = `body{font:14px/1.45 Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;padding:0 16px;color:#222}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}.meta{color:#555;margin:0 0 16px}
.simulation{background:#b00020;color:#fff;font-size:18px;padding:12px 16px;border-radius:4px;margin:12px 0 20px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 20px}.kpi{border:1px solid #ddd;border-radius:4px;padding:8px 12px;min-width:120px}.kpi b{display:block;font-size:20px}
section{border-top:1px solid #ddd;padding:16px 0}.note{color:#555;margin:0 0 10px;max-width:1000px}
.row{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:24px;align-items:start}figure{margin:0}.tables{display:flex;flex-direction:column;align-items:flex-start;gap:12px;overflow-x:auto}
.run{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
@media (max-width:900px){.row{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left;white-space:nowrap}th{background:#f6f6f6}
.ci{display:block;color:#777;font-size:11px}.empty{color:#777;font-style:italic;width:400px}`;

const words = (key: string) => key.replaceAll('_', ' ');

/** The run section: identity and snapshot, counts per mode, adaptive sampling, labels, paths drawn per problem. */
function runSection(d: ReportData): string {
  const identity: [string, string][] = [
    ['run', d.name],
    ['run id', d.runId],
    ['snapshot', d.snapshot?.id ?? 'none (outputs published in place)'],
    ['parent snapshot', d.snapshot ? (d.snapshot.parent ?? 'none (first snapshot)') : '–'],
    ['model', d.model],
    ['simulated', d.simulated ? 'yes: SIMULATION' : 'no'],
    ...(d.finishedAt ? [['finished', d.finishedAt] as [string, string]] : []),
  ];
  const labels = labelCounts(d.summary);
  const k = kDrawn(d.summary);
  const a = d.adaptive;
  const tables = [
    table(['run', ''], identity),
    ...(d.modes && Object.keys(d.modes).length
      ? [
          table(
            ['mode', 'count'],
            Object.entries(d.modes).map(([m, n]) => [words(m), n]),
          ),
        ]
      : []),
    ...(a
      ? [
          table(
            ['adaptive sampling', 'requests'],
            [
              ['fixed K would send', a.requests_fixed],
              ['sent', a.requests_sent],
              ['saved', `${a.requests_fixed - a.requests_sent} (${pct(a.saved)})`],
            ],
          ),
        ]
      : []),
    table(
      ['label source', 'paths'],
      Object.entries(labels).map(([l, n]) => [l, n]),
    ),
    ...(k.some((r) => r.k !== '-')
      ? [
          table(
            ['mode', 'k_drawn', 'paths'],
            k.map((r) => [r.mode, r.k, r.paths]),
          ),
        ]
      : []),
  ];
  return `<section id="run"><h2>The run</h2><p class="note">Where these numbers come from, and how the paths were drawn and labeled.</p><div class="run">${tables.join('')}</div></section>`;
}

/** Builds the whole page from the summary and the run's data; returns the HTML, how many charts it drew, and the renderer's warnings. */
export async function buildReport(d: ReportData): Promise<{ html: string; charts: number; warnings: string[] }> {
  const secs = sections(d);
  const rendered = await Promise.all(
    secs.map((s) => (s.spec ? renderSvg(s.spec, `chart-${s.id}`) : Promise.resolve(null))),
  );
  const svgs = rendered.map((r) => r?.svg ?? null);
  const t = totals(d.summary, grading(d.summary));
  const kpis: [string, string][] = [
    ['paths', String(t.paths)],
    [`final accuracy${t.grading ? ` (${t.grading} labels)` : ''}`, pct(t.accuracy)],
    ['reliable-correct', String(t.reliableCorrect)],
    ['with an FFS', String(t.ffs)],
    ['silent failures', String(t.silent)],
    ['AUROC of (PC+GC)/2', num(d.calibration?.global.auroc_mean)],
    ...(d.adaptive ? [['requests saved by adaptive sampling', pct(d.adaptive.saved)] as [string, string]] : []),
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
  const snap = d.snapshot
    ? ` · snapshot <code>${escapeHtml(d.snapshot.id)}</code> (parent ${d.snapshot.parent ? `<code>${escapeHtml(d.snapshot.parent)}</code>` : 'none'})`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${d.simulated ? 'SIMULATION · ' : ''}tracepipe report · ${escapeHtml(d.name)}</title><style>${CSS}</style></head>
<body><h1>${d.simulated ? 'SIMULATION · ' : ''}tracepipe report: ${escapeHtml(d.name)}</h1>
<p class="meta">run <code>${escapeHtml(d.runId)}</code>${snap} · model <code>${escapeHtml(d.model)}</code>${d.finishedAt ? ` · finished ${escapeHtml(d.finishedAt)}` : ''} · definitions in TRACE.md</p>
${sim}<div class="kpis">${kpis.map(([k, v]) => `<div class="kpi"><b>${escapeHtml(v)}</b>${escapeHtml(k)}</div>`).join('')}</div>
${runSection(d)}
${body}
</body></html>
`;
  return { html, charts: svgs.filter((s) => s !== null).length, warnings: rendered.flatMap((r) => r?.warnings ?? []) };
}

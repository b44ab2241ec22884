/**
 * @module stages/report/palette
 * Colours and labels shared by the report's charts: one colour per meaning across charts, a
 * distinct colour for every reason a row was dropped, and one label style for all of them.
 */
import type { FlowRow } from './data.ts';

/** The Vega-Lite schema every chart declares. */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export const COLORS = { correct: '#1b9e77', incorrect: '#d95f02', unlabeled: '#9e9e9e', kept: '#1b9e77' } as const;

/** Each path category that is not kept has its own colour, the same in the filter's and emit's bars. */
export const CATEGORY_COLORS: Readonly<Record<string, string>> = {
  'reliable-incorrect': '#d95f02',
  'unreliable-correct': '#7570b3',
  'unreliable-incorrect': '#e7298a',
  uncertain: '#e6ab02',
};

// Other reasons, in order; none green (green means kept) and none a category's colour.
const REASON_COLORS = [
  '#1f78b4',
  '#a6761d',
  '#666666',
  '#fb9a99',
  '#17becf',
  '#222222',
  '#b15928',
  '#cab2d6',
  '#6a3d9a',
  '#8c564b',
  '#f781bf',
  '#bababa',
];

/** An extra colour past the palette: golden-angle hues that skip the greens, so any number of reasons stay distinct. */
function extraColor(i: number): string {
  const hue = (20 + i * 137.508) % 360;
  const h = hue >= 80 && hue < 180 ? (hue + 100) % 360 : hue;
  const light = [45, 62, 35][i % 3]!;
  return `hsl(${h.toFixed(1)}, 65%, ${light}%)`;
}

/** Colours for the outcomes of the kept/dropped chart, in order: kept green, categories fixed, then distinct others. */
export function outcomeColors(outcomes: readonly string[]): string[] {
  const used = new Set<string>();
  let next = 0;
  let extra = 0;
  return outcomes.map((o) => {
    let c = o === 'kept' ? COLORS.kept : CATEGORY_COLORS[o];
    while (c === undefined || used.has(c))
      c = next < REASON_COLORS.length ? REASON_COLORS[next++]! : extraColor(extra++);
    used.add(c);
    return c;
  });
}

/**
 * One label style for every outcome: emit's `category X` reasons are the category itself (as
 * the filter names it), codes lose their underscores (`invalid_type` -> `invalid type`).
 */
export function outcomeLabel(outcome: string): string {
  const category = /^category (\S+)$/.exec(outcome);
  return category ? category[1]! : outcome.replaceAll('_', ' ');
}

/** Flow rows with their outcomes relabelled, rows of the same step and label added up, order kept. */
export function labelledFlow(rows: readonly FlowRow[]): FlowRow[] {
  const out = new Map<string, FlowRow>();
  for (const r of rows) {
    const outcome = outcomeLabel(r.outcome);
    const key = `${r.step}\u0000${outcome}`;
    const e = out.get(key);
    if (e) e.rows += r.rows;
    else out.set(key, { step: r.step, outcome, rows: r.rows });
  }
  return [...out.values()];
}

const DOMAIN_COLORS: Record<string, string> = {
  all: '#555555',
  math: '#4c78a8',
  physics: '#e45756',
  chemistry: '#54a24b',
  other: '#b279a2',
};
/** The same colour for a domain in every chart; only the domains present appear in the legend. */
export const domainScale = (present: Iterable<string>) => {
  const domain = Object.keys(DOMAIN_COLORS).filter((d) => new Set(present).has(d));
  return { domain, range: domain.map((d) => DOMAIN_COLORS[d]!) };
};

/** Shading of the regions in the PC–GC plane: light, so the bins stay readable on top. */
export const REGION_SHADES = { reliable: '#dbe9f6', unreliable: '#ececec' } as const;

// labelLimit 0: no label is ever cut (the headless renderer over-estimates text widths and would cut early).
export const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0 },
  view: { stroke: '#ccc' },
};

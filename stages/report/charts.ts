/**
 * @module stages/report/charts
 * Vega-Lite specs for the report's charts, and their rendering to static SVG on the server
 * (Vega-Lite -> Vega -> a headless `vega.View` -> SVG), so the page needs no script at all.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Thresholds } from '../score/score.ts';
import type { FlowRow } from './data.ts';
import type { FrontierPoint, ModeAccuracy, PlanePoint } from './aggregate.ts';

export const COLORS = { correct: '#1b9e77', incorrect: '#d95f02', unlabeled: '#9e9e9e', kept: '#1b9e77' } as const;
// No greens among the reasons: green means kept.
const REASON_COLORS = [
  '#d95f02',
  '#7570b3',
  '#e7298a',
  '#e6ab02',
  '#a6761d',
  '#666666',
  '#1f78b4',
  '#fb9a99',
  '#fdbf6f',
  '#cab2d6',
  '#6a3d9a',
  '#b15928',
];
const DOMAIN_COLORS: Record<string, string> = {
  all: '#555555',
  math: '#4c78a8',
  physics: '#e45756',
  chemistry: '#54a24b',
  other: '#b279a2',
};
/** The same colour for a domain in every chart; only the domains present appear in the legend. */
const domainScale = (present: Iterable<string>) => {
  const domain = Object.keys(DOMAIN_COLORS).filter((d) => new Set(present).has(d));
  return { domain, range: domain.map((d) => DOMAIN_COLORS[d]!) };
};
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320, titleLimit: 320 },
  view: { stroke: '#ccc' },
};

/** A Vega logger that keeps warnings and errors instead of printing them. */
function collectingLogger(into: string[]) {
  let level = 2;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...a: unknown[]) {
      into.push(`error: ${a.map(String).join(' ')}`);
      return logger;
    },
    warn(...a: unknown[]) {
      into.push(`warning: ${a.map(String).join(' ')}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * Renders a Vega-Lite spec to an SVG string; element ids get `prefix` so several SVGs can share
 * one page. Vega-Lite's and Vega's warnings are returned, not printed.
 */
export async function renderSvg(spec: TopLevelSpec, prefix: string): Promise<{ svg: string; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: 'none', logger: logger as never });
  try {
    const svg = await view.toSVG();
    return {
      svg: svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`),
      warnings: warnings.map((w) => `${prefix}: ${w}`),
    };
  } finally {
    view.finalize();
  }
}

const correctnessColor = {
  field: 'correctness',
  type: 'nominal',
  title: 'final answer',
  scale: { domain: ['correct', 'incorrect', 'unlabeled'], range: [COLORS.correct, COLORS.incorrect, COLORS.unlabeled] },
} as const;

/** (a) The PC-GC plane: paths coloured by final correctness, with the region boundaries in force. */
export function planeSpec(points: readonly PlanePoint[], binned: boolean, th: Thresholds): TopLevelSpec {
  const rules = [
    { v: th.tau_pc, axis: 'PC', kind: `reliable: PC ≥ ${th.tau_pc}, GC ≥ ${th.tau_gc}` },
    { v: th.tau_pc_low, axis: 'PC', kind: `unreliable: PC < ${th.tau_pc_low} or GC < ${th.tau_gc_low}` },
    { v: th.tau_gc, axis: 'GC', kind: `reliable: PC ≥ ${th.tau_pc}, GC ≥ ${th.tau_gc}` },
    { v: th.tau_gc_low, axis: 'GC', kind: `unreliable: PC < ${th.tau_pc_low} or GC < ${th.tau_gc_low}` },
  ];
  const scale = { domain: [-0.04, 1.04], nice: false };
  const dash = {
    field: 'kind',
    type: 'nominal',
    title: 'region boundary',
    scale: {
      range: [
        [1, 0],
        [5, 3],
      ],
    },
    legend: { orient: 'bottom', direction: 'vertical' },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 360,
    config: CONFIG,
    layer: [
      {
        data: { values: [...points] },
        mark: { type: 'circle', opacity: binned ? 0.6 : 0.5 },
        encoding: {
          x: { field: 'PC', type: 'quantitative', title: 'path consistency PC', scale },
          y: { field: 'GC', type: 'quantitative', title: 'global consistency GC', scale },
          color: correctnessColor,
          size: binned
            ? { field: 'n', type: 'quantitative', title: 'paths', scale: { range: [12, 400], zero: false } }
            : { value: 16 },
        },
      },
      {
        data: { values: rules.filter((r) => r.axis === 'PC') },
        mark: { type: 'rule', color: '#333' },
        encoding: { x: { field: 'v', type: 'quantitative' }, strokeDash: dash },
      },
      {
        data: { values: rules.filter((r) => r.axis === 'GC') },
        mark: { type: 'rule', color: '#333' },
        encoding: { y: { field: 'v', type: 'quantitative' }, strokeDash: dash },
      },
      {
        data: { values: [{ x: 1.03, y: 1.03, t: 'reliable' }] },
        mark: { type: 'text', fontWeight: 'bold', fontSize: 12, color: '#333', baseline: 'top', align: 'right' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          text: { field: 't' },
        },
      },
      {
        data: { values: [{ x: -0.03, y: -0.03, t: 'unreliable' }] },
        mark: { type: 'text', fontWeight: 'bold', fontSize: 12, color: '#333', baseline: 'bottom', align: 'left' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          text: { field: 't' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** (b) Precision against coverage per domain, with the operating points in force and the target precision. */
export function frontierSpec(
  frontier: readonly FrontierPoint[],
  operating: readonly { domain: string; coverage: number; precision: number }[],
  target: number | null,
): TopLevelSpec {
  const color = {
    field: 'domain',
    type: 'nominal',
    title: 'domain',
    scale: domainScale([...frontier, ...operating].map((r) => r.domain)),
  } as const;
  const layers: unknown[] = [
    {
      data: { values: [...frontier] },
      mark: { type: 'line', point: { size: 20 }, interpolate: 'step-after' },
      encoding: {
        x: { field: 'coverage', type: 'quantitative', title: 'coverage of correct paths', scale: { domain: [0, 1] } },
        y: {
          field: 'precision',
          type: 'quantitative',
          title: 'precision (correct | reliable)',
          scale: { zero: false },
        },
        color,
        order: { field: 'coverage' },
      },
    },
    {
      data: { values: [...operating] },
      mark: { type: 'point', shape: 'diamond', filled: true, size: 160, stroke: '#000', strokeWidth: 1 },
      encoding: {
        x: { field: 'coverage', type: 'quantitative' },
        y: { field: 'precision', type: 'quantitative' },
        color,
      },
    },
  ];
  if (target !== null)
    layers.push({
      data: { values: [{ target }] },
      mark: { type: 'rule', strokeDash: [5, 3], color: '#333' },
      encoding: { y: { field: 'target', type: 'quantitative' } },
    });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 320,
    config: CONFIG,
    layer: layers,
  } as TopLevelSpec;
}

/** (c) First Failure Steps by node depth (F = the final question), stacked by domain. */
export function ffsSpec(
  rows: readonly { depth: string; domain: string; paths: number }[],
  order: readonly string[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 280,
    config: CONFIG,
    data: { values: [...rows] },
    mark: 'bar',
    encoding: {
      x: {
        field: 'depth',
        type: 'ordinal',
        title: 'node depth of the First Failure Step',
        sort: [...order],
        axis: { labelAngle: 0 },
      },
      y: { field: 'paths', type: 'quantitative', aggregate: 'sum', title: 'paths' },
      color: { field: 'domain', type: 'nominal', scale: domainScale(rows.map((r) => r.domain)) },
    },
  } as TopLevelSpec;
}

/** (d) Silent failures (right answer, wrong node) per domain, stacked by node depth. */
export function silentSpec(
  rows: readonly { domain: string; depth: string; paths: number }[],
  order: readonly string[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 280,
    config: CONFIG,
    data: { values: [...rows] },
    mark: 'bar',
    encoding: {
      x: { field: 'domain', type: 'nominal', axis: { labelAngle: 0 } },
      y: { field: 'paths', type: 'quantitative', aggregate: 'sum', title: 'silent failures (paths)' },
      color: { field: 'depth', type: 'ordinal', title: 'node depth', sort: [...order], scale: { scheme: 'viridis' } },
      order: { field: 'depth', type: 'ordinal' },
    },
  } as TopLevelSpec;
}

/** (e) Final-answer accuracy of ars-guided against free paths per domain, with 95% Wilson intervals. */
export function modeSpec(rows: readonly ModeAccuracy[]): TopLevelSpec {
  // Explicit sorts: otherwise the bar and rule layers disagree on how to order the shared scales.
  const x = { field: 'domain', type: 'nominal', sort: 'ascending', axis: { labelAngle: 0 } };
  const xOffset = { field: 'mode', type: 'nominal', sort: 'ascending' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 280,
    config: CONFIG,
    data: { values: [...rows] },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x,
          xOffset,
          y: { field: 'accuracy', type: 'quantitative', title: 'final-answer accuracy', scale: { domain: [0, 1] } },
          color: {
            field: 'mode',
            type: 'nominal',
            scale: { domain: ['ars-guided', 'free'], range: ['#4c78a8', '#f58518'] },
          },
        },
      },
      {
        mark: { type: 'rule', color: '#222', strokeWidth: 1.5 },
        encoding: { x, xOffset, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec;
}

/** (f) Rows kept and dropped per stage, by reason, as shares of each stage's candidates. */
export function flowSpec(rows: readonly FlowRow[]): TopLevelSpec {
  const reasons = [...new Set(rows.map((r) => r.outcome).filter((o) => o !== 'kept'))].sort();
  const range = ['kept', ...reasons].map((o, i) =>
    o === 'kept' ? COLORS.kept : REASON_COLORS[(i - 1) % REASON_COLORS.length]!,
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: Math.max(160, 26 * new Set(rows.map((r) => r.step)).size),
    config: CONFIG,
    data: { values: rows.map((r) => ({ ...r, rank: r.outcome === 'kept' ? 0 : 1 })) },
    mark: 'bar',
    encoding: {
      y: { field: 'step', type: 'nominal', title: null, sort: null, axis: { labelLimit: 220 } },
      x: {
        field: 'rows',
        type: 'quantitative',
        aggregate: 'sum',
        stack: 'normalize',
        title: 'share of the stage’s candidates',
        axis: { format: '%' },
      },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: 'kept or reason dropped',
        scale: { domain: ['kept', ...reasons], range },
        legend: { orient: 'bottom', columns: 1, labelLimit: 400 },
      },
      order: { field: 'rank', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

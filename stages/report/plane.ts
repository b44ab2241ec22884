/**
 * @module stages/report/plane
 * The Vega-Lite spec of chart (a): the PC–GC plane as 0.05 bins, one panel per side of the FA gate.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ThresholdSet } from './data.ts';
import type { FaStatus, PlaneCell } from './aggregate.ts';
import { COLORS, CONFIG, REGION_SHADES, SCHEMA } from './palette.ts';

const correctnessColor = {
  field: 'correctness',
  type: 'nominal',
  title: 'final answer',
  scale: { domain: ['correct', 'incorrect', 'unlabeled'], range: [COLORS.correct, COLORS.incorrect, COLORS.unlabeled] },
} as const;

// Within its 0.05 × 0.05 square, a bin's correct, unlabeled and incorrect paths sit side by side, so every
// circle stays on the side of a boundary (on the grid) that its paths are on.
const OFFSET: Record<PlaneCell['correctness'], number> = { correct: 0.0125, unlabeled: 0.025, incorrect: 0.0375 };

/** Panel titles of the plane: how each panel's paths stand against the FA gate. */
export function faTitles(tauFa: number | null): Record<'pass' | 'fail', string> {
  const t = tauFa === null ? 'τ_fa of its domain' : String(tauFa);
  return { pass: `FA ≥ ${t} (or no FA)`, fail: `FA < ${t}: never reliable` };
}

/**
 * (a) The PC–GC plane as 0.05 bins (area = paths), coloured by final correctness, one panel per
 * side of the FA gate (FA ≥ τ_fa, FA < τ_fa), with the shaded regions and boundaries in force.
 * No text is drawn inside a panel, so no label can cover a bin.
 */
export function planeSpec(cells: readonly PlaneCell[], th: ThresholdSet, tauFa: number | null): TopLevelSpec {
  const titles = faTitles(tauFa);
  const panels = (['pass', 'fail'] as const).filter((s) => s === 'pass' || cells.some((c) => c.fa === s));
  const fa = (s: FaStatus) => (s === 'fail' ? 'fail' : 'pass');
  const single = panels.length === 1 && !cells.some((c) => c.fa === 'pass');
  const size = panels.length > 1 ? 270 : 360;
  const scale = { domain: [0, 1.05], nice: false };
  const axis = { values: [0, 0.2, 0.4, 0.6, 0.8, 1] };
  const reliable = `reliable: PC ≥ ${th.tau_pc}, GC ≥ ${th.tau_gc}, FA ≥ ${th.tau_fa}`;
  const unreliable = `unreliable: PC < ${th.tau_pc_low} or GC < ${th.tau_gc_low}`;
  const dash = {
    field: 'kind',
    type: 'nominal',
    title: 'region boundary',
    scale: {
      domain: [reliable, unreliable],
      range: [
        [1, 0],
        [5, 3],
      ],
    },
  } as const;
  const shade = {
    field: 'region',
    type: 'nominal',
    title: 'region (shaded)',
    scale: { domain: ['reliable', 'unreliable'], range: [REGION_SHADES.reliable, REGION_SHADES.unreliable] },
  } as const;
  const panel = (s: 'pass' | 'fail') => {
    const shades = [
      ...(s === 'pass' ? [{ region: 'reliable', x: th.tau_pc, x2: 1.05, y: th.tau_gc, y2: 1.05 }] : []),
      { region: 'unreliable', x: 0, x2: th.tau_pc_low, y: 0, y2: 1.05 },
      { region: 'unreliable', x: th.tau_pc_low, x2: 1.05, y: 0, y2: th.tau_gc_low },
    ];
    const rules = [
      ...(s === 'pass'
        ? [
            { kind: reliable, x: th.tau_pc, x2: th.tau_pc, y: th.tau_gc, y2: 1.05 },
            { kind: reliable, x: th.tau_pc, x2: 1.05, y: th.tau_gc, y2: th.tau_gc },
          ]
        : []),
      { kind: unreliable, x: th.tau_pc_low, x2: th.tau_pc_low, y: th.tau_gc_low, y2: 1.05 },
      { kind: unreliable, x: th.tau_pc_low, x2: 1.05, y: th.tau_gc_low, y2: th.tau_gc_low },
    ];
    const points = cells
      .filter((c) => fa(c.fa) === s)
      .map((c) => ({ ...c, x: c.PC + OFFSET[c.correctness], y: c.GC + 0.025 }));
    return {
      width: size,
      height: size,
      // Short, left-anchored titles: the headless renderer sizes the SVG by its (generous) estimate of their width.
      title: { text: single ? 'no FA in this run: the gate is left out' : titles[s], anchor: 'start', fontSize: 12 },
      layer: [
        {
          data: { values: shades },
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x', type: 'quantitative', scale, axis: { ...axis, title: 'path consistency PC' } },
            x2: { field: 'x2' },
            y: { field: 'y', type: 'quantitative', scale, axis: { ...axis, title: 'global consistency GC' } },
            y2: { field: 'y2' },
            fill: shade,
          },
        },
        {
          data: { values: rules },
          mark: { type: 'rule', color: '#333' },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            x2: { field: 'x2' },
            y: { field: 'y', type: 'quantitative' },
            y2: { field: 'y2' },
            strokeDash: dash,
          },
        },
        {
          data: { values: points },
          mark: { type: 'circle', opacity: 0.75 },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            color: correctnessColor,
            size: {
              field: 'n',
              type: 'quantitative',
              title: 'paths',
              scale: { range: [10, 150], zero: false },
              legend: { format: ',d', tickMinStep: 1 },
            },
          },
        },
      ],
    };
  };
  return {
    $schema: SCHEMA,
    // Legends below the panels, so the tables beside the chart keep their room.
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'bottom', direction: 'vertical' } },
    hconcat: panels.map(panel),
    resolve: { scale: { color: 'shared', size: 'shared', fill: 'shared', strokeDash: 'shared' } },
  } as TopLevelSpec;
}

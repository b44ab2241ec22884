import { describe, expect, it } from 'vitest';
import { flowSpec, planeSpec } from '../../../stages/report/charts.ts';
import { renderSvg } from '../../../stages/report/render.ts';
import { CATEGORY_COLORS, COLORS, labelledFlow, outcomeColors, outcomeLabel } from '../../../stages/report/palette.ts';
import { planeCells } from '../../../stages/report/aggregate.ts';
import { summarizeReport } from '../../../stages/report/summary.ts';
import type { FlowRow } from '../../../stages/report/data.ts';
import { ROWS } from './fixture.ts';

const TH = { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 };

/** The flow of the demo run that showed the faults: 14 reasons, a category both at filter and at emit, a long reason. */
const DEMO_FLOW: FlowRow[] = [
  { step: 'ingest: problems', outcome: 'kept', rows: 300 },
  { step: 'ingest: problems', outcome: 'invalid_type', rows: 2 },
  { step: 'generate: paths', outcome: 'kept', rows: 4800 },
  { step: 'generate: paths', outcome: 'http_429', rows: 1 },
  ...['unreliable-incorrect', 'unreliable-correct', 'uncertain', 'reliable-incorrect'].map((o, i) => ({
    step: 'filter: paths',
    outcome: o,
    rows: 100 + i,
  })),
  { step: 'filter: paths', outcome: 'kept', rows: 1997 },
  { step: 'emit: sft', outcome: 'kept', rows: 408 },
  ...['unreliable-incorrect', 'unreliable-correct', 'uncertain', 'reliable-incorrect'].map((o, i) => ({
    step: 'emit: sft',
    outcome: `category ${o}`,
    rows: 50 + i,
  })),
  { step: 'emit: sft', outcome: 'over per-problem cap', rows: 1589 },
  { step: 'emit: preference', outcome: 'no reliable-correct path for the problem', rows: 1302 },
  { step: 'emit: step_preference', outcome: 'no path answers the FFS node correctly after the same prefix', rows: 90 },
  { step: 'emit: stepwise', outcome: 'correct but unreliable', rows: 265 },
  { step: 'emit: stepwise', outcome: 'silent failure', rows: 221 },
  { step: 'emit: process_eval', outcome: 'silent failure', rows: 221 },
  { step: 'emit: process_eval', outcome: 'empty_steps', rows: 3 },
  { step: 'emit: process_eval', outcome: 'malformed_json', rows: 1 },
  { step: 'emit: process_eval', outcome: 'timeout', rows: 1 },
];

const texts = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replaceAll('&lt;', '<'));

describe('kept/dropped chart (f)', () => {
  it('writes every outcome in one style: categories as the filter names them, codes without underscores', () => {
    expect(
      ['kept', 'category uncertain', 'invalid_type', 'over per-problem cap', 'reliable-incorrect'].map(outcomeLabel),
    ).toEqual(['kept', 'uncertain', 'invalid type', 'over per-problem cap', 'reliable-incorrect']);
    expect(
      labelledFlow([
        { step: 'emit: sft', outcome: 'category uncertain', rows: 2 },
        { step: 'emit: sft', outcome: 'uncertain', rows: 3 },
        { step: 'emit: sft', outcome: 'kept', rows: 1 },
      ]),
    ).toEqual([
      { step: 'emit: sft', outcome: 'uncertain', rows: 5 },
      { step: 'emit: sft', outcome: 'kept', rows: 1 },
    ]);
  });

  it('gives every outcome its own colour, kept green and each category the same colour at filter and emit', () => {
    const spec = flowSpec(DEMO_FLOW) as { encoding: { color: { scale: { domain: string[]; range: string[] } } } };
    const { domain, range } = spec.encoding.color.scale;
    expect(domain.length).toBe(15);
    expect(new Set(range).size).toBe(domain.length);
    const colour = (o: string) => range[domain.indexOf(o)];
    expect(colour('kept')).toBe(COLORS.kept);
    for (const [category, c] of Object.entries(CATEGORY_COLORS)) expect(colour(category), category).toBe(c);
    expect(domain).not.toContain('category uncertain');
    // Any number of reasons stays distinct, and none takes kept's green.
    const many = outcomeColors(['kept', ...Array.from({ length: 60 }, (_, i) => `reason ${i}`)]);
    expect(new Set(many).size).toBe(61);
    expect(many.slice(1)).not.toContain(COLORS.kept);
  });

  it('draws the whole legend: every entry, no label cut', async () => {
    const { svg, warnings } = await renderSvg(flowSpec(DEMO_FLOW), 'f');
    expect(warnings).toEqual([]);
    const t = texts(svg);
    for (const o of new Set(labelledFlow(DEMO_FLOW).map((r) => r.outcome))) expect(t, o).toContain(o);
    expect(svg).not.toContain('…');
  });
});

describe('PC–GC plane chart (a)', () => {
  const { cells } = planeCells(summarizeReport(ROWS), { global: TH, domains: {} });

  it('puts no text inside the panels, so no label can cover a bin', async () => {
    const spec = planeSpec(cells, TH, 0.25) as { hconcat: { layer: { mark: { type: string } }[] }[] };
    expect(spec.hconcat.flatMap((p) => p.layer.map((l) => l.mark.type))).toEqual([
      'rect',
      'rule',
      'circle',
      'rect',
      'rule',
      'circle',
    ]);
    const { svg, warnings } = await renderSvg(planeSpec(cells, TH, 0.25), 'a');
    expect(warnings).toEqual([]);
    // Text marks in the SVG belong to axes, legends and titles only (their own roles), never to a data layer.
    expect(svg).not.toMatch(/class="mark-text role-mark/);
  });

  it('shows FA: one panel per side of τ_fa, titled with it, the reliable region and boundary only where FA passes', async () => {
    const { svg } = await renderSvg(planeSpec(cells, TH, 0.25), 'a');
    const t = texts(svg);
    expect(t).toEqual(
      expect.arrayContaining([
        'FA ≥ 0.25 (or no FA)',
        'FA < 0.25: never reliable',
        'reliable: PC ≥ 0.8, GC ≥ 0.6, FA ≥ 0.25',
      ]),
    );
    expect(svg.match(/region \(shaded\): reliable"/g)?.length).toBe(1);
    // Each bin sits inside its 0.05 square: correct left, incorrect right, never across a grid boundary.
    const xs = [...svg.matchAll(/aria-label="x: ([\d.]+); y: ([\d.]+); final answer: (\w+)/g)].map(
      (m) => [Number(m[1]), m[3]] as const,
    );
    expect(xs.length).toBe(cells.length);
    for (const [x, c] of xs)
      expect(x - Math.floor(x * 20) / 20).toBeCloseTo(c === 'correct' ? 0.0125 : c === 'incorrect' ? 0.0375 : 0.025, 9);
    // No FA at all: one panel that says the gate is left out.
    const noFa = planeCells(summarizeReport(ROWS.map((r) => ({ ...r, FA: null }))), { global: TH, domains: {} }).cells;
    expect(texts((await renderSvg(planeSpec(noFa, TH, 0.25), 'a')).svg)).toContain(
      'no FA in this run: the gate is left out',
    );
  });
});

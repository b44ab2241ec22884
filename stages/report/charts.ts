/**
 * @module stages/report/charts
 * Vega-Lite specs for the report's charts, built from the summary's small tables.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FlowRow } from './data.ts';
import type { ModeAccuracy } from './aggregate.ts';
import type { FrontierPoint } from './frontier.ts';
import { CONFIG, SCHEMA, domainScale, labelledFlow, outcomeColors } from './palette.ts';

export { faTitles, planeSpec } from './plane.ts';

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
  return { $schema: SCHEMA, width: 400, height: 320, config: CONFIG, layer: layers } as TopLevelSpec;
}

/** (c) First Failure Steps by node depth (F = the final question), stacked by domain. */
export function ffsSpec(
  rows: readonly { depth: string; domain: string; paths: number }[],
  order: readonly string[],
): TopLevelSpec {
  return {
    $schema: SCHEMA,
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
    $schema: SCHEMA,
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
    $schema: SCHEMA,
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

/** (f) Rows kept and dropped per stage, by reason (one label style, one colour each), as shares of each stage's candidates. */
export function flowSpec(flow: readonly FlowRow[]): TopLevelSpec {
  const rows = labelledFlow(flow);
  const outcomes = ['kept', ...[...new Set(rows.map((r) => r.outcome).filter((o) => o !== 'kept'))].sort()];
  return {
    $schema: SCHEMA,
    width: 400,
    height: Math.max(160, 26 * new Set(rows.map((r) => r.step)).size),
    config: CONFIG,
    data: { values: rows.map((r) => ({ ...r, rank: outcomes.indexOf(r.outcome) })) },
    mark: 'bar',
    encoding: {
      y: { field: 'step', type: 'nominal', title: null, sort: null },
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
        title: 'kept, or why dropped',
        scale: { domain: outcomes, range: outcomeColors(outcomes) },
        // Every entry shown: no symbol limit, no cut label.
        legend: { orient: 'bottom', columns: 1, symbolLimit: outcomes.length + 1 },
      },
      order: { field: 'rank', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

/**
 * @module pipeline/cli/summary
 * The end-of-run summary: paths per region, FFS histogram, rows per output, where the files are.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunResult } from '../engine/run.ts';

interface CalLine {
  source: string;
  tau_pc: number;
  tau_gc: number;
  tau_fa?: number;
  precision: number | null;
  precision_ci: (number | null)[];
  coverage: number | null;
  coverage_ci: (number | null)[];
  auroc_pc: number | null;
  auroc_gc: number | null;
  auroc_fa?: number | null;
  auroc_mean: number | null;
  met_target: boolean;
}
const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));

/** Renders the summary from the run's manifest (so a resumed run prints the same numbers). */
export async function runSummary(result: RunResult, cwd = process.cwd()): Promise<string> {
  const m = JSON.parse(await readFile(join(result.runDir, 'manifest.json'), 'utf8')) as {
    simulated: boolean;
    stages: { name: string; status: string; seconds: number; stats: Record<string, unknown> }[];
  };
  const stage = (n: string) => m.stages.find((s) => s.name === n)?.stats ?? {};
  const lines: string[] = [];
  const table = (title: string, rec: Record<string, number> | undefined) => {
    if (!rec || !Object.keys(rec).length) return;
    lines.push(title);
    const w = Math.max(...Object.keys(rec).map((k) => k.length));
    for (const [k, v] of Object.entries(rec).sort((a, b) => (isNaN(+a[0]) ? b[1] - a[1] : +a[0] - +b[0])))
      lines.push(`  ${k.padEnd(w)}  ${String(v).padStart(7)}`);
  };
  lines.push(
    `tracepipe run ${result.runId}: ${result.status}${m.simulated ? '  [SIMULATION: paths came from the bundled simulator, not a model]' : ''}`,
  );
  const ing = stage('ingest');
  lines.push(
    `problems ${ing.problems ?? '?'} (rejected items: ${ing.rejected_items ?? 0}), stages: ${m.stages.map((s) => `${s.name} ${s.status} ${s.seconds.toFixed(1)}s`).join(', ')}`,
  );
  const cal = stage('calibrate') as { global?: CalLine; domains?: Record<string, CalLine>; notes?: string[] };
  if (cal.global) {
    lines.push(
      'calibration (thresholds in force; precision of correct | reliable, coverage of correct paths, Wilson 95%; met when the lower bound reaches the target):',
    );
    // Which labels calibrated, and how many (gold and given only; consensus never does).
    if (cal.notes?.[0]) lines.push(`  ${cal.notes[0]}`);
    const row = (name: string, c: CalLine) =>
      lines.push(
        `  ${name.padEnd(10)} ${c.source.padEnd(7)} tau_pc ${fmt(c.tau_pc)} tau_gc ${fmt(c.tau_gc)} tau_fa ${fmt(c.tau_fa)}  precision ${fmt(c.precision)} [${c.precision_ci.map(fmt).join(', ')}]  coverage ${fmt(c.coverage)} [${c.coverage_ci.map(fmt).join(', ')}]  AUROC pc ${fmt(c.auroc_pc)} gc ${fmt(c.auroc_gc)} fa ${fmt(c.auroc_fa)} mean ${fmt(c.auroc_mean)}${c.met_target ? '' : '  (target not met: configured thresholds kept)'}`,
      );
    row('global', cal.global);
    for (const [d, c] of Object.entries(cal.domains ?? {})) row(d, c);
  }
  const filt = stage('filter');
  table('paths per category (after calibration):', filt.categories as Record<string, number>);
  const sc = stage('score');
  table('final correctness by mode:', sc.by_mode_correct as Record<string, number>);
  table('First Failure Step histogram (ffs_step: paths):', sc.ffs_step_histogram as Record<string, number>);
  table('First Failure Step by node:', sc.ffs_node_histogram as Record<string, number>);
  if (sc.silent_failures !== undefined) lines.push(`silent failures: ${sc.silent_failures}`);
  const em = stage('emit') as Record<string, { rows: number; files: string[] }>;
  const outs = Object.entries(em).filter(([, v]) => v && typeof v === 'object' && 'rows' in v);
  if (outs.length) {
    lines.push('rows per output:');
    for (const [k, v] of outs)
      lines.push(`  ${k.padEnd(16)} ${String(v.rows).padStart(7)}  ${relative(cwd, join(result.runDir, 'out', k))}/`);
  }
  const present = [
    'manifest.json',
    'state.duckdb',
    'calibration.json',
    'rejects.parquet',
    'out/',
    'report/index.html',
  ].filter((f) => existsSync(join(result.runDir, f)));
  lines.push(`files: ${relative(cwd, result.runDir) || '.'}/ (${present.join(', ')})`);
  return lines.join('\n');
}

/**
 * @module test/stages/report/load
 * Test fixtures' way to the report's data: scored rows in a DuckDB table (and a run folder's
 * manifest.json and calibration.json) turned into the summaries the report stage merges. The
 * pipeline itself hands the report merged per-segment summaries and never reads paths.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, writeFileAtomic, type Store } from '../../../pipeline/io/store.ts';
import { buildReport } from '../../../stages/report/html.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../../stages/score/score.ts';
import { ConfigError } from '../../../schemas/config.ts';
import {
  mergeReportSummaries,
  summarizeReport,
  type ReportRow,
  type ReportSummary,
} from '../../../stages/report/summary.ts';
import { depths } from '../../../stages/lib/ars.ts';
import {
  DEFAULT_TAU_FA,
  thresholdsByDomain,
  type Calibration,
  type FlowRow,
  type ReportData,
  type SnapshotRef,
} from '../../../stages/report/data.ts';

/** The report's rows of some scored paths: with the ARS depths of their FFS and silent-failure nodes (as filter adds them). */
export function toReportRows(
  paths: readonly Omit<ReportRow, 'ffs_depth' | 'silent_depth'>[],
  nodes: readonly { problem_id: string; node_id: string; position: number; depends_on: string[] }[],
): ReportRow[] {
  const byProblem = new Map<string, (typeof nodes)[number][]>();
  for (const n of nodes) (byProblem.get(n.problem_id) ?? byProblem.set(n.problem_id, []).get(n.problem_id)!).push(n);
  const depth = new Map([...byProblem].map(([p, ns]) => [p, depths(ns)]));
  const at = (p: string, n: string | null) => (n === null ? null : (depth.get(p)?.get(n) ?? null));
  return paths.map((p) => ({
    ...p,
    ffs_depth: at(p.problem_id, p.ffs_node),
    silent_depth: at(p.problem_id, p.silent_failure_node),
  }));
}

type Manifest = {
  run_id?: string;
  name?: string;
  simulated?: boolean;
  simulation?: string;
  finished_at?: string | null;
  model?: { model?: string } | null;
  snapshot?: SnapshotRef | null;
  config?: { thresholds?: Thresholds & { tau_fa?: number } };
  stages?: { name: string; stats: Record<string, unknown> }[];
};

/** Kept and dropped rows per stage, from the manifest's stage stats and the rejects table's reasons. */
export function flowRows(
  manifest: Manifest,
  rejectReasons: readonly { stage: string; code: string; n: number }[],
): FlowRow[] {
  const stats = new Map((manifest.stages ?? []).map((s) => [s.name, s.stats]));
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const reasons = (stage: string, step: string) =>
    rejectReasons.filter((r) => r.stage === stage).map((r) => ({ step, outcome: r.code, rows: r.n }));
  const out: FlowRow[] = [];
  const ingest = stats.get('ingest');
  if (ingest)
    out.push(
      { step: 'ingest: problems', outcome: 'kept', rows: num(ingest.problems) },
      ...reasons('ingest', 'ingest: problems'),
    );
  const gen = stats.get('generate');
  if (gen)
    out.push(
      { step: 'generate: paths', outcome: 'kept', rows: num(gen.generated) + num(gen.imported) },
      ...reasons('generate', 'generate: paths'),
    );
  const categories = (stats.get('filter')?.categories ?? {}) as Record<string, number>;
  for (const [c, n] of Object.entries(categories))
    out.push({ step: 'filter: paths', outcome: c === 'reliable-correct' ? 'kept' : c, rows: n });
  for (const [name, s] of Object.entries(stats.get('emit') ?? {})) {
    const d = s as { rows?: number; dropped?: Record<string, number> };
    if (typeof d?.rows !== 'number') continue;
    out.push(
      { step: `emit: ${name}`, outcome: 'kept', rows: d.rows },
      ...Object.entries(d.dropped ?? {}).map(([reason, n]) => ({ step: `emit: ${name}`, outcome: reason, rows: n })),
    );
  }
  return out.filter((r) => r.rows > 0 || r.outcome === 'kept');
}

/** Reads a JSON file of a run: null when it does not exist; a file that is not JSON is an error naming it. */
async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ConfigError(`${file} should hold JSON, got text that does not parse (${(e as Error).message})`);
  }
}

/** A run's calibration.json: null when calibrate has not written one; corrupt or shapeless files are errors, never silent defaults. */
export async function readCalibration(runDir: string): Promise<Calibration | null> {
  const file = join(runDir, 'calibration.json');
  const cal = await readJson<Calibration>(file);
  if (cal !== null && (typeof cal !== 'object' || typeof cal.global?.tau_pc !== 'number' || !cal.domains))
    throw new ConfigError(
      `${file} should hold a calibration with "global" thresholds and "domains", got ${JSON.stringify(cal).slice(0, 80)}`,
    );
  return cal;
}

/**
 * Summarises a scored-paths table of the store in chunks of `chunk` rows, so memory is bounded by
 * one chunk and the summary; columns the table does not have yet (FA, k_drawn) count as null.
 */
export async function summarizeStore(store: Store, source: string, chunk = 50_000): Promise<ReportSummary> {
  const cols = new Set(
    (
      await store.query<{ column_name: string }>(
        `SELECT column_name FROM duckdb_columns() WHERE table_name = ${sqlString(source)}`,
      )
    ).map((c) => c.column_name),
  );
  const opt = (c: string, type: string) => (cols.has(c) ? `"${c}"::${type} AS "${c}"` : `NULL::${type} AS "${c}"`);
  const [range] = await store.query<{ lo: number | null; hi: number | null }>(
    `SELECT min(rowid)::DOUBLE AS lo, max(rowid)::DOUBLE AS hi FROM "${source}"`,
  );
  const parts: ReportSummary[] = [];
  const hasNodes = await store.exists('ars_nodes');
  for (let a = range?.lo ?? 0; range?.hi !== null && range?.hi !== undefined && a <= range.hi; a += chunk) {
    const where = `rowid >= ${a} AND rowid < ${a + chunk}`;
    const rows = await store.query<Omit<ReportRow, 'ffs_depth' | 'silent_depth'>>(
      `SELECT problem_id, path_id, domain, mode, "PC", "GC", ${opt('FA', 'DOUBLE')}, region, category, final_correct, label_source, ffs_node, ffs_step, silent_failure_node, ${opt('k_drawn', 'INTEGER')} FROM "${source}" WHERE ${where}`,
    );
    const nodes = hasNodes
      ? await store.query<{ problem_id: string; node_id: string; position: number; depends_on: string[] }>(
          `SELECT problem_id, node_id, position, depends_on FROM ars_nodes WHERE problem_id IN (SELECT DISTINCT problem_id FROM "${source}" WHERE ${where})`,
        )
      : [];
    parts.push(summarizeReport(toReportRows(rows, nodes)));
  }
  return mergeReportSummaries(parts);
}

/** Reads everything the report shows from a run of the current engine: `filtered_paths` (else `scored_paths`), `ars_nodes`, `rejects`, `stage_runs`, manifest and calibration. */
export async function loadReportData(store: Store, runDir: string): Promise<ReportData> {
  const manifest = (await readJson<Manifest>(join(runDir, 'manifest.json'))) ?? {};
  const calibration = await readCalibration(runDir);
  const source = (await store.exists('filtered_paths')) ? 'filtered_paths' : 'scored_paths';
  if (!(await store.exists(source)))
    throw new Error(
      `report needs the scored paths of run ${runDir}, but neither filtered_paths nor scored_paths exists; run the score stage first`,
    );
  const summary = await summarizeStore(store, source);
  const reasons = (await store.exists('rejects'))
    ? await store.query<{ stage: string; code: string; n: number }>(
        'SELECT stage, code, count(*)::INTEGER AS n FROM (SELECT stage, source, item, min(code) AS code FROM rejects GROUP BY stage, source, item) GROUP BY stage, code ORDER BY stage, n DESC, code',
      )
    : [];
  const domains = (
    await store.query<{ domain: string }>(`SELECT DISTINCT domain FROM "${source}" ORDER BY domain`)
  ).map((r) => r.domain);
  // `--only report` starts the manifest with no stage records: the finished stages' stats are in stage_runs too.
  const finished = (await store.exists('stage_runs'))
    ? await store.query<{ name: string; stats: string }>('SELECT name, stats FROM stage_runs')
    : [];
  const recorded = new Set((manifest.stages ?? []).map((s) => s.name));
  const stages = [
    ...(manifest.stages ?? []),
    ...finished
      .filter((f) => !recorded.has(f.name))
      .map((f) => ({ name: f.name, stats: JSON.parse(f.stats) as Record<string, unknown> })),
  ];
  return {
    name: manifest.name ?? runDir.split('/').filter(Boolean).at(-1) ?? 'run',
    runId: manifest.run_id ?? 'unknown',
    snapshot: manifest.snapshot ?? null,
    model: manifest.model?.model ?? 'imported',
    simulated: manifest.simulated === true,
    simulationNote: manifest.simulation ?? null,
    finishedAt: manifest.finished_at ?? null,
    thresholds: thresholdsByDomain(
      { thresholds: { ...DEFAULT_THRESHOLDS, tau_fa: DEFAULT_TAU_FA, ...manifest.config?.thresholds } },
      calibration,
      domains,
    ),
    calibration,
    summary,
    flow: flowRows({ ...manifest, stages }, reasons),
  };
}

/** Builds the report of a run folder from a DuckDB store of its scored paths (the report tests' fixture). */
export async function report(store: Store, runDir: string) {
  const { html, charts, warnings } = await buildReport(await loadReportData(store, runDir));
  const file = join(runDir, 'report', 'index.html');
  await writeFileAtomic(file, html);
  return { file, charts, warnings };
}

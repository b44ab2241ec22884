/**
 * @module stages/report/data
 * What the report is built from, as plain data: the scored paths (a few columns each), the
 * thresholds in force, calibration, and the kept/dropped counts per stage. Reading it from a
 * run (store, manifest.json, calibration.json) is the only side effect, kept in `loadReportData`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../pipeline/io/store.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../score/score.ts';
import type { Domain } from '../../schemas/problems.ts';
import type { DomainCalibration } from '../calibrate/calibrate.ts';

/** One scored path, reduced to what the charts need. `*_depth`: the node's depth in the ARS (null = not in the ARS). */
export interface ReportPath {
  path_id: string;
  domain: Domain;
  mode: string;
  PC: number | null;
  GC: number | null;
  region: string;
  category: string;
  final_correct: boolean | null;
  ffs_node: string | null;
  ffs_depth: number | null;
  silent_failure_node: string | null;
  silent_depth: number | null;
}

/** Calibration of one domain (or all), as `calibrate` writes it (older runs may lack `n_correct`, `tau_fa`, `labels`, `auroc_fa`). */
export type CalibrationEntry = Omit<DomainCalibration, 'n_correct' | 'tau_fa' | 'labels' | 'auroc_fa'> &
  Partial<Pick<DomainCalibration, 'n_correct' | 'tau_fa' | 'labels' | 'auroc_fa'>>;

/** `calibration.json`: what `calibrate` returns, with the config's `enabled`. */
export interface Calibration {
  enabled: boolean;
  target_precision?: number;
  global: CalibrationEntry;
  domains: Record<string, CalibrationEntry>;
}

/** One bar of the kept/dropped chart: `outcome` is `kept` or a reason. */
export interface FlowRow {
  step: string;
  outcome: string;
  rows: number;
}

export interface ReportData {
  name: string;
  runId: string;
  model: string;
  simulated: boolean;
  simulationNote: string | null;
  finishedAt: string | null;
  /** Thresholds in force for the whole run and per domain (calibrated where calibration met its target). */
  thresholds: { global: Thresholds; domains: Record<string, Thresholds> };
  calibration: Calibration | null;
  paths: ReportPath[];
  flow: FlowRow[];
}

/** Depth of each ARS node, keyed `problem_id \0 node_id`: 0 for a node with no parents, else 1 + the deepest parent. */
export function nodeDepths(
  nodes: readonly { problem_id: string; node_id: string; position: number; depends_on: readonly string[] }[],
): Map<string, number> {
  const depth = new Map<string, number>();
  const key = (p: string, n: string) => `${p}\u0000${n}`;
  // Position is a topological order, so parents are seen before their children.
  for (const n of [...nodes].sort((a, b) => a.problem_id.localeCompare(b.problem_id) || a.position - b.position)) {
    const parents = n.depends_on.map((d) => depth.get(key(n.problem_id, d)) ?? 0);
    depth.set(key(n.problem_id, n.node_id), parents.length ? 1 + Math.max(...parents) : 0);
  }
  return depth;
}

/** Thresholds in force for a domain: the calibrated pair where calibration is on and met its target, else the configured ones. */
export function thresholdsInForce(
  base: Thresholds,
  cal: Calibration | null,
  domains: readonly string[],
): ReportData['thresholds'] {
  const pick = (e: CalibrationEntry | undefined): Thresholds =>
    cal?.enabled && e?.met_target ? { ...base, tau_pc: e.tau_pc, tau_gc: e.tau_gc } : base;
  return {
    global: pick(cal?.global),
    domains: Object.fromEntries(domains.map((d) => [d, pick(cal?.domains[d] ?? cal?.global)])),
  };
}

type Manifest = {
  run_id?: string;
  name?: string;
  simulated?: boolean;
  simulation?: string;
  finished_at?: string | null;
  model?: { model?: string } | null;
  config?: { thresholds?: Thresholds };
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

const readJson = async <T>(file: string): Promise<T | null> => {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
};

/** Reads everything the report shows from a run: `filtered_paths` (else `scored_paths`), `ars_nodes`, `rejects`, `stage_runs`, manifest and calibration. */
export async function loadReportData(store: Store, runDir: string): Promise<ReportData> {
  const manifest = (await readJson<Manifest>(join(runDir, 'manifest.json'))) ?? {};
  const calibration = await readJson<Calibration>(join(runDir, 'calibration.json'));
  const source = (await store.exists('filtered_paths')) ? 'filtered_paths' : 'scored_paths';
  if (!(await store.exists(source)))
    throw new Error(
      `report needs the scored paths of run ${runDir}, but neither filtered_paths nor scored_paths exists; run the score stage first`,
    );
  type Raw = Omit<ReportPath, 'ffs_depth' | 'silent_depth'> & { problem_id: string };
  const raw = await store.query<Raw>(
    `SELECT problem_id, path_id, domain, mode, "PC", "GC", region, category, final_correct, ffs_node, silent_failure_node FROM ${source} ORDER BY problem_id, path_id`,
  );
  const nodes = (await store.exists('ars_nodes'))
    ? await store.query<{ problem_id: string; node_id: string; position: number; depends_on: string[] }>(
        'SELECT problem_id, node_id, position, depends_on FROM ars_nodes',
      )
    : [];
  const depths = nodeDepths(nodes);
  const depthOf = (p: string, n: string | null) => (n === null ? null : (depths.get(`${p}\u0000${n}`) ?? null));
  const paths = raw.map(({ problem_id, ...p }) => ({
    ...p,
    ffs_depth: depthOf(problem_id, p.ffs_node),
    silent_depth: depthOf(problem_id, p.silent_failure_node),
  }));
  const reasons = (await store.exists('rejects'))
    ? await store.query<{ stage: string; code: string; n: number }>(
        'SELECT stage, code, count(*)::INTEGER AS n FROM (SELECT stage, source, item, min(code) AS code FROM rejects GROUP BY stage, source, item) GROUP BY stage, code ORDER BY stage, n DESC, code',
      )
    : [];
  const domains = [...new Set(paths.map((p) => p.domain))].sort();
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
    model: manifest.model?.model ?? 'imported',
    simulated: manifest.simulated === true,
    simulationNote: manifest.simulation ?? null,
    finishedAt: manifest.finished_at ?? null,
    thresholds: thresholdsInForce(manifest.config?.thresholds ?? DEFAULT_THRESHOLDS, calibration, domains),
    calibration,
    paths,
    flow: flowRows({ ...manifest, stages }, reasons),
  };
}

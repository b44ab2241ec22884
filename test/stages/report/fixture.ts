/**
 * @module test/report/fixture
 * A small finished run on disk for the report tests: literal scored paths, ARS nodes and rejects
 * in a DuckDB store, with the manifest.json and calibration.json the pipeline writes.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { arsNodes, rejects, scoredPaths, type ArsNode, type Reject, type ScoredPath } from '../../../schemas/index.ts';
import { Store, sqlString } from '../../../pipeline/io/store.ts';
import type { Calibration } from '../../../stages/report/data.ts';
import { toReportRows } from './load.ts';
import type { DomainCalibration } from '../../../stages/calibrate/calibrate.ts';
import { seededRandom } from '../../../stages/lib/metrics.ts';
import type { ReportRow } from '../../../stages/report/summary.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const node = (problem_id: string, node_id: string, position: number, depends_on: string[]): ArsNode => ({
  problem_id,
  node_id,
  position,
  question: node_id,
  depends_on,
  answer: null,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});

/** p1 (math): Q1 -> Q2, Q1 -> Q3, {Q2, Q3} -> F; depths 0, 1, 1, 2. p2 (physics): Q1, Q2 -> F; depths 0, 0, 1. */
export const NODES: ArsNode[] = [
  node('p1', 'Q1', 0, []),
  node('p1', 'Q2', 1, ['Q1']),
  node('p1', 'Q3', 2, ['Q1']),
  node('p1', 'F', 3, ['Q2', 'Q3']),
  node('p2', 'Q1', 0, []),
  node('p2', 'Q2', 1, []),
  node('p2', 'F', 2, ['Q1', 'Q2']),
];

const path = (path_id: string, o: Partial<ScoredPath>): ScoredPath => ({
  problem_id: path_id.split('/')[0]!,
  path_id,
  domain: 'math',
  PC: 1,
  GC: 1,
  FA: null,
  region: 'reliable',
  model: 'm',
  run_id: 'fixture-run',
  mode: 'ars-guided',
  category: 'reliable-correct',
  final_answer: '4',
  final_correct: true,
  label_source: 'gold',
  ffs_node: null,
  ffs_step: -1,
  ffs_evidence: null,
  silent_failure_node: null,
  role: 'data',
  verdicts: [],
  steps: ['Q1: 2', 'Final answer: 4'],
  ...o,
});

/** Eight paths: both modes, both domains, FFS at depths 0, 1 and F, two silent failures, one unlabeled. */
export const PATHS: ScoredPath[] = [
  path('p1/a', {}),
  path('p1/b', { mode: 'free', PC: 0.75, GC: 0.5, region: 'uncertain', category: 'uncertain' }),
  path('p1/c', {
    PC: 0.25,
    GC: 0.25,
    region: 'unreliable',
    category: 'unreliable-incorrect',
    final_correct: false,
    ffs_node: 'Q1',
    ffs_step: 0,
  }),
  path('p1/d', {
    mode: 'free',
    PC: 0.5,
    GC: 0.5,
    region: 'uncertain',
    category: 'uncertain',
    final_correct: false,
    ffs_node: 'Q3',
    ffs_step: 2,
  }),
  path('p1/e', { PC: 0.5, GC: 0.75, region: 'uncertain', category: 'uncertain', silent_failure_node: 'Q2' }),
  path('p2/a', {
    domain: 'physics',
    PC: 1,
    GC: 0.5,
    region: 'uncertain',
    category: 'uncertain',
    final_correct: false,
    ffs_node: 'F',
    ffs_step: 2,
  }),
  path('p2/b', {
    domain: 'physics',
    mode: 'free',
    PC: 0,
    GC: 0,
    region: 'unreliable',
    category: 'unreliable-correct',
    silent_failure_node: 'Q1',
  }),
  path('p2/c', {
    domain: 'physics',
    mode: 'free',
    PC: null,
    GC: null,
    region: 'unreliable',
    category: 'uncertain',
    final_correct: null,
    label_source: 'none',
  }),
];

/** Final agreement FA of each path (p1: K = 5, p2: K = 3); p2/c has none. */
export const FA: Record<string, number | null> = {
  'p1/a': 1,
  'p1/b': 0.75,
  'p1/c': 0,
  'p1/d': 0.25,
  'p1/e': 0.5,
  'p2/a': 0,
  'p2/b': 0.5,
  'p2/c': null,
};
/** Paths each problem drew (adaptive sampling): p1 all 5, p2 stopped at 3. */
export const K_DRAWN: Record<string, number> = { p1: 5, p2: 3 };

/** The fixture's paths as the report counts them. */
export const ROWS: ReportRow[] = toReportRows(
  PATHS.map((p) => ({
    problem_id: p.problem_id,
    path_id: p.path_id,
    domain: p.domain,
    mode: p.mode,
    PC: p.PC,
    GC: p.GC,
    FA: FA[p.path_id] ?? null,
    region: p.region,
    category: p.category,
    final_correct: p.final_correct,
    label_source: p.label_source,
    ffs_node: p.ffs_node,
    ffs_step: p.ffs_step,
    silent_failure_node: p.silent_failure_node,
    k_drawn: K_DRAWN[p.problem_id] ?? null,
  })),
  NODES,
);

export const REJECTS: Reject[] = [
  {
    stage: 'ingest',
    source: 'in.jsonl',
    item: 'line 3',
    code: 'invalid_type',
    path: 'question',
    message: 'question should be a string, got 3',
    raw: null,
  },
  {
    stage: 'ingest',
    source: 'in.jsonl',
    item: 'line 3',
    code: 'missing',
    path: 'domain',
    message: 'domain is required',
    raw: null,
  },
  {
    stage: 'ingest',
    source: 'in.jsonl',
    item: 'line 7',
    code: 'invalid_ars',
    path: 'ars.1',
    message: 'cycle',
    raw: null,
  },
  {
    stage: 'generate',
    source: 'p1',
    item: 'p1/z',
    code: 'malformed_json',
    path: '',
    message: 'reply was not JSON',
    raw: null,
  },
];

export const MANIFEST = {
  run_id: 'fixture-run',
  name: 'fixture',
  status: 'done',
  simulated: true,
  simulation: 'SIMULATION: the model endpoint of this run was the bundled tracepipe simulator.',
  model: { base_url: 'http://127.0.0.1:1/v1', model: 'tracepipe-simulator' },
  config: { thresholds: { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 } },
  finished_at: '2026-01-02T03:04:05.000Z',
  stages: [
    { name: 'ingest', status: 'done', seconds: 0.1, stats: { problems: 2, rejected_items: 2, rejects: 3 } },
    { name: 'generate', status: 'done', seconds: 0.1, stats: { imported: 0, generated: 8, rejected_paths: 1 } },
    {
      name: 'filter',
      status: 'done',
      seconds: 0.1,
      stats: {
        categories: { 'reliable-correct': 1, uncertain: 5, 'unreliable-incorrect': 1, 'unreliable-correct': 1 },
      },
    },
    {
      name: 'emit',
      status: 'done',
      seconds: 0.1,
      stats: {
        sft: {
          rows: 1,
          candidates: 8,
          dropped: { 'category uncertain': 5, 'category unreliable-incorrect': 1, 'category unreliable-correct': 1 },
        },
        stepwise: { rows: 3, candidates: 8, dropped: { 'no FFS and not reliable-correct': 5 } },
      },
    },
  ],
};

// Fields calibrate may add beyond DomainCalibration: τ_fa, its AUROC, the labels that calibrated.
const extras = { tau_fa: 0.25, auroc_fa: 0.66, labels: { gold: 7, given: 0, consensus: 0, none: 0 } };
const entry: DomainCalibration = {
  tau_pc: 0.8,
  tau_gc: 0.6,
  precision: 1,
  precision_ci: [0.2, 1],
  coverage: 0.25,
  coverage_ci: [0.05, 0.7],
  n_labeled: 7,
  n_correct: 4,
  n_reliable: 1,
  auroc_pc: 0.75,
  auroc_gc: 0.7,
  auroc_mean: 0.72,
  source: 'global',
  met_target: false,
  ...extras,
};
export const CALIBRATION: Calibration = {
  enabled: true,
  target_precision: 0.95,
  rule: 'the Wilson lower bound of precision meets the target',
  min_reliable: 10,
  calibrated_on: 'labeled data paths',
  global: entry,
  domains: {},
  notes: ['global: no (tau_pc, tau_gc) on the grid reaches precision 0.95 with at least 10 reliable paths'],
};

/**
 * Writes the fixture run into `runDir` (replacing it) and returns its store, open. With `fa` (the
 * default) `filtered_paths` has the FA and k_drawn columns that score and generate add; without, it is as the current engine writes it.
 */
export async function writeFixtureRun(
  runDir: string,
  opts: { simulated?: boolean; paths?: readonly ScoredPath[]; fa?: boolean } = {},
): Promise<Store> {
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const store = await Store.open(join(runDir, 'state.duckdb'));
  await store.replace(scoredPaths.as('filtered_paths'), opts.paths ?? PATHS);
  if (opts.fa ?? true) {
    // Scored paths carry FA; k_drawn comes with adaptive sampling.
    await store.run('ALTER TABLE filtered_paths ADD COLUMN IF NOT EXISTS "FA" DOUBLE');
    await store.run('ALTER TABLE filtered_paths ADD COLUMN IF NOT EXISTS k_drawn INTEGER');
    for (const [id, fa] of Object.entries(FA))
      await store.run(
        `UPDATE filtered_paths SET "FA" = ${fa ?? 'NULL'}, k_drawn = ${K_DRAWN[id.split('/')[0]!]} WHERE path_id = ${sqlString(id)}`,
      );
  }
  await store.replace(arsNodes, NODES);
  await store.replace(rejects, REJECTS);
  await writeFile(join(runDir, 'manifest.json'), JSON.stringify({ ...MANIFEST, simulated: opts.simulated ?? true }));
  await writeFile(join(runDir, 'calibration.json'), JSON.stringify(CALIBRATION));
  return store;
}

/**
 * `n` seeded random report rows over every domain, mode, label source and FA state (null FA and GC
 * for K = 1 problems), with scores both on and off the 0.05 grid, so binning and merging meet every case.
 */
export function randomRows(n: number, seed: number): ReportRow[] {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const score = () => pick([0, 0.25, 0.5, 0.6, 0.75, 0.8, 1, 1 / 3, 2 / 3, 3 / 7, 0.1 + 0.2, r()]);
  return Array.from({ length: n }, (_, i) => {
    const k1 = r() < 0.05;
    const label = pick(['gold', 'given', 'consensus', 'none'] as const);
    const y = label === 'none' ? null : r() < 0.6;
    const ffs = y === false && r() < 0.8 ? pick(['Q1', 'Q2', 'F', 'Qx']) : null;
    const silent = y === true && r() < 0.2 ? pick(['Q1', 'Q2|odd']) : null;
    return {
      problem_id: `p${i % 37}`,
      path_id: `p${i % 37}/${i}`,
      domain: pick(['math', 'physics', 'chemistry', 'other'] as const),
      mode: pick(['ars-guided', 'free']),
      PC: r() < 0.03 ? null : score(),
      GC: k1 ? null : score(),
      FA: k1 ? null : score(),
      region: pick(['reliable', 'uncertain', 'unreliable']),
      category: pick([
        'reliable-correct',
        'reliable-incorrect',
        'unreliable-correct',
        'unreliable-incorrect',
        'uncertain',
      ]),
      final_correct: y,
      label_source: label,
      ffs_node: ffs,
      ffs_step: ffs ? Math.floor(r() * 5) : -1,
      ffs_depth: ffs === 'F' || ffs === 'Qx' ? null : ffs ? Math.floor(r() * 3) : null,
      silent_failure_node: silent,
      silent_depth: silent ? Math.floor(r() * 3) : null,
      k_drawn: r() < 0.1 ? null : pick([2, 4, 8]),
    };
  });
}

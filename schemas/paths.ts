/** @module schemas/paths  Sampled reasoning paths and their TRACE scores. */
import { t, table, type Infer, type Row } from './define.ts';
import { DOMAINS, PROBLEM_ROLES } from './problems.ts';

export const PATH_MODES = ['ars-guided', 'free'] as const;
export const VERDICTS = ['ok', 'missing', 'contested', 'fail'] as const;
export const REGIONS = ['reliable', 'uncertain', 'unreliable'] as const;
export const CATEGORIES = [
  'reliable-correct',
  'reliable-incorrect',
  'unreliable-correct',
  'unreliable-incorrect',
  'uncertain',
] as const;
export const LABEL_SOURCES = ['gold', 'consensus', 'given', 'none'] as const;
/** What placed a First Failure Step (TRACE.md "First Failure Step"). */
export const FFS_EVIDENCE = ['arithmetic', 'node', 'final'] as const;
export type PathMode = (typeof PATH_MODES)[number];
export type Verdict = (typeof VERDICTS)[number];
export type Region = (typeof REGIONS)[number];
export type Category = (typeof CATEGORIES)[number];
export type LabelSource = (typeof LABEL_SOURCES)[number];
export type FfsEvidence = (typeof FFS_EVIDENCE)[number];

/** A path's answer to one ARS node; `step` is the index in `steps` where it was answered. */
export const nodeAnswer = t.struct({
  node_id: t.string(),
  answer: t.nullable(t.string()),
  step: t.nullable(t.int()),
});
export type NodeAnswer = Infer<typeof nodeAnswer>;

/** One sampled (or imported) solution of a problem. `aligned_paths` has the same columns. */
export const paths = table('paths', {
  run_id: t.string(),
  problem_id: t.text(),
  path_id: t.text(),
  mode: t.enum(PATH_MODES),
  sample_index: t.int(),
  model: t.string(),
  /** The solution cut into steps; for ars-guided paths one step per node, `F` last. */
  steps: t.list(t.string()),
  /** Node answers; filled by generate for ars-guided paths and by align for free paths. */
  node_answers: t.withDefault(t.list(nodeAnswer), () => []),
  final_answer: t.nullable(t.string()),
  /** Correctness label that came with an imported path (e.g. GSM8K `is_correct`). */
  given_correct: t.nullable(t.bool()),
  finish_reason: t.nullable(t.string()),
  tokens_in: t.withDefault(t.int(), () => 0),
  tokens_out: t.withDefault(t.int(), () => 0),
});
export type PathRow = Row<typeof paths>;
export const alignedPaths = paths.as('aligned_paths');

export const nodeVerdict = t.struct({
  node_id: t.string(),
  answer: t.nullable(t.string()),
  reference: t.nullable(t.string()),
  verdict: t.enum(VERDICTS),
  /** Node agreement g(Qi). */
  agreement: t.double(),
  step: t.nullable(t.int()),
});
export type NodeVerdict = Infer<typeof nodeVerdict>;

/** Columns every scored and emitted row carries so it can be traced to its request. */
export const traceColumns = {
  problem_id: t.text(),
  path_id: t.text(),
  domain: t.enum(DOMAINS),
  PC: t.nullable(t.double()),
  GC: t.nullable(t.double()),
  /** Final agreement FA_k: share of the other K-1 paths with an equivalent final answer; null when K = 1. */
  FA: t.nullable(t.double()),
  region: t.enum(REGIONS),
  model: t.string(),
  run_id: t.string(),
};

export const scoredPaths = table('scored_paths', {
  ...traceColumns,
  mode: t.enum(PATH_MODES),
  category: t.enum(CATEGORIES),
  final_answer: t.nullable(t.string()),
  /** Final correctness y_k; null when there is neither a gold answer nor a final consensus. */
  final_correct: t.nullable(t.bool()),
  label_source: t.enum(LABEL_SOURCES),
  ffs_node: t.nullable(t.string()),
  /** Position of the FFS (node order for ars-guided, step index for free); -1 = no error. */
  ffs_step: t.int(),
  /** What placed `ffs_step`: a false computation, a node answer off its reference, or only the final answer; null without FFS. */
  ffs_evidence: t.nullable(t.enum(FFS_EVIDENCE)),
  silent_failure_node: t.nullable(t.string()),
  /** The problem's role (score writes `data` or `calibration`; absent reads as `data`): calibration problems are never emitted. */
  role: t.nullable(t.enum(PROBLEM_ROLES)),
  verdicts: t.list(nodeVerdict),
  steps: t.list(t.string()),
});
export type ScoredPath = Row<typeof scoredPaths>;

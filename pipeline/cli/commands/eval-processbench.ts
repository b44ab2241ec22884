/**
 * @module pipeline/cli/commands/eval-processbench
 * `tracepipe eval processbench`: First Failure Step localisation with no model, on ProcessBench's
 * GSM8K half. Each solution is aligned to the GSM8K socratic ARS of its problem and scored
 * against the ARS gold answers (`final_correct`); a wrong one gets its FFS step from its own
 * value graph (`valuegraph.ts`, `rootcause.ts`). ProcessBench's labels are read only after
 * every prediction is made, to compute the metric, over all rows and over even and odd rows.
 *
 * With a model (`extractor`), every row is also aligned by the align stage's extractor mode
 * (`alignAllWithExtractor`: an OpenAI-compatible server names the step answering each ARS node,
 * through the durable request cache, so a re-run sends nothing) and its prediction is `score`'s
 * TRACE `ffs_step`, reported apart in `extractor`. The numeric fields do not change.
 *
 * `label_step_without_new_number` makes the ceiling of number rules checkable: among erroneous
 * rows with a wrong final answer, those whose labelled step writes no number beyond the ARS gold
 * values, the question's numbers and the constants, so that no rule on values can single it out.
 */
import { join } from 'node:path';
import type { ArsNode, PathRow, Problem, ScoredPath } from '../../../schemas/index.ts';
import { ingest } from '../../../stages/ingest/ingest.ts';
import { normaliseQuestion } from '../../../stages/ingest/gsm8k.ts';
import { processbenchTruth, readProcessbench } from '../../../stages/ingest/processbench.ts';
import { nodeFiles } from '../../io/files.ts';
import { align } from '../../../stages/align/align.ts';
import { goldValues, valueGraphFailureStep } from '../../../stages/align/rootcause.ts';
import { buildValueGraph } from '../../../stages/align/valuegraph.ts';
import { sameValue } from '../../../stages/align/arith.ts';
import { alignAllWithExtractor } from '../../../stages/align/extract-all.ts';
import { extractorGenerateConfig } from '../../io/client/config.ts';
import { withModel } from '../../io/client/open.ts';
import { DEFAULT_KEY_ENV, redactModel, redactText } from '../../io/client/config.ts';
import { ConfigError } from '../../../schemas/config.ts';
import { Store } from '../../io/store.ts';
import { score } from '../../../stages/score/score.ts';
import { processBenchF1 } from '../../../stages/lib/metrics.ts';

export interface EvalProcessbenchOptions {
  /** ProcessBench JSON array (e.g. `gsm8k.dev.json`). */
  data: string;
  /** GSM8K `test_socratic.jsonl`, the ARS of every problem. */
  ars: string;
  log?: (line: string) => void;
  /** Also align every row with an extractor model and report its metric (`extractor`). */
  extractor?: ExtractorOptions;
}

/** The extractor model: an OpenAI-compatible server. The key is read from the environment only. */
export interface ExtractorOptions {
  /** e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl?: string | undefined;
  model?: string | undefined;
  /** Name of the environment variable holding the API key (default `OPENAI_API_KEY`). */
  apiKeyEnv?: string | undefined;
  /** DuckDB file of the durable request cache (default `runs/eval-processbench/state.duckdb`). */
  state?: string | undefined;
  /** Requests in flight, a positive integer (default 16); a string as the command line gives it. */
  concurrency?: string | number | undefined;
  /** Stops sending requests; the run then fails, keeping every finished reply in the cache. */
  signal?: AbortSignal | undefined;
}

/** Default DuckDB file of the extractor's request cache, relative to the working directory. */
export const DEFAULT_STATE = join('runs', 'eval-processbench', 'state.duckdb');

/** The extractor-aligned run: ProcessBench's metric of `score`'s TRACE ffs_step, and the client's counts. */
export interface ExtractorSummary {
  model: string;
  acc_error: number;
  acc_correct: number;
  f1: number;
  /** Rows the extractor aligned; rows it failed on kept numeric alignment (`fell_back`). */
  extracted: number;
  fell_back: number;
  /** HTTP requests sent, and replies served from the cache. */
  requests: number;
  cache_hits: number;
}

/** The ceiling of number rules (see `numberRuleCeiling`). */
export interface NumberRuleCeiling {
  label_step_without_new_number: { rows: number; of: number };
  erroneous_final_correct: number;
}

/** The metric on a subset of rows. */
export interface Processbench {
  n: number;
  acc_error: number;
  acc_correct: number;
  f1: number;
}

export interface EvalProcessbenchSummary {
  n: number;
  /** Accuracy on samples with an error (label != -1), ×100. */
  acc_error: number;
  /** Accuracy on samples with no error (label = -1), ×100. */
  acc_correct: number;
  f1: number;
  /** Rows that could not be evaluated (no matching GSM8K problem, malformed). */
  skipped: number;
  /** The same metric with `score`'s own `ffs_step` (ARS-node FFS), for comparison. */
  f1_score_ffs_step: number;
  /** The metric on the even-indexed well-formed rows (0, 2, ...), where the rules were chosen, and on the odd ones. */
  even: Processbench;
  odd: Processbench;
  /**
   * Erroneous rows (label >= 0) with a wrong final answer (`of`) whose labelled step writes no
   * number but ARS gold values, question numbers and constants (`rows`): no rule on values can
   * tell that step from a right one.
   */
  label_step_without_new_number: { rows: number; of: number };
  /** Erroneous rows whose final answer is right: a wrong final answer does not reveal them. */
  erroneous_final_correct: number;
  /** With a model only: the extractor-aligned run. */
  extractor?: ExtractorSummary;
}

/** One labelled row for `numberRuleCeiling`: its steps, its problem's ARS nodes (`F` holds the question), its truth. */
export interface CeilingRow {
  steps: readonly string[];
  nodes: readonly Pick<ArsNode, 'answer' | 'is_final' | 'question'>[];
  label: number;
  final_answer_correct: boolean;
}

/**
 * Counts, among erroneous rows (label >= 0) whose final answer is wrong, those whose labelled
 * step has no value-graph node that is neither a gold value of an ARS node nor `given` (a
 * question number or a constant): the step writes no new number. Erroneous rows whose final
 * answer is right are counted apart. Pure; for after the predictions are made.
 */
export function numberRuleCeiling(rows: Iterable<CeilingRow>): NumberRuleCeiling {
  let withNew = 0,
    of = 0,
    finalCorrect = 0;
  for (const r of rows) {
    if (r.label < 0) continue;
    if (r.final_answer_correct) {
      finalCorrect++;
      continue;
    }
    of++;
    const golds = goldValues(r.nodes);
    const g = buildValueGraph(r.steps, r.nodes.find((n) => n.is_final)?.question ?? '');
    if (g.nodes.some((n) => n.step === r.label && n.kind !== 'given' && !golds.some((v) => sameValue(v, n.value))))
      withNew++;
  }
  return { label_step_without_new_number: { rows: of - withNew, of }, erroneous_final_correct: finalCorrect };
}

/** Checks the extractor options before any work: both or neither of base URL and model. */
function checkExtractor(
  x: ExtractorOptions | undefined,
): { baseUrl: string; model: string; apiKeyEnv: string; state: string; concurrency: number } | null {
  if (!x || (x.baseUrl === undefined && x.model === undefined)) return null;
  if (x.baseUrl === undefined || x.baseUrl === '')
    throw new ConfigError(
      'eval processbench: --model needs --base-url (the OpenAI-compatible server the extractor runs on), e.g. --base-url http://127.0.0.1:8000/v1',
    );
  if (x.model === undefined || x.model === '')
    throw new ConfigError("eval processbench: --base-url needs --model (the extractor model's name on that server)");
  try {
    new URL(x.baseUrl);
  } catch {
    throw new ConfigError(
      `eval processbench: --base-url should be a URL such as http://127.0.0.1:8000/v1, got ${JSON.stringify(redactModel({ base_url: x.baseUrl, model: '' }).base_url)}`,
    );
  }
  const apiKeyEnv = x.apiKeyEnv ?? DEFAULT_KEY_ENV;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
    throw new ConfigError(
      'eval processbench: --api-key-env should be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key',
    );
  const concurrency = Number(x.concurrency ?? 16);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(
      `eval processbench: --concurrency should be a positive integer, got ${JSON.stringify(x.concurrency)}`,
    );
  return { baseUrl: x.baseUrl, model: x.model, apiKeyEnv, state: x.state ?? DEFAULT_STATE, concurrency };
}

/**
 * Predicted ProcessBench label of one scored free path: -1 when its final answer is right; else
 * the first failure on its value graph (`firstFailure`: the earliest step with a suspect value
 * whose operands are all trusted, or holding the wrong final value), else its last step (TRACE:
 * no root cause, the error is in `F`).
 */
export function predictFfsStep(
  path: Pick<PathRow, 'steps' | 'final_answer'>,
  scored: Pick<ScoredPath, 'final_correct'>,
  nodes: readonly ArsNode[],
): number {
  if (scored.final_correct !== false) return -1;
  return Math.max(0, valueGraphFailureStep(path.steps, path.final_answer, nodes) ?? path.steps.length - 1);
}

/** Runs the evaluation and returns ProcessBench's metric (×100). */
export async function evalProcessbench(opts: EvalProcessbenchOptions): Promise<EvalProcessbenchSummary> {
  const log = opts.log ?? (() => {});
  const ext = checkExtractor(opts.extractor);
  const runId = 'eval-processbench';
  const files = nodeFiles();
  const ing = await ingest([{ path: opts.ars, format: 'gsm8k-socratic' }], { runId, files });
  const ids = new Map(ing.problems.map((p) => [normaliseQuestion(p.question), p.problem_id]));
  const { rows, rejects } = await readProcessbench(opts.data, files);
  const paths: PathRow[] = [];
  for (const r of rows) {
    const problemId = ids.get(normaliseQuestion(r.problem));
    if (problemId === undefined) {
      log(`skipped ${r.id}: its problem matches no GSM8K problem`);
      continue;
    }
    // Only what a solver would see: problem, steps. final_answer_correct and label stay unread.
    paths.push({
      run_id: runId,
      problem_id: problemId,
      path_id: r.id,
      mode: 'free',
      sample_index: 0,
      model: r.generator,
      steps: r.steps,
      node_answers: [],
      final_answer: null,
      given_correct: null,
      finish_reason: null,
      tokens_in: 0,
      tokens_out: 0,
    });
  }
  const used = new Set(paths.map((p) => p.problem_id));
  const problems = ing.problems.filter((p) => used.has(p.problem_id));
  const nodes = ing.nodes.filter((n) => used.has(n.problem_id));
  // Localisation wants every step a node was answered at, carried to the final answer or not.
  const aligned = align({ paths, nodes }, { carry: false }).paths;
  const { scored } = score({ problems, nodes, paths: aligned }, { runId });
  const nodesBy = new Map<string, ArsNode[]>();
  for (const n of nodes)
    nodesBy.set(
      n.problem_id,
      [...(nodesBy.get(n.problem_id) ?? []), n].sort((a, b) => a.position - b.position),
    );
  const byId = new Map(aligned.map((p) => [p.path_id, p]));
  const index = new Map(rows.map((r, i) => [r.id, i]));
  const predictions = scored.map((s) => ({
    id: s.path_id,
    problem_id: s.problem_id,
    even: (index.get(s.path_id) ?? 0) % 2 === 0,
    predicted: predictFfsStep(byId.get(s.path_id)!, s, nodesBy.get(s.problem_id) ?? []),
    fromScore: s.ffs_step,
  }));
  log(`predicted ${predictions.length} of ${rows.length} rows (${rejects.length} malformed)`);
  const extracted =
    ext === null
      ? null
      : await extractorPredictions(ext, { problems, nodes, paths }, runId, log, opts.extractor?.signal);

  // Every prediction is made: only now are ProcessBench's labels and final-answer flags read.
  const truth = await processbenchTruth(opts.data, files);
  const labels = new Map([...truth].map(([id, r]) => [id, r.label]));
  const rowsWithLabel = predictions.filter((p) => labels.has(p.id));
  const metric = (ps: typeof rowsWithLabel) =>
    processBenchF1(ps.map((p) => ({ label: labels.get(p.id)!, predicted: p.predicted })));
  const base = processBenchF1(rowsWithLabel.map((p) => ({ label: labels.get(p.id)!, predicted: p.fromScore })));
  const ceiling = numberRuleCeiling(
    rowsWithLabel.map((p) => {
      const t = truth.get(p.id)!;
      return {
        steps: byId.get(p.id)!.steps,
        nodes: nodesBy.get(p.problem_id) ?? [],
        label: t.label,
        final_answer_correct: t.final_answer_correct,
      };
    }),
  );
  let extractor: ExtractorSummary | undefined;
  if (extracted !== null) {
    const m = processBenchF1(
      rowsWithLabel.map((p) => ({ label: labels.get(p.id)!, predicted: extracted.predicted.get(p.id) ?? -1 })),
    );
    extractor = { model: ext!.model, acc_error: m.acc_error, acc_correct: m.acc_correct, f1: m.f1, ...extracted.stats };
  }
  return {
    ...metric(rowsWithLabel),
    skipped: rows.length + rejects.length - rowsWithLabel.length,
    f1_score_ffs_step: base.f1,
    even: metric(rowsWithLabel.filter((p) => p.even)),
    odd: metric(rowsWithLabel.filter((p) => !p.even)),
    ...ceiling,
    ...(extractor ? { extractor } : {}),
  };
}

/**
 * Aligns every path with the extractor model (the align stage's extractor mode: temperature 0,
 * a fixed seed, one request per path, replies cached in `state`), scores them, and returns each
 * path's TRACE `ffs_step` (-1 when its final answer is right) with the client's counts.
 */
async function extractorPredictions(
  ext: { baseUrl: string; model: string; apiKeyEnv: string; state: string; concurrency: number },
  input: { problems: readonly Problem[]; nodes: readonly ArsNode[]; paths: readonly PathRow[] },
  runId: string,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<{
  predicted: Map<string, number>;
  stats: Omit<ExtractorSummary, 'model' | 'acc_error' | 'acc_correct' | 'f1'>;
}> {
  const model = { base_url: ext.baseUrl, model: ext.model, api_key_env: ext.apiKeyEnv };
  // Every line passes through the key's redaction, whatever produced it.
  const secret = process.env[ext.apiKeyEnv];
  const say = (line: string) => log(redactText(line, secret));
  say(
    `extractor: ${ext.model} at ${redactModel(model).base_url} (key from $${ext.apiKeyEnv}${secret ? '' : ', which is unset: a placeholder is sent'}), request cache ${ext.state}`,
  );
  const cfg = { model, generate: extractorGenerateConfig(ext.concurrency) };
  const store = await Store.open(ext.state);
  try {
    const r = await withModel(store, cfg.model, cfg.generate, { log: say, ...(signal ? { signal } : {}) }, (port) =>
      alignAllWithExtractor({ paths: input.paths, nodes: input.nodes }, cfg.generate, { model: port }),
    );
    if (signal?.aborted)
      throw new Error(
        `eval processbench: interrupted after ${r.stats.requests} extractor requests; finished replies are kept in ${ext.state}, a re-run resumes from them`,
      );
    for (const x of r.rejects.slice(0, 5)) say(x.message);
    if (r.rejects.length > 5) say(`... and ${r.rejects.length - 5} more paths the extractor could not align`);
    say(
      `extractor: aligned ${r.stats.extracted} of ${input.paths.length} paths, ${r.stats.fell_back} kept numeric alignment; ${r.stats.requests} requests, ${r.stats.cache_hits} cache hits`,
    );
    const { scored } = score({ problems: input.problems, nodes: input.nodes, paths: r.paths }, { runId });
    return {
      predicted: new Map(scored.map((s) => [s.path_id, s.ffs_step])),
      stats: {
        extracted: r.stats.extracted,
        fell_back: r.stats.fell_back,
        requests: r.stats.requests,
        cache_hits: r.stats.cache_hits,
      },
    };
  } finally {
    store.close();
  }
}

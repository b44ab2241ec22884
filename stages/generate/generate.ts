/**
 * @module stages/generate/generate
 * Samples K reasoning paths per problem and mode (`ars-guided` with structured output, `free`
 * as plain text) from an OpenAI-compatible server. Every guided reply is checked against the
 * ARS and re-asked when it is not valid; what still fails becomes a reject with its reason and
 * the raw reply. Replies are cached in the run's store, so a re-run or a resumed run repeats no
 * request. With adaptive sampling a problem draws in rounds and stops once its paths settle what it
 * yields (adaptive.ts); sample `i` is the same request (and cache key) either way, so an adaptive
 * run's requests are a subset of a fixed-K run's. Memory: at most `2 × concurrency` problems
 * (their prompts and images) are open at once.
 */
import { intermediate, parseGuided } from '../lib/prompts.ts';
import type { ArsNode, PathRow, Problem, Reject } from '../../schemas/index.ts';
import type { PathMode } from '../../schemas/paths.ts';
import type { DrawRow } from '../../schemas/state.ts';
import type {
  ImagePort,
  Log,
  ModelCounters,
  ModelPort,
  ProgressSink,
  SampleOutcome,
  SampleRequest,
} from '../lib/ports.ts';
import { cut4k } from '../lib/text.ts';
import { drawRounds, settles, type AdaptiveSettings, type StopSettings } from './adaptive.ts';
import { mapLimit } from '../lib/pool.ts';
import { checkFree, pathRequest, withNote } from './request.ts';
import { byProblemId } from '../lib/group.ts';

export { pathRequest } from './request.ts';

/** The model's counters (requests, cache hits, retries, errors, statuses, tokens, cost) plus the stage's own. */
export interface GenerateStats extends ModelCounters {
  truncated: number;
  reasks: number;
  paths: number;
  rejects: number;
  /** Samples not attempted because the run stopped (budget or signal). */
  skipped: number;
  /** Samples adaptive sampling did not draw: its problem was settled before `k`. */
  samples_saved: number;
  stopped_by_budget: boolean;
  stopped_by_signal: boolean;
  wall_ms: number;
}

/** What generation needs of the config. */
export interface GenerateSettings {
  k: number;
  modes: readonly PathMode[];
  max_tokens: number;
  max_reasks: number;
  /** Problems in flight at once: twice this many are open (their prompts and images). */
  concurrency: number;
  /** Draw in rounds and stop a settled problem early (TRACE.md "Adaptive sampling"); null or absent: `k` each. */
  adaptive?: AdaptiveSettings | null;
}

export interface GenerateRunConfig {
  generate: GenerateSettings;
  runId: string;
  /** What adaptive sampling's rule weighs (thresholds, emit's caps); needed when `generate.adaptive` is set. */
  stop?: Omit<StopSettings, 'rule' | 'paths_max'>;
}

export interface GenerateDeps {
  model: ModelPort;
  images: ImagePort;
  progress?: ProgressSink;
  log?: Log;
}

export interface GenerateOutput {
  paths: PathRow[];
  rejects: Reject[];
  /** Samples drawn per problem and mode (none for a problem the run stopped before). */
  draws: DrawRow[];
  stats: GenerateStats;
}

type Slot = { path: PathRow } | { reject: Reject } | { skipped: true } | { saved: true };

/** Generates K paths per problem and mode; bad replies and failed requests become rejects, never throws for an item. */
export async function generate(
  input: { problems: Problem[]; nodes: ArsNode[] },
  cfg: GenerateRunConfig,
  deps: GenerateDeps,
): Promise<GenerateOutput> {
  const started = Date.now();
  const g = cfg.generate;
  const client = deps.model;
  let done = 0;
  let truncated = 0;
  let reasks = 0;
  const counts = () => {
    const c = client.counters();
    return {
      done,
      tokens_in: c.tokens_in,
      tokens_out: c.tokens_out,
      cache_hits: c.cache_hits,
      retries: c.retries,
      errors: c.errors,
    };
  };
  const nodesOf = byProblemId(input.nodes);
  const perProblem = g.modes.length * g.k;
  const slots: (Slot | undefined)[] = new Array(input.problems.length * perProblem);
  const settle = (at: number, s: Slot) => {
    slots[at] = s;
    done++;
    deps.progress?.update(counts());
  };
  const stopped = () => client.stopped() !== null;

  /** Finishes one sample: a length retry, then (guided) parse and re-ask until valid or out of re-asks. */
  const finish = async (
    p: Problem,
    mode: PathMode,
    nodes: ArsNode[],
    req: SampleRequest,
    idx: number,
    first: SampleOutcome,
  ): Promise<Slot> => {
    const path_id = `${p.problem_id}/${mode}/${idx}`;
    const reject = (code: string, message: string, raw: string | null): Slot => ({
      reject: {
        stage: 'generate',
        source: p.problem_id,
        item: path_id,
        code,
        path:
          code === 'invalid_json' || code === 'schema' || code === 'truncated' || code === 'no_final_answer'
            ? 'reply'
            : 'request',
        message: `path ${path_id}: ${message}`,
        raw: raw === null ? null : cut4k(client.redact(raw)),
      },
    });
    let tokens_in = 0;
    let tokens_out = 0;
    const complete = async (r: SampleRequest, o: SampleOutcome): Promise<SampleOutcome> => {
      if (o.ok) {
        tokens_in += o.tokens_in;
        tokens_out += o.tokens_out;
      }
      if (!o.ok || o.finish_reason !== 'length') return o;
      truncated++;
      const again = (await client.sample({ ...r, max_tokens: r.max_tokens * 2 }, [idx]))[0]!;
      if (again.ok) {
        tokens_in += again.tokens_in;
        tokens_out += again.tokens_out;
      }
      if (again.ok && again.finish_reason === 'length') truncated++;
      return again;
    };
    let cur = req;
    let o = await complete(cur, first);
    for (let attempt = 0; ; attempt++) {
      if (!o.ok)
        return o.stopped ? { skipped: true } : reject(o.code, `request failed after retries: ${o.message}`, null);
      if (o.finish_reason === 'length')
        return reject(
          'truncated',
          `reply was cut at max_tokens twice (last budget ${cur.max_tokens * 2} tokens)`,
          o.content,
        );
      const parsed = mode === 'free' ? checkFree(o.content) : parseGuided(o.content, nodes);
      if (parsed.ok) {
        return {
          path: {
            run_id: cfg.runId,
            problem_id: p.problem_id,
            path_id,
            mode,
            sample_index: idx,
            model: client.model,
            ...parsed.value,
            given_correct: null,
            finish_reason: o.finish_reason,
            tokens_in,
            tokens_out,
          },
        };
      }
      if (attempt >= g.max_reasks)
        return reject(parsed.code, `${parsed.message} (after ${attempt} re-asks)`, o.content);
      if (stopped()) return { skipped: true };
      reasks++;
      // The re-ask restates the prompt with a note per failed attempt appended to the user turn, so every
      // re-ask is a distinct request (and cache key) and still carries the whole problem.
      cur = {
        ...cur,
        messages: withNote(
          cur.messages,
          `A previous reply could not be used: ${parsed.message}. ${mode === 'free' ? 'Solve it again, one "Step k:" line per step, ending with "Final answer: <answer>".' : 'Reply with only the JSON object, one entry per sub-question in order, then "final".'}`,
        ),
      };
      o = await complete(cur, (await client.sample(cur, [idx]))[0]!);
    }
  };

  const adaptive = g.adaptive ?? null;
  if (adaptive && !cfg.stop)
    throw new Error('generate: adaptive sampling needs the stop settings (thresholds, emit caps)');
  const draws: DrawRow[] = [];
  const runProblem = async (pi: number): Promise<void> => {
    const p = input.problems[pi]!;
    const base = pi * perProblem;
    const slotAt = (mi: number, idx: number) => base + mi * g.k + idx;
    if (stopped()) {
      for (let j = 0; j < perProblem; j++) settle(base + j, { skipped: true });
      return;
    }
    const nodes = (nodesOf.get(p.problem_id) ?? []).sort((a, b) => a.position - b.position);
    const images = await deps.images(p.images);
    const live: { mi: number; mode: PathMode; req: SampleRequest }[] = [];
    g.modes.forEach((mode, mi) => {
      const problemReject = (code: string, path: string, message: string) => {
        for (let idx = 0; idx < g.k; idx++)
          settle(slotAt(mi, idx), {
            reject: {
              stage: 'generate',
              source: p.problem_id,
              item: `${p.problem_id}/${mode}/${idx}`,
              code,
              path,
              message: `problem ${p.problem_id}: ${message}`,
              raw: null,
            },
          });
        draws.push({ problem_id: p.problem_id, mode, k: g.k, k_drawn: 0, rounds: 0, stop: 'rejected' });
      };
      if (!images.ok) return problemReject('image', images.path, images.message);
      if (mode === 'ars-guided' && intermediate(nodes).length === 0)
        return problemReject(
          'no_ars',
          'ars',
          `ars-guided needs an ARS with at least one sub-question, got ${nodes.length === 0 ? 'none' : 'only F'}`,
        );
      live.push({ mi, mode, req: pathRequest(p, mode, nodes, images.parts, g.max_tokens) });
    });
    if (live.length === 0) return;
    const got: PathRow[] = [];
    const r = await drawRounds({
      k: g.k,
      adaptive,
      stopped,
      // Each round asks the next indices of every mode; sample i is the same request as with fixed K.
      draw: (from, to) =>
        Promise.all(
          live.map(async ({ mi, mode, req }) => {
            const indices = Array.from({ length: to - from }, (_, i) => from + i);
            const firsts = await client.sample(req, indices);
            await Promise.all(
              indices.map(async (idx, j) => {
                const slot = await finish(p, mode, nodes, req, idx, firsts[j]!);
                if ('path' in slot) got.push(slot.path);
                settle(slotAt(mi, idx), slot);
              }),
            );
          }),
        ).then(() => undefined),
      settled: () => settles(p, nodes, got, { ...cfg.stop!, rule: adaptive!.stop, paths_max: g.k * live.length }),
    });
    // Samples past the last round: saved when the problem settled, skipped (not done) when the run stopped.
    for (const { mi } of live)
      for (let idx = r.drawn; idx < g.k; idx++)
        settle(slotAt(mi, idx), r.stop === 'stopped' ? { skipped: true } : { saved: true });
    if (r.stop !== 'stopped')
      for (const { mode } of live)
        draws.push({ problem_id: p.problem_id, mode, k: g.k, k_drawn: r.drawn, rounds: r.rounds, stop: r.stop });
  };

  // A fixed pool of workers walks the problems in order; each keeps one problem's requests queued.
  await mapLimit(input.problems, 2 * g.concurrency, (_, i) => runProblem(i));

  const paths: PathRow[] = [];
  const rejects: Reject[] = [];
  let skipped = 0;
  let saved = 0;
  for (const s of slots) {
    if (!s || 'skipped' in s) skipped++;
    else if ('saved' in s) saved++;
    else if ('path' in s) paths.push(s.path);
    else rejects.push(s.reject);
  }
  const why = client.stopped();
  const stats: GenerateStats = {
    ...client.counters(),
    truncated,
    reasks,
    paths: paths.length,
    rejects: rejects.length,
    skipped,
    samples_saved: saved,
    stopped_by_budget: why === 'budget',
    stopped_by_signal: why === 'signal',
    wall_ms: Date.now() - started,
  };
  deps.progress?.finish(counts());
  // Only what needs attention is logged per shard; the engine's summary has the counts.
  if (rejects.length || stats.stopped_by_budget || stats.stopped_by_signal)
    deps.log?.(
      `generate: ${paths.length} paths, ${rejects.length} rejects (${[...new Set(rejects.map((r) => r.code))].join(', ') || 'none'}), ${skipped} skipped; ${stats.requests} requests, ${stats.cache_hits} cache hits, ${stats.retries} retries, $${stats.cost_usd.toFixed(4)}${stats.stopped_by_budget ? ' (stopped by budget)' : ''}${stats.stopped_by_signal ? ' (stopped by signal)' : ''}`,
    );

  return { paths, rejects, draws, stats };
}

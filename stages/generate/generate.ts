/**
 * @module stages/generate/generate
 * Samples K reasoning paths per problem and mode (`ars-guided` with structured output, `free`
 * as plain text) from an OpenAI-compatible server. Every guided reply is checked against the
 * ARS and re-asked when it is not valid; what still fails becomes a reject with its reason and
 * the raw reply. Replies are cached in the run's store, so a re-run or a resumed run repeats no
 * request. Memory: at most `2 × concurrency` problems (their prompts and images) are open at once.
 */
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  freeMessages,
  guidedMessages,
  guidedSchema,
  intermediate,
  parseFree,
  parseGuided,
  type ChatMessage,
  type ParseResult,
} from '../lib/prompts.ts';
import type { ArsNode, PathRow, Problem, Reject } from '../../schemas/index.ts';
import type { PathMode } from '../../schemas/paths.ts';
import type {
  ImagePart,
  ImagePort,
  Log,
  ModelCounters,
  ModelPort,
  ProgressSink,
  SampleOutcome,
  SampleRequest,
} from '../lib/ports.ts';
import { cut4k } from '../lib/text.ts';

/** The model's counters (requests, cache hits, retries, errors, statuses, tokens, cost) plus the stage's own. */
export interface GenerateStats extends ModelCounters {
  truncated: number;
  reasks: number;
  paths: number;
  rejects: number;
  /** Samples not attempted because the run stopped (budget or signal). */
  skipped: number;
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
}

export interface GenerateRunConfig {
  generate: GenerateSettings;
  runId: string;
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
  stats: GenerateStats;
}

type Slot = { path: PathRow } | { reject: Reject } | { skipped: true };

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
  const nodesOf = new Map<string, ArsNode[]>();
  for (const n of input.nodes) (nodesOf.get(n.problem_id) ?? nodesOf.set(n.problem_id, []).get(n.problem_id)!).push(n);
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
    await Promise.all(
      g.modes.map(async (mode, mi) => {
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
        };
        if (!images.ok) return problemReject('image', images.path, images.message);
        if (mode === 'ars-guided' && intermediate(nodes).length === 0)
          return problemReject(
            'no_ars',
            'ars',
            `ars-guided needs an ARS with at least one sub-question, got ${nodes.length === 0 ? 'none' : 'only F'}`,
          );
        const messages = withImages(mode === 'ars-guided' ? guidedMessages(p, nodes) : freeMessages(p), images.parts);
        const req: SampleRequest = {
          messages,
          max_tokens: g.max_tokens,
          json_schema: mode === 'ars-guided' ? guidedSchema(nodes) : null,
        };
        const indices = Array.from({ length: g.k }, (_, i) => i);
        const firsts = await client.sample(req, indices);
        await Promise.all(
          indices.map(async (idx) => settle(slotAt(mi, idx), await finish(p, mode, nodes, req, idx, firsts[idx]!))),
        );
      }),
    );
  };

  // A fixed pool of workers walks the problems in order; each keeps one problem's requests queued.
  let next = 0;
  const workers = Math.max(1, Math.min(input.problems.length, 2 * g.concurrency));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < input.problems.length) await runProblem(next++);
    }),
  );

  const paths: PathRow[] = [];
  const rejects: Reject[] = [];
  let skipped = 0;
  for (const s of slots) {
    if (!s || 'skipped' in s) skipped++;
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

  return { paths, rejects, stats };
}

/** A free reply is usable when it states a final answer; one without is re-asked like a schema miss. */
function checkFree(text: string): ParseResult {
  const value = parseFree(text);
  return value.final_answer === null
    ? { ok: false, code: 'no_final_answer', message: 'reply has no line "Final answer: <answer>"' }
    : { ok: true, value };
}

/** The prompt's messages with the images appended to the user turn as image_url parts. */
function withImages(messages: ChatMessage[], images: ImagePart[]): ChatCompletionMessageParam[] {
  return messages.map((msg): ChatCompletionMessageParam => {
    if (msg.role !== 'user' || images.length === 0)
      return msg.role === 'system'
        ? { role: 'system', content: msg.content }
        : msg.role === 'user'
          ? { role: 'user', content: msg.content }
          : { role: 'assistant', content: msg.content };
    const parts: ChatCompletionContentPart[] = [{ type: 'text', text: msg.content }, ...images];
    return { role: 'user', content: parts };
  });
}

/** The messages with `note` appended to the last user turn (text part, images kept). */
function withNote(messages: ChatCompletionMessageParam[], note: string): ChatCompletionMessageParam[] {
  const at = messages.map((m) => m.role).lastIndexOf('user');
  return messages.map((m, i) => {
    if (i !== at || m.role !== 'user') return m;
    if (typeof m.content === 'string') return { role: 'user', content: `${m.content}\n\n${note}` };
    return { role: 'user', content: [...m.content, { type: 'text', text: note }] };
  });
}

/**
 * @module stages/rectify/rectify
 * Rectification (TRACE.md "Preference, step level"): every path with an FFS step is continued `r`
 * times from the prefix before that step, through the model port (the run's client, cache, limits,
 * budget). A continuation whose final answer is right and whose first step passes the failed node's
 * check gives a chosen step; identical chosen steps count once. Each continuation request starts
 * with the original request's messages, byte for byte, so a server's prefix cache hits; the tokens
 * it shares with the original are counted. Memory: `2 × concurrency` continuations' prompts at once.
 */
import type { ArsNode, PathRow, Problem, Reject, ScoredPath } from '../../schemas/index.ts';
import { mapLimit } from '../lib/pool.ts';
import type { RectifiedRow, RectifyStatsRow } from '../../schemas/state.ts';
import { continuationRequest, parseContinuation } from '../lib/continuation.ts';
import type { ImagePort, ModelPort, ProgressSink, SampleRequest } from '../lib/ports.ts';
import { pathRequest } from '../generate/request.ts';
import { checkTarget, chosenKey, passes } from './check.ts';

/** One problem as rectification needs it: its nodes, its paths with their steps, and their scores. */
export interface RectifyProblem {
  problem: Problem;
  nodes: readonly ArsNode[];
  paths: readonly PathRow[];
  scores: readonly Pick<ScoredPath, 'path_id' | 'ffs_node' | 'ffs_step' | 'verdicts'>[];
}

export interface RectifySettings {
  r: number;
  max_tokens: number;
  temperature: number;
  /** The token budget of the original request (generate's `max_tokens`): part of the rebuilt original. */
  original_max_tokens: number;
  /** Continuations in flight at once: twice this many are open. */
  concurrency: number;
}

export interface RectifyOutput {
  rows: RectifiedRow[];
  stats: RectifyStatsRow[];
  rejects: (Reject & { problem_id: string })[];
  /** The run stopped (budget or signal) before every continuation was asked. */
  incomplete: boolean;
  /** Problems with a failed request: not done, the next run asks again. */
  retry: string[];
}

/** Tokens of the text of a request's messages, as the simulator and the client's estimate count them (characters / 4). */
export function textTokens(messages: SampleRequest['messages']): number {
  let chars = 0;
  for (const m of messages) {
    const c = m.content;
    if (typeof c === 'string') chars += c.length;
    else if (Array.isArray(c)) for (const p of c) if ('text' in p && typeof p.text === 'string') chars += p.text.length;
  }
  return Math.ceil(chars / 4);
}

/** Continues each FFS path of each problem; never throws for one continuation. */
export async function rectify(
  problems: readonly RectifyProblem[],
  cfg: RectifySettings,
  deps: { model: ModelPort; images: ImagePort; progress?: ProgressSink },
): Promise<RectifyOutput> {
  const out: RectifyOutput = { rows: [], stats: [], rejects: [], incomplete: false, retry: [] };
  const retry = new Set<string>();
  type Job = { b: RectifyProblem; s: RectifyProblem['scores'][number]; stat: RectifyStatsRow };
  const jobs: Job[] = [];
  for (const b of problems) {
    const stat: RectifyStatsRow = {
      problem_id: b.problem.problem_id,
      ffs_paths: 0,
      continuations: 0,
      passed: 0,
      rectified_paths: 0,
      unusable: 0,
      prompt_tokens: 0,
      prefix_shared_tokens: 0,
    };
    out.stats.push(stat);
    for (const s of b.scores) if (s.ffs_node !== null && s.ffs_step >= 0) jobs.push({ b, s, stat });
  }
  // Progress: a problem is done once all its failing paths were continued.
  const pending = new Map<string, number>();
  for (const j of jobs) pending.set(j.b.problem.problem_id, (pending.get(j.b.problem.problem_id) ?? 0) + 1);
  let done = problems.length - pending.size;
  const counts = () => {
    const c = deps.model.counters();
    const { tokens_in, tokens_out, cache_hits, retries, errors } = c;
    return { done, tokens_in, tokens_out, cache_hits, retries, errors };
  };
  const images = new Map<string, ReturnType<ImagePort>>();
  const one = async ({ b, s, stat }: Job) => {
    const path = b.paths.find((p) => p.path_id === s.path_id);
    const nodes = [...b.nodes].sort((a, x) => a.position - x.position);
    const spec = (id: string) => nodes.find((n) => n.node_id === id)?.answer_spec ?? b.problem.answer_spec;
    const target = checkTarget(s, spec);
    if (!path || s.ffs_step > path.steps.length - 1) return;
    stat.ffs_paths++;
    if (!target) return;
    const pid = b.problem.problem_id;
    const img = await (images.get(pid) ?? images.set(pid, deps.images(b.problem.images)).get(pid)!);
    if (!img.ok) {
      out.rejects.push(reject(pid, s.path_id, 'image', img.path, `problem ${pid}: ${img.message}`));
      return;
    }
    const original = pathRequest(b.problem, path.mode, nodes, img.parts, cfg.original_max_tokens);
    const req: SampleRequest = {
      ...continuationRequest(original, path.steps.slice(0, s.ffs_step)),
      max_tokens: cfg.max_tokens,
      temperature: cfg.temperature,
    };
    const shared = textTokens(original.messages);
    const rejectedKey = chosenKey(path.steps[s.ffs_step]!);
    const seen = new Set<string>();
    const outcomes = await deps.model.sample(
      req,
      Array.from({ length: cfg.r }, (_, i) => i),
    );
    // Tokens per continuation prompt, once (a server taking `n` gets it once; one request per sample sends it r times).
    const asked = outcomes.find((o) => o.ok);
    if (asked?.ok) {
      stat.prompt_tokens += asked.tokens_in;
      stat.prefix_shared_tokens += Math.min(asked.tokens_in, shared);
    }
    outcomes.forEach((o, i) => {
      if (!o.ok) {
        if (o.stopped) out.incomplete = true;
        else {
          retry.add(pid);
          out.rejects.push(
            reject(
              pid,
              `${s.path_id}/rect/${i}`,
              o.code,
              'request',
              `continuation ${s.path_id}/rect/${i}: request failed after retries: ${o.message}`,
            ),
          );
        }
        return;
      }
      stat.continuations++;
      const c = parseContinuation(o.content);
      if (o.finish_reason === 'length' || c.final_answer === null) {
        stat.unusable++;
        return;
      }
      if (!passes(c, target)) return;
      stat.passed++;
      const key = chosenKey(c.steps[0]!);
      if (key === rejectedKey || seen.has(key)) return;
      seen.add(key);
      out.rows.push({
        problem_id: pid,
        path_id: s.path_id,
        rect_path_id: `${s.path_id}/rect/${i}`,
        ffs_node: s.ffs_node!,
        ffs_step: s.ffs_step,
        chosen: c.steps[0]!,
        steps: c.steps,
        final_answer: c.final_answer,
        model: deps.model.model,
      });
    });
    if (seen.size) stat.rectified_paths++;
  };
  await mapLimit(jobs, 2 * cfg.concurrency, async (job) => {
    if (deps.model.stopped()) {
      out.incomplete = true;
      return;
    }
    await one(job);
    const left = pending.get(job.b.problem.problem_id)! - 1;
    pending.set(job.b.problem.problem_id, left);
    if (left === 0) done++;
    deps.progress?.update(counts());
  });
  deps.progress?.finish(counts());
  out.retry = [...retry];
  return out;
}

const reject = (problem_id: string, item: string, code: string, path: string, message: string) => ({
  problem_id,
  stage: 'rectify',
  source: problem_id,
  item,
  code,
  path,
  message,
  raw: null,
});

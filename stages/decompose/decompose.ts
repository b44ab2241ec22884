/**
 * @module stages/decompose/decompose
 * Keeps a problem's given ARS, or asks a teacher model for one (structured output): short
 * sub-questions with their dependencies. Each proposal is validated by ingest's `buildArs` (DAG,
 * every node reaches F) and here (no sub-question reveals the final answer or restates the
 * problem; answers short; 1 to 12 nodes); an invalid one is re-asked with the reasons, then
 * rejected. The teacher's own answers are checked, never stored: a node's reference stays the
 * gold answer if the input had one, else the consensus of the sampled paths (TRACE.md).
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { mapLimit } from '../lib/pool.ts';
import { problemText, intermediate } from '../lib/prompts.ts';
import type { AnswerSpec, ArsNode, Problem, Reject } from '../../schemas/index.ts';
import { buildArs, type ArsInputNode } from '../lib/ars.ts';
import type { ImagePort, Log, ModelPort, SampleRequest } from '../lib/ports.ts';
import { cut4k } from '../lib/text.ts';
import { byProblemId } from '../lib/group.ts';

export const MAX_NODES = 12;
export const MAX_ANSWER_CHARS = 40;
export const MAX_ANSWER_WORDS = 6;

export const DECOMPOSE_SYSTEM =
  'You are a STEM teacher. Break a problem into short sub-questions (an Auxiliary Reasoning Set) whose answers lead to the solution. Each sub-question has a short answer: a number with its unit, an expression, or a one-word label. No sub-question may state or ask for the final answer itself.';

export interface DecomposeStats {
  kept: number;
  decomposed: number;
  rejected: number;
  reasks: number;
  requests: number;
  cache_hits: number;
  retries: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  stopped_by_budget: boolean;
  stopped_by_signal: boolean;
}

/** JSON schema of the teacher's reply. */
export function decomposeSchema() {
  const node = {
    type: 'object',
    properties: {
      node_id: { type: 'string' },
      question: { type: 'string' },
      depends_on: { type: 'array', items: { type: 'string' } },
      uses_image: { type: 'boolean' },
      answer: { type: 'string' },
    },
    required: ['node_id', 'question', 'depends_on', 'uses_image', 'answer'],
    additionalProperties: false,
  };
  return {
    name: 'ars_decomposition',
    strict: true,
    schema: {
      type: 'object',
      properties: {
        nodes: { type: 'array', items: node, minItems: 1, maxItems: MAX_NODES },
        final_answer: { type: 'string' },
      },
      required: ['nodes', 'final_answer'],
      additionalProperties: false,
    },
  };
}

export function decomposeMessages(
  p: Pick<Problem, 'question' | 'choices'>,
): { role: 'system' | 'user'; content: string }[] {
  return [
    { role: 'system', content: DECOMPOSE_SYSTEM },
    {
      role: 'user',
      content: `${problemText(p)}\n\nWrite 1 to ${MAX_NODES} sub-questions Q1, Q2, ... in solving order. For each give node_id, question, depends_on (ids of earlier sub-questions it uses), uses_image (true if it needs the figure) and its short answer. Then give final_answer. Reply in JSON: {"nodes": [{"node_id", "question", "depends_on", "uses_image", "answer"}], "final_answer"}.`,
    },
  ];
}

/** What decomposition needs of the config. */
export interface DecomposeSettings {
  max_tokens: number;
  max_reasks: number;
  /** Problems decomposed at once: twice this many requests may wait in line. */
  concurrency: number;
}

export type ProposalCheck = { ok: true; nodes: ArsNode[] } | { ok: false; code: string; messages: string[] };

/** Validates a teacher reply for problem `p`: JSON shape, buildArs, no leak of the final answer, short answers. */
export function checkProposal(p: Problem, text: string): ProposalCheck {
  let json: { nodes?: unknown; final_answer?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    return { ok: false, code: 'invalid_json', messages: [`reply is not valid JSON: ${(e as Error).message}`] };
  }
  if (!json || typeof json !== 'object' || !Array.isArray(json.nodes))
    return { ok: false, code: 'schema', messages: ['reply has no "nodes" list'] };
  if (json.nodes.length < 1 || json.nodes.length > MAX_NODES)
    return {
      ok: false,
      code: 'schema',
      messages: [`reply has ${json.nodes.length} nodes, expected 1 to ${MAX_NODES}`],
    };
  const issues: string[] = [];
  const input: ArsInputNode[] = [];
  for (const [i, raw] of (json.nodes as Record<string, unknown>[]).entries()) {
    const n = raw ?? {};
    if (typeof n.node_id !== 'string' || !/^Q\d+$/.test(n.node_id)) {
      issues.push(`node ${i} should have a node_id like Q${i + 1}, got ${JSON.stringify(n.node_id)}`);
      continue;
    }
    if (typeof n.question !== 'string' || n.question.trim() === '') {
      issues.push(`node ${n.node_id} has no question`);
      continue;
    }
    const deps =
      Array.isArray(n.depends_on) && n.depends_on.every((d) => typeof d === 'string')
        ? (n.depends_on as string[])
        : null;
    if (!deps) {
      issues.push(`node ${n.node_id} should have depends_on as a list of ids`);
      continue;
    }
    const answer = typeof n.answer === 'string' ? n.answer.trim() : '';
    if (answer === '' || answer.length > MAX_ANSWER_CHARS || answer.split(/\s+/).length > MAX_ANSWER_WORDS)
      issues.push(
        `node ${n.node_id} answer should be short (at most ${MAX_ANSWER_CHARS} characters, ${MAX_ANSWER_WORDS} words), got ${JSON.stringify(answer.slice(0, 60))}`,
      );
    input.push({
      node_id: n.node_id,
      question: n.question.trim(),
      depends_on: deps,
      answer: null,
      answer_spec: specOf(answer),
      uses_image: n.uses_image === true,
    });
  }
  const final = p.answer ?? (typeof json.final_answer === 'string' ? json.final_answer.trim() : null);
  for (const n of input) {
    if (norm(n.question) === norm(p.question)) issues.push(`node ${n.node_id} restates the whole problem`);
    else if (final && reveals(n.question, final))
      issues.push(`node ${n.node_id} reveals the final answer ${JSON.stringify(final)} in its question`);
  }
  if (issues.length) return { ok: false, code: 'invalid_ars', messages: issues };
  const built = buildArs(p.problem_id, input, { question: p.question, answer: p.answer, answer_spec: p.answer_spec });
  if ('issues' in built) return { ok: false, code: 'invalid_ars', messages: built.issues.map((i) => i.message) };
  return { ok: true, nodes: built.nodes };
}

/** Keeps given ARSs and decomposes the rest with the teacher model; never throws for an item. */
export async function decompose(
  input: { problems: Problem[]; nodes: ArsNode[] },
  cfg: { generate: DecomposeSettings },
  deps: { model: ModelPort; images: ImagePort; log?: Log },
): Promise<{ nodes: ArsNode[]; rejects: Reject[]; stats: DecomposeStats }> {
  const g = cfg.generate;
  const client = deps.model;
  const given = byProblemId(input.nodes);
  let reasks = 0;

  const one = async (p: Problem): Promise<{ nodes: ArsNode[]; reject?: Reject; decomposed?: boolean }> => {
    const own = (given.get(p.problem_id) ?? []).sort((a, b) => a.position - b.position);
    if (intermediate(own).length > 0) return { nodes: own };
    const reject = (code: string, path: string, message: string, raw: string | null) => ({
      nodes: own,
      reject: {
        stage: 'decompose',
        source: p.problem_id,
        item: p.problem_id,
        code,
        path,
        message: `problem ${p.problem_id}: ${message}`,
        raw: raw === null ? null : cut4k(raw),
      },
    });
    if (client.stopped()) return { nodes: own };
    const images = await deps.images(p.images);
    if (!images.ok) return reject('image', images.path, images.message, null);
    const base = decomposeMessages(p);
    let messages: ChatCompletionMessageParam[] = images.parts.length
      ? [base[0]!, { role: 'user', content: [{ type: 'text', text: base[1]!.content }, ...images.parts] }]
      : base;
    for (let attempt = 0; ; attempt++) {
      const req: SampleRequest = { messages, max_tokens: g.max_tokens, json_schema: decomposeSchema() };
      const o = (await client.sample(req, [0]))[0]!;
      if (!o.ok)
        return o.stopped
          ? { nodes: own }
          : reject(o.code, 'request', `teacher request failed after retries: ${o.message}`, null);
      const checked =
        o.finish_reason === 'length'
          ? { ok: false as const, code: 'truncated', messages: ['reply was cut at max_tokens'] }
          : checkProposal(p, o.content);
      if (checked.ok) return { nodes: checked.nodes, decomposed: true };
      if (attempt >= g.max_reasks)
        return reject(checked.code, 'reply', `${checked.messages.join('; ')} (after ${attempt} re-asks)`, o.content);
      reasks++;
      const note = `A previous decomposition could not be used: ${checked.messages.join('; ')}. Reply again with only the JSON object.`;
      messages = messages.map((m, i) =>
        i !== 1 || m.role !== 'user'
          ? m
          : typeof m.content === 'string'
            ? { role: 'user', content: `${m.content}\n\n${note}` }
            : { role: 'user', content: [...m.content, { type: 'text', text: note }] },
      );
    }
  };

  const results = await mapLimit(input.problems, 2 * g.concurrency, one);
  const rejects = results.flatMap((r) => (r.reject ? [r.reject] : []));
  const c = client.counters();
  return {
    nodes: results.flatMap((r) => r.nodes),
    rejects,
    stats: {
      kept: results.filter((r) => !r.decomposed && !r.reject && intermediate(r.nodes).length > 0).length,
      decomposed: results.filter((r) => r.decomposed).length,
      rejected: rejects.length,
      reasks,
      requests: c.requests,
      cache_hits: c.cache_hits,
      retries: c.retries,
      errors: c.errors,
      tokens_in: c.tokens_in,
      tokens_out: c.tokens_out,
      cost_usd: c.cost_usd,
      stopped_by_budget: client.stopped() === 'budget',
      stopped_by_signal: client.stopped() === 'signal',
    },
  };
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
const specOf = (answer: string): AnswerSpec => ({
  kind: /^[-+]?\d[\d,]*(\.\d+)?$/.test(answer) ? 'number' : 'expression',
  tolerance: null,
  unit: null,
});

/**
 * True when `question` contains the final answer as a whole token. Answers of one character
 * (a digit, a choice letter) are too common to test and are skipped.
 */
export function reveals(question: string, final: string): boolean {
  const f = final.trim();
  if (f.length < 2) return false;
  const esc = f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.])${esc}(?![\\w]|\\.\\d)`, 'i').test(question);
}

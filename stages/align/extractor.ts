/**
 * @module stages/align/extractor
 * Alignment by an extractor model: the model reads a free path and, for every ARS node, names the
 * step that answers it and the answer (structured output). This module owns the prompt, the JSON
 * schema and the reply validator; the call itself is passed in (`ExtractorCall`), so `generate`'s
 * `ModelClient` (retries, cache, limits) or a test's local server can serve it.
 */
import type { ArsNode, NodeAnswer, PathRow } from '../../schemas/index.ts';
import type { SampleOutcome, SampleRequest } from '../lib/ports.ts';

/** One problem with a reply: `{code, path, message}` as in STYLE.md. */
export interface ExtractorIssue {
  code: string;
  path: string;
  message: string;
}

/** Sends one request and returns one outcome; `(req) => client.sample(req, [0]).then((r) => r[0]!)` for a `ModelClient`. */
export type ExtractorCall = (req: SampleRequest) => Promise<SampleOutcome>;

/** JSON schema of the reply: one entry per node, in node order, `F` last. */
export function extractorSchema(nodes: readonly ArsNode[]): NonNullable<SampleRequest['json_schema']> {
  return {
    name: 'node_alignment',
    strict: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['nodes'],
      properties: {
        nodes: {
          type: 'array',
          minItems: nodes.length,
          maxItems: nodes.length,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['node_id', 'step', 'answer'],
            properties: {
              node_id: { type: 'string', enum: nodes.map((n) => n.node_id) },
              step: { type: ['integer', 'null'], minimum: 0 },
              answer: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
  };
}

/** The extractor's messages: the solution's numbered steps and the node questions, in order. */
export function extractorMessages(steps: readonly string[], nodes: readonly ArsNode[]): SampleRequest['messages'] {
  const final = nodes.find((n) => n.is_final);
  const system =
    "You align a worked solution to a list of sub-questions. For every sub-question, find the first step of the solution that answers it and copy the value that step gives, as a short answer (a number, a quantity, an expression or one word). Copy the solution's value even when it is wrong; do not solve anything yourself. When no step answers a sub-question, give step null and answer null. Reply with JSON only.";
  const user = [
    `Problem:\n${final?.question ?? ''}`,
    `Solution steps:\n${steps.map((s, i) => `[${i}] ${s}`).join('\n')}`,
    `Sub-questions (answer every one, in this order):\n${nodes.map((n) => `${n.node_id}: ${n.is_final ? 'the final answer to the problem' : n.question}`).join('\n')}`,
    `Reply as {"nodes": [{"node_id": "...", "step": <0-based step index or null>, "answer": "<value or null>"}, ...]}.`,
  ].join('\n\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/**
 * Validates a reply against the path and nodes: JSON, one entry per node id (no unknown or
 * repeated id), `step` an integer in the path's range or null, `answer` a string or null, and
 * no answer without a step. Returns node answers in node order, or the issues.
 */
export function parseExtractorReply(
  content: string,
  nodes: readonly ArsNode[],
  stepCount: number,
): { ok: true; answers: NodeAnswer[] } | { ok: false; issues: ExtractorIssue[] } {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (e) {
    return {
      ok: false,
      issues: [
        { code: 'invalid_json', path: '', message: `extractor reply is not valid JSON: ${(e as Error).message}` },
      ],
    };
  }
  const list = (data as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list))
    return {
      ok: false,
      issues: [
        {
          code: 'invalid_type',
          path: 'nodes',
          message: `extractor reply should have a "nodes" array, got ${JSON.stringify(data)?.slice(0, 60)}`,
        },
      ],
    };
  const issues: ExtractorIssue[] = [];
  const ids = new Set(nodes.map((n) => n.node_id));
  const got = new Map<string, NodeAnswer>();
  list.forEach((item: unknown, i) => {
    const r = (item ?? {}) as Record<string, unknown>;
    const path = `nodes.${i}`;
    if (typeof r.node_id !== 'string' || !ids.has(r.node_id)) {
      issues.push({
        code: 'invalid_reference',
        path: `${path}.node_id`,
        message: `extractor reply entry ${i} names node ${JSON.stringify(r.node_id)}, which is not one of ${[...ids].join(', ')}`,
      });
      return;
    }
    if (got.has(r.node_id)) {
      issues.push({
        code: 'duplicate',
        path: `${path}.node_id`,
        message: `extractor reply answers node ${r.node_id} twice`,
      });
      return;
    }
    const step = r.step;
    if (step !== null && !(Number.isInteger(step) && (step as number) >= 0 && (step as number) < stepCount)) {
      issues.push({
        code: 'out_of_range',
        path: `${path}.step`,
        message: `extractor reply gives node ${r.node_id} step ${JSON.stringify(step)}, expected an integer from 0 to ${stepCount - 1} or null`,
      });
      return;
    }
    const answer = r.answer;
    if (answer !== null && typeof answer !== 'string') {
      issues.push({
        code: 'invalid_type',
        path: `${path}.answer`,
        message: `extractor reply gives node ${r.node_id} answer ${JSON.stringify(answer)}, expected a string or null`,
      });
      return;
    }
    if (answer !== null && step === null) {
      issues.push({
        code: 'invalid_value',
        path: `${path}.step`,
        message: `extractor reply gives node ${r.node_id} an answer but no step`,
      });
      return;
    }
    const text = typeof answer === 'string' && answer.trim() !== '' ? answer.trim() : null;
    got.set(r.node_id, { node_id: r.node_id, answer: text, step: text === null ? null : (step as number) });
  });
  for (const n of nodes)
    if (!got.has(n.node_id) && !issues.some((x) => x.path.endsWith('node_id')))
      issues.push({ code: 'missing', path: 'nodes', message: `extractor reply has no entry for node ${n.node_id}` });
  if (issues.length) return { ok: false, issues };
  return { ok: true, answers: nodes.map((n) => got.get(n.node_id)!) };
}

export interface ExtractorOptions {
  /** Re-asks with the validator's messages after an invalid reply (default 2). */
  maxReasks?: number;
  max_tokens?: number;
}

/**
 * Aligns one free path with an extractor model: node answers for every node (`F` included), and
 * `final_answer` from `F` when the path has none. After `maxReasks` invalid replies (or a failed
 * call) the path is returned unchanged with the last issues, for the caller's `rejects`.
 */
export async function alignWithExtractor(
  path: PathRow,
  nodes: readonly ArsNode[],
  call: ExtractorCall,
  opts: ExtractorOptions = {},
): Promise<{ path: PathRow; issues: ExtractorIssue[] }> {
  const ordered = [...nodes].sort((a, b) => a.position - b.position);
  const messages = extractorMessages(path.steps, ordered);
  const json_schema = extractorSchema(ordered);
  let issues: ExtractorIssue[] = [];
  for (let attempt = 0; attempt <= (opts.maxReasks ?? 2); attempt++) {
    const out = await call({ messages, max_tokens: opts.max_tokens ?? 1024, json_schema });
    if (!out.ok)
      return {
        path,
        issues: [
          { code: out.code, path: '', message: `extractor call for path ${path.path_id} failed: ${out.message}` },
        ],
      };
    const r = parseExtractorReply(out.content, ordered, path.steps.length);
    if (r.ok) {
      const f = r.answers.find((a) => a.node_id === ordered.find((n) => n.is_final)?.node_id);
      return {
        path: { ...path, node_answers: r.answers, final_answer: path.final_answer ?? f?.answer ?? null },
        issues: [],
      };
    }
    issues = r.issues;
    messages.push(
      { role: 'assistant', content: out.content },
      {
        role: 'user',
        content: `That reply is invalid:\n${issues.map((x) => `- ${x.message}`).join('\n')}\nReply again with the corrected JSON only.`,
      },
    );
  }
  return { path, issues };
}

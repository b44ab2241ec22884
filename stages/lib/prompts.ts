/**
 * @module stages/lib/prompts
 * The prompts tracepipe sends and the parsers for the replies: ARS-guided (structured
 * output, one entry per node in order, then the final answer) and free (steps on lines).
 */
import type { ArsNode, Problem } from '../../schemas/index.ts';
import type { NodeAnswer } from '../../schemas/paths.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const GUIDED_SYSTEM =
  'You are a careful STEM solver. Answer each sub-question in order, briefly, then the problem. Answers are short: a number with its unit if any, an expression, or a one-word label.';
export const FREE_SYSTEM = 'You are a careful STEM solver. Solve the problem step by step.';

/** The problem as the model sees it: question, then lettered choices when present. */
export function problemText(p: Pick<Problem, 'question' | 'choices'>): string {
  const choices = p.choices.length
    ? `\n\nChoices:\n${p.choices.map((c, i) => `(${String.fromCharCode(65 + i)}) ${c}`).join('\n')}`
    : '';
  return `Problem:\n${p.question}${choices}`;
}

/** Intermediate nodes in order (without `F`). */
export const intermediate = (nodes: readonly ArsNode[]) =>
  nodes.filter((n) => !n.is_final).sort((a, b) => a.position - b.position);

export function guidedMessages(p: Pick<Problem, 'question' | 'choices'>, nodes: readonly ArsNode[]): ChatMessage[] {
  const subs = intermediate(nodes)
    .map((n) => `${n.node_id}: ${n.question}`)
    .join('\n');
  return [
    { role: 'system', content: GUIDED_SYSTEM },
    {
      role: 'user',
      content: `${problemText(p)}\n\nSub-questions, in order:\n${subs}\n\nReply in JSON: {"steps": [{"node_id", "reasoning", "answer"} for each sub-question in order], "final": {"reasoning", "answer"}}.`,
    },
  ];
}

/** JSON schema for the guided reply (OpenAI `response_format: {type: "json_schema"}`). */
export function guidedSchema(nodes: readonly ArsNode[]) {
  const ids = intermediate(nodes).map((n) => n.node_id);
  const entry = {
    type: 'object',
    properties: {
      node_id: { type: 'string', enum: ids.length ? ids : ['none'] },
      reasoning: { type: 'string' },
      answer: { type: 'string' },
    },
    required: ['node_id', 'reasoning', 'answer'],
    additionalProperties: false,
  };
  return {
    name: 'ars_guided_solution',
    strict: true,
    schema: {
      type: 'object',
      properties: {
        steps: { type: 'array', items: entry, minItems: ids.length, maxItems: ids.length },
        final: {
          type: 'object',
          properties: { reasoning: { type: 'string' }, answer: { type: 'string' } },
          required: ['reasoning', 'answer'],
          additionalProperties: false,
        },
      },
      required: ['steps', 'final'],
      additionalProperties: false,
    },
  };
}

export function freeMessages(p: Pick<Problem, 'question' | 'choices'>): ChatMessage[] {
  return [
    { role: 'system', content: FREE_SYSTEM },
    {
      role: 'user',
      content: `${problemText(p)}\n\nSolve it step by step. Write each step on its own line starting with "Step k:". End with a line "Final answer: <answer>".`,
    },
  ];
}

export interface ParsedPath {
  steps: string[];
  node_answers: NodeAnswer[];
  final_answer: string | null;
}
export type ParseResult = { ok: true; value: ParsedPath } | { ok: false; code: string; message: string };

/** Parses and checks a guided reply against the ARS: valid JSON, every node once, in order. */
export function parseGuided(text: string, nodes: readonly ArsNode[]): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(stripFence(text));
  } catch (e) {
    return { ok: false, code: 'invalid_json', message: `reply is not valid JSON: ${(e as Error).message}` };
  }
  const order = intermediate(nodes);
  const o = json as { steps?: unknown; final?: { reasoning?: unknown; answer?: unknown } };
  if (!o || typeof o !== 'object' || !Array.isArray(o.steps))
    return { ok: false, code: 'schema', message: 'reply has no "steps" list' };
  if (!o.final || typeof o.final !== 'object' || typeof o.final.answer !== 'string')
    return { ok: false, code: 'schema', message: 'reply has no "final" object with a string "answer"' };
  if (o.steps.length !== order.length)
    return {
      ok: false,
      code: 'schema',
      message: `reply has ${o.steps.length} steps, expected ${order.length} (one per sub-question)`,
    };
  const steps: string[] = [];
  const node_answers: NodeAnswer[] = [];
  for (const [i, node] of order.entries()) {
    const s = o.steps[i] as { node_id?: unknown; reasoning?: unknown; answer?: unknown };
    if (!s || s.node_id !== node.node_id)
      return {
        ok: false,
        code: 'schema',
        message: `step ${i} should answer ${node.node_id}, got ${JSON.stringify(s?.node_id)}`,
      };
    if (typeof s.answer !== 'string')
      return { ok: false, code: 'schema', message: `step ${i} (${node.node_id}) has no string "answer"` };
    const reasoning = typeof s.reasoning === 'string' ? s.reasoning.trim() : '';
    steps.push(`${node.node_id}: ${node.question} ${reasoning}${reasoning ? ' ' : ''}Answer: ${s.answer}`.trim());
    node_answers.push({ node_id: node.node_id, answer: s.answer.trim() === '' ? null : s.answer.trim(), step: i });
  }
  const fr = typeof o.final.reasoning === 'string' ? o.final.reasoning.trim() : '';
  steps.push(`${fr}${fr ? ' ' : ''}Final answer: ${o.final.answer}`);
  const final_answer = o.final.answer.trim() === '' ? null : o.final.answer.trim();
  node_answers.push({ node_id: 'F', answer: final_answer, step: steps.length - 1 });
  return { ok: true, value: { steps, node_answers, final_answer } };
}

/** Cuts a free reply into steps ("Step k:" lines, else non-empty lines) and reads the final answer. */
export function parseFree(text: string): ParsedPath {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const steps: string[] = [];
  for (const line of lines) {
    if (/^step\s*\d+\s*[:.)]/i.test(line) || steps.length === 0 || /^final answer\s*:/i.test(line)) steps.push(line);
    else steps[steps.length - 1] += `\n${line}`;
  }
  const m = /final answer\s*(?:is)?\s*[:：]?\s*(.+?)\s*\.?\s*$/im.exec(text);
  return { steps, node_answers: [], final_answer: m?.[1]?.trim() || null };
}

function stripFence(text: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return m?.[1] ?? text;
}

/**
 * @module sim/request
 * Reads a chat-completions request as the SIMULATOR needs it: checks it as an OpenAI-compatible
 * server would, finds the problem it is about, and tells the prompt kind from the request's
 * structure (the response_format schema's name, the turns), never from wording alone.
 */
import { findTarget, type Target } from './problems.ts';
import { prefixSteps } from './continue.ts';

export const FINGERPRINT = 'tracepipe-simulator';

/** OpenAI-style error body. */
export const errorBody = (message: string, type: string, param: string | null, code: string | null) => ({
  error: { message, type, param, code },
});

/** guided and free: the generate stage's prompts; decompose: the teacher's; extract: the extractor's; continue: a continuation from a prefix. */
export const PROMPT_KINDS = ['guided', 'free', 'decompose', 'extract', 'continue'] as const;
export type PromptKind = (typeof PROMPT_KINDS)[number];

export interface CheckedRequest {
  target: Target;
  kind: PromptKind;
  n: number;
  /**
   * Node ids the reply answers, in order: the guided schema's enum (undefined when it has none),
   * the extractor schema's enum, or for a continuation the sub-questions its original prompt listed.
   */
  order: string[] | undefined;
  /** extract: the solution's steps; continue: the prefix steps. */
  steps: string[];
  seed: number | undefined;
  model: string;
  maxTokens: number | undefined;
  promptChars: number;
  /** The whole prompt as one string (role and text of every turn), for counting shared prefixes. */
  prompt: string;
}
export type Checked =
  | { ok: true; req: CheckedRequest }
  | { ok: false; status: number; body: ReturnType<typeof errorBody>; outcome: 'refused_n' | 'bad_request' };

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content
          .map((c: { type?: unknown; text?: unknown }) =>
            c?.type === 'text' && typeof c.text === 'string' ? c.text : '',
          )
          .join('\n')
      : '';

const bad = (message: string, param: string | null, code: string): Checked => ({
  ok: false,
  status: 400,
  body: errorBody(message, 'invalid_request_error', param, code),
  outcome: 'bad_request',
});

/** The lines of `text` after `head` up to `stop` (or a blank line). */
function block(text: string, head: string, stop = '\n\n'): string | null {
  const at = text.indexOf(head);
  if (at < 0) return null;
  const rest = text.slice(at + head.length);
  const end = rest.indexOf(stop);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Ids of a prompt's "Sub-questions, in order:" list (guided prompts). */
const listedIds = (user: string) =>
  block(user, 'Sub-questions, in order:\n')
    ?.split('\n')
    .flatMap((l) => /^([^\s:]+):/.exec(l)?.[1] ?? []);

/** The "[i] step" items of the extractor's "Solution steps:" block. */
function solutionSteps(user: string): string[] {
  const b = block(user, 'Solution steps:\n', '\n\nSub-questions (answer every one') ?? '';
  return b
    .split(/^\[\d+\] /m)
    .slice(1)
    .map((s) => s.replace(/\n$/, ''));
}

const stringEnum = (x: unknown): string[] | undefined =>
  Array.isArray(x) && x.every((v) => typeof v === 'string') ? (x as string[]) : undefined;

/** Checks a request body; `refuseN` makes n > 1 a 400 as servers without multi-sampling do. */
export function checkRequest(
  body: Record<string, unknown>,
  index: ReadonlyMap<string, Target>,
  refuseN: boolean,
): Checked {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    return bad(
      `'messages' should be a non-empty list, got ${JSON.stringify(messages)?.slice(0, 60)}`,
      'messages',
      'invalid_value',
    );
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 128)
    return bad(`'n' should be an integer from 1 to 128, got ${JSON.stringify(n)}`, 'n', 'invalid_value');
  if (refuseN && (n as number) > 1) {
    return {
      ok: false,
      status: 400,
      outcome: 'refused_n',
      body: errorBody(
        `Unsupported value: 'n' does not support ${n as number} with this model. Supported values are: 1. (tracepipe simulator, refuseN is on)`,
        'invalid_request_error',
        'n',
        'unsupported_value',
      ),
    };
  }
  let promptChars = 0;
  const turns = (messages as Array<{ role?: unknown; content?: unknown }>).map((m) => {
    const text = textOf(m?.content);
    promptChars += text.length;
    return { role: typeof m?.role === 'string' ? m.role : '', text };
  });
  const users = turns.filter((t) => t.role === 'user');
  let target: Target | undefined;
  let user = '';
  for (const u of users) {
    target = findTarget(index, u.text);
    if (target) {
      user = u.text;
      break;
    }
  }
  if (!target) {
    const last = users.at(-1)?.text ?? '';
    const q = last.split('Problem:\n')[1]?.split('\n\n')[0] ?? last;
    return bad(
      `tracepipe simulator knows only the problems of its synth bank or --problems file; the problem ${JSON.stringify(q.slice(0, 80))} is not among them (start the simulator with the seed and n, or the problems file, that made the input)`,
      'messages',
      'unknown_problem',
    );
  }
  const rf = body.response_format as
    { type?: unknown; json_schema?: { name?: unknown; schema?: Record<string, never> } } | undefined;
  const name = rf?.json_schema?.name;
  const schema = rf?.json_schema?.schema as
    { properties?: Record<string, { items?: { properties?: { node_id?: { enum?: unknown } } } }> } | undefined;
  const kind: PromptKind =
    name === 'ars_decomposition'
      ? 'decompose'
      : name === 'node_alignment'
        ? 'extract'
        : users.length > 1
          ? 'continue'
          : rf?.type === 'json_schema' || rf?.type === 'json_object'
            ? 'guided'
            : 'free';
  let order: string[] | undefined;
  let steps: string[] = [];
  if (kind === 'guided') {
    const en = stringEnum(schema?.properties?.steps?.items?.properties?.node_id?.enum);
    order = en && en[0] !== 'none' ? en : undefined;
  } else if (kind === 'extract') {
    order = stringEnum(schema?.properties?.nodes?.items?.properties?.node_id?.enum);
    steps = solutionSteps(user);
  } else if (kind === 'continue') {
    order = listedIds(user);
    const after = turns.slice(turns.findIndex((t) => t.role === 'user' && t.text === user) + 1);
    steps = prefixSteps(
      after
        .filter((t) => t.role === 'assistant')
        .map((t) => t.text)
        .join('\n'),
    );
  }
  if (!order && target.kind === 'random' && kind !== 'continue') order = listedIds(user);
  const mt = body.max_completion_tokens ?? body.max_tokens;
  return {
    ok: true,
    req: {
      target,
      kind,
      n: n as number,
      order,
      steps,
      promptChars,
      prompt: turns.map((t) => `${t.role}\n${t.text}`).join('\n\u0000'),
      seed: Number.isInteger(body.seed) ? (body.seed as number) : undefined,
      model: typeof body.model === 'string' ? body.model : FINGERPRINT,
      maxTokens: Number.isInteger(mt) && (mt as number) > 0 ? (mt as number) : undefined,
    },
  };
}

/**
 * @module sim/complete
 * The SIMULATED chat completion: finds the synth problem a request is about, checks the
 * request as an OpenAI-compatible server would, and builds the reply body.
 */
import { hash, rng } from './rng.ts';
import { normQuestion, type SynthProblem } from './synth.ts';
import { freeContent, guidedContent, planPath, sampleRng, solvePath, type ErrorModel } from './solve.ts';
import { choiceFault, malform, truncate, type ChoiceFault, type FaultRates } from './faults.ts';

export const FINGERPRINT = 'tracepipe-simulator';

/** OpenAI-style error body. */
export const errorBody = (message: string, type: string, param: string | null, code: string | null) => ({
  error: { message, type, param, code },
});

export interface CheckedRequest {
  problem: SynthProblem;
  n: number;
  guided: boolean;
  /** Node order asked for by the guided schema's `node_id` enum, when present. */
  order: string[] | undefined;
  seed: number | undefined;
  model: string;
  maxTokens: number | undefined;
  promptChars: number;
}
export type Checked =
  | { ok: true; req: CheckedRequest }
  | { ok: false; status: number; body: ReturnType<typeof errorBody>; outcome: 'refused_n' | 'bad_request' };

/** Indexes a bank by normalised question text. */
export function indexBank(bank: readonly SynthProblem[]): Map<string, SynthProblem> {
  return new Map(bank.map((p) => [normQuestion(p.input.question), p]));
}

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

/** The problem whose question follows "Problem:\n" in `text` (the question may end at any blank line). */
export function findProblem(index: ReadonlyMap<string, SynthProblem>, text: string): SynthProblem | undefined {
  const at = text.indexOf('Problem:\n');
  if (at < 0) return undefined;
  const rest = text.slice(at + 9);
  for (let end = rest.indexOf('\n\n'); end >= 0; end = rest.indexOf('\n\n', end + 2)) {
    const p = index.get(normQuestion(rest.slice(0, end)));
    if (p) return p;
  }
  return index.get(normQuestion(rest));
}

const bad = (message: string, param: string | null, code: string): Checked => ({
  ok: false,
  status: 400,
  body: errorBody(message, 'invalid_request_error', param, code),
  outcome: 'bad_request',
});

/** Checks a request body; `refuseN` makes n > 1 a 400 as servers without multi-sampling do. */
export function checkRequest(
  body: Record<string, unknown>,
  index: ReadonlyMap<string, SynthProblem>,
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
  let user = '';
  for (const m of messages as Array<{ role?: unknown; content?: unknown }>) {
    const t = textOf(m?.content);
    promptChars += t.length;
    if (m?.role === 'user') user = t;
  }
  const problem = findProblem(index, user);
  if (!problem) {
    const q = user.split('Problem:\n')[1]?.split('\n\n')[0] ?? user;
    return bad(
      `tracepipe simulator knows only its synth bank; the problem ${JSON.stringify(q.slice(0, 80))} is not in it (start the simulator with the seed and n, or the problems file, that made the input)`,
      'messages',
      'unknown_problem',
    );
  }
  const rf = body.response_format as
    | {
        type?: unknown;
        json_schema?: {
          schema?: { properties?: { steps?: { items?: { properties?: { node_id?: { enum?: unknown } } } } } };
        };
      }
    | undefined;
  const guided = rf?.type === 'json_schema' || rf?.type === 'json_object';
  const en = rf?.json_schema?.schema?.properties?.steps?.items?.properties?.node_id?.enum;
  const order =
    Array.isArray(en) && en.every((x) => typeof x === 'string') && en[0] !== 'none' ? (en as string[]) : undefined;
  const mt = body.max_completion_tokens ?? body.max_tokens;
  return {
    ok: true,
    req: {
      problem,
      n: n as number,
      guided,
      order,
      promptChars,
      seed: Number.isInteger(body.seed) ? (body.seed as number) : undefined,
      model: typeof body.model === 'string' ? body.model : FINGERPRINT,
      maxTokens: Number.isInteger(mt) && (mt as number) > 0 ? (mt as number) : undefined,
    },
  };
}

const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

/**
 * Builds the completion body: `n` distinct sampled paths (distinct texts: a repeat is
 * redrawn up to 5 times), each perhaps malformed or truncated as `faults` say.
 */
export function completion(req: CheckedRequest, em: ErrorModel, faults: FaultRates, requestSeed: number, id: string) {
  const { problem } = req;
  const faultRng = rng(hash('faults', requestSeed, id));
  const seen = new Set<string>();
  const choiceFaults: ChoiceFault[] = [];
  let completionTokens = 0;
  const choices = [];
  // Free paths have no sub-questions to lean on: a higher error rate, and their own draws.
  const model = req.guided ? em : { ...em, pError: Math.min(0.95, em.pError * em.freeErrorScale) };
  const salt = req.guided ? 0 : 0x9e37;
  for (let i = 0; i < req.n; i++) {
    let content = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      const r = sampleRng(problem, requestSeed + salt, i + attempt * req.n);
      const sol = solvePath(problem, planPath(problem, model, r), r);
      content = req.guided ? guidedContent(sol, req.order) : freeContent(sol);
      if (!seen.has(content)) break;
    }
    seen.add(content);
    let finish = 'stop';
    const fault = choiceFault(faults, faultRng.next());
    if (fault === 'malformed') content = malform(content, req.guided, faultRng);
    if (fault === 'truncated') {
      content = truncate(content, faultRng);
      finish = 'length';
    }
    if (req.maxTokens !== undefined && tokens(content.length) > req.maxTokens) {
      content = content.slice(0, req.maxTokens * 4);
      finish = 'length';
    }
    choiceFaults.push(fault);
    completionTokens += tokens(content.length);
    choices.push({
      index: i,
      message: { role: 'assistant', content, refusal: null },
      logprobs: null,
      finish_reason: finish,
    });
  }
  const promptTokens = tokens(req.promptChars);
  const body = {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    system_fingerprint: FINGERPRINT,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
  return { body, choiceFaults };
}

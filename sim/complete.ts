/**
 * @module sim/complete
 * The SIMULATED chat completion: the reply body to a checked request, whatever its prompt kind:
 * guided and free paths, decompositions, extractor alignments and continuations of synth problems
 * from their formulas; random but parseable answers to every kind for other problems.
 */
import { hash, rng } from './rng.ts';
import { freeContent, guidedContent, planPath, sampleRng, solvePath, type ErrorModel } from './solve.ts';
import { choiceFault, malform, truncate, type ChoiceFault, type FaultRates } from './faults.ts';
import { FINGERPRINT, type CheckedRequest } from './request.ts';
import { continuationContent } from './continue.ts';
import { decompositionContent } from './decompose.ts';
import { extractionContent } from './extract.ts';
import { randomDecomposition, randomFree, randomGuided } from './random.ts';

export { checkRequest, errorBody, FINGERPRINT, type Checked, type CheckedRequest } from './request.ts';
export { indexTargets, findTarget } from './problems.ts';

/** The simulated teacher's and extractor's error rates. */
export interface HelperErrors {
  /** Per decomposition reply: one node dropped or merged. */
  pDecomposeError: number;
  /** Per intermediate node of an extractor reply: missed, or the neighbouring step's value. */
  pExtractError: number;
}

export const NO_HELPER_ERRORS: HelperErrors = { pDecomposeError: 0, pExtractError: 0 };

const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));
const JSON_KINDS = new Set(['guided', 'decompose', 'extract']);

/** The content of choice `i` (try `attempt`) of a request, drawn from its seeds. */
function contentOf(req: CheckedRequest, em: ErrorModel, he: HelperErrors, requestSeed: number) {
  const { target, kind, n } = req;
  // Free paths have no sub-questions to lean on: a higher error rate, and their own draws.
  const free = { ...em, pError: Math.min(0.95, em.pError * em.freeErrorScale) };
  const steps = req.steps.join('\n');
  return (i: number, attempt: number): string => {
    const choice = i + attempt * n;
    if (target.kind === 'random') {
      const r = rng(hash('random-sample', target.problem.question, kind, requestSeed, choice, steps));
      if (kind === 'guided') return randomGuided(target.problem, req.order ?? [], r);
      if (kind === 'decompose') return randomDecomposition(target.problem, r);
      if (kind === 'extract') return extractionContent(target, req.steps, req.order ?? [], he.pExtractError, r);
      return randomFree(target.problem, r, kind === 'continue' ? req.steps.length : 0);
    }
    const p = target.problem;
    const seeded = (tag: string) => rng(hash(tag, p.seed, p.index, requestSeed, choice, steps));
    if (kind === 'decompose') return decompositionContent(p, he.pDecomposeError, seeded('decompose'));
    if (kind === 'extract')
      return extractionContent(target, req.steps, req.order ?? [], he.pExtractError, seeded('extract'));
    if (kind === 'continue') {
      // a guided original (its prompt lists the sub-questions) continues at the guided error rate, over its ARS only
      const emit = req.order ? new Set(req.order) : undefined;
      return continuationContent(p, req.steps, emit, emit ? em : free, seeded('continue'));
    }
    const guided = kind === 'guided';
    const r = sampleRng(p, requestSeed + (guided ? 0 : 0x9e37), choice);
    const sol = solvePath(p, planPath(p, guided ? em : free, r), r);
    return guided ? guidedContent(sol, req.order) : freeContent(sol);
  };
}

/**
 * Builds the completion body: `n` distinct sampled replies (distinct texts: a repeat is redrawn up
 * to 5 times), each perhaps malformed or truncated as `faults` say. `random` is true when the
 * problem is not a synth problem and the replies are random.
 */
export function completion(
  req: CheckedRequest,
  em: ErrorModel,
  faults: FaultRates,
  requestSeed: number,
  id: string,
  he: HelperErrors = NO_HELPER_ERRORS,
) {
  const faultRng = rng(hash('faults', requestSeed, id));
  const draw = contentOf(req, em, he, requestSeed);
  const json = JSON_KINDS.has(req.kind);
  const seen = new Set<string>();
  const choiceFaults: ChoiceFault[] = [];
  let completionTokens = 0;
  const choices = [];
  for (let i = 0; i < req.n; i++) {
    let content = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      content = draw(i, attempt);
      if (!seen.has(content)) break;
    }
    seen.add(content);
    let finish = 'stop';
    const fault = choiceFault(faults, faultRng.next());
    if (fault === 'malformed') content = malform(content, json, faultRng);
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
  return { body, choiceFaults, promptTokens, random: req.target.kind === 'random' };
}

/** The retry policy: which error replies refuse `n` (real servers' bodies), and the wait after a 429. */
import { describe, it, expect, beforeAll } from 'vitest';
import { APIConnectionError, APIError } from 'openai';
import {
  classify,
  loadSdk,
  rateLimitWaitMs,
  refusesN,
  retryAfter,
  MAX_COOLDOWN_MS,
} from '../../../../pipeline/io/client/retry.ts';

// The client loads the SDK with its first request; SDK errors exist only after that.
beforeAll(() => loadSdk());

/** An SDK error as the client builds it from a reply: the body's `error` object, or the whole body when it has none. */
const reply = (status: number, body: Record<string, unknown>) => {
  const error = body.error == null ? body : body.error;
  return APIError.generate(status, { error }, undefined, new Headers({ 'content-type': 'application/json' }));
};

type Case = [what: string, status: number, body: Record<string, unknown>, kind: string];
const cases: Case[] = [
  [
    'OpenAI, n above the maximum',
    400,
    {
      error: {
        message: "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 200 instead.",
        type: 'invalid_request_error',
        param: 'n',
        code: 'integer_above_max_value',
      },
    },
    'n_refused',
  ],
  [
    'OpenAI, n unsupported by the model',
    400,
    {
      error: {
        message: "Unsupported value: 'n' does not support 4 with this model. Supported values are: 1.",
        type: 'invalid_request_error',
        param: 'n',
        code: 'unsupported_value',
      },
    },
    'n_refused',
  ],
  [
    'vLLM, no param named (error envelope)',
    400,
    {
      error: {
        message:
          'n must be at most 4, got 8. To increase this limit, set the VLLM_MAX_N_SEQUENCES environment variable.',
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    },
    'n_refused',
  ],
  [
    'vLLM and SGLang, older top-level body',
    400,
    { object: 'error', message: 'n must be at least 1, got 0.', type: 'BadRequestError', param: null, code: 400 },
    'n_refused',
  ],
  [
    'llama.cpp server, older: a 500',
    500,
    { error: { code: 500, message: 'Only one completion choice is allowed', type: 'server_error' } },
    'n_refused',
  ],
  [
    'llama.cpp server, newer',
    400,
    {
      error: {
        code: 400,
        message: 'Illegal param: only one completion choice is allowed',
        type: 'invalid_request_error',
      },
    },
    'n_refused',
  ],
  [
    'a FastAPI validation error on body.n',
    422,
    {
      detail: [
        { type: 'less_than_equal', loc: ['body', 'n'], msg: 'Input should be less than or equal to 1', input: 4 },
      ],
    },
    'n_refused',
  ],
  [
    'an unrelated 400 that mentions n (issue 10)',
    400,
    {
      error: {
        message: 'Invalid request: the seed and n must not be set together with logprobs',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    'fatal',
  ],
  [
    'a 400 naming another parameter',
    400,
    {
      error: {
        message: "Invalid 'seed': expected an integer, got 'n/a'",
        type: 'invalid_request_error',
        param: 'seed',
        code: null,
      },
    },
    'fatal',
  ],
  [
    'a 400 about choices in the messages',
    400,
    { error: { message: 'messages[1].content: choices must be strings', param: 'messages', type: 'x' } },
    'fatal',
  ],
  [
    'a FastAPI validation error on another field',
    422,
    { detail: [{ type: 'float_type', loc: ['body', 'temperature'], msg: 'Input should be a valid number' }] },
    'fatal',
  ],
  [
    'a context-length 400',
    400,
    {
      error: {
        message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (n=4).",
        param: 'messages',
        type: 'invalid_request_error',
      },
    },
    'fatal',
  ],
  [
    'a 500 that names n in passing',
    500,
    { error: { message: 'internal error while sampling n sequences', type: 'server_error' } },
    'retry',
  ],
];

describe('n-refusal: decided from the status and the parameter the server names', () => {
  it.each(cases.map(([what, status, body, kind]) => ({ what, status, body, kind })))(
    '$what ($status) -> $kind',
    ({ status, body, kind }) => {
      expect(classify(reply(status, body), true, false).kind).toBe(kind);
    },
  );

  it('a request without n is never taken for an n-refusal', () => {
    const body = { error: { message: "Invalid 'n'", param: 'n', type: 'invalid_request_error' } };
    expect(classify(reply(400, body), false, false)).toMatchObject({ kind: 'fatal', code: 'http_400' });
    expect(refusesN(400, body.error)).toBe(true);
    expect(refusesN(404, body.error)).toBe(false);
  });
});

describe('connection failures', () => {
  /** The SDK's connection error around the lean fetch's TypeError around the socket's error. */
  const conn = (code: string) => {
    const sys = Object.assign(new Error(`connect ${code} 127.0.0.1:8000`), { code });
    return new APIConnectionError({ cause: new TypeError('fetch failed', { cause: sys }) });
  };
  it.each([
    ['ECONNREFUSED', 'unreachable'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ECONNRESET', 'retry'],
    ['EPIPE', 'retry'],
  ])('%s -> %s', (code, kind) => {
    expect(classify(conn(code), false, false)).toMatchObject({
      kind,
      code: 'connection',
      message: `Connection error. (${code})`,
    });
  });
});

describe('the wait after a 429', () => {
  it('honours a positive Retry-After, capped', () => {
    expect(rateLimitWaitMs(200, 1)).toBe(200);
    expect(rateLimitWaitMs(10 * 3_600_000, 1)).toBe(MAX_COOLDOWN_MS);
  });

  it('backs off (at least 100 ms) when the server asks for no wait, "0", or a date already past', () => {
    const past = retryAfter(new Headers({ 'retry-after': new Date(Date.now() - 5000).toUTCString() }));
    expect(past).toBe(0);
    expect(retryAfter(new Headers({ 'retry-after': '0' }))).toBe(0);
    for (const ms of [past, 0, null]) {
      expect(rateLimitWaitMs(ms, 1, () => 0)).toBe(100);
      expect(rateLimitWaitMs(ms, 2, () => 1)).toBe(100 + 1600);
      expect(rateLimitWaitMs(ms, 50, () => 1)).toBe(100 + 20_000);
    }
  });
});

/**
 * @module pipeline/io/client/retry
 * The retry policy the client owns (the SDK's own retries are off): which failures are worth
 * another try, how long to wait (exponential backoff with full jitter), and Retry-After.
 */
type Sdk = typeof import('openai');

/** The `openai` module, loaded by the first request (about 80 ms): a run that sends none never loads it. */
let sdk: Promise<Sdk> | null = null;
/** Its error classes, once loaded: an error of the SDK can only come after that. */
let errors: Sdk | null = null;
export const loadSdk = (): Promise<Sdk> => (sdk ??= import('openai').then((m) => (errors = m)));

/**
 * `rate_limit` and `unreachable` (nothing listens: a server restarting) cool the whole queue down
 * without spending a request's retries; `retry` spends one; `fatal`, `n_refused` and `abort` end it.
 */
export type FailureKind = 'rate_limit' | 'unreachable' | 'retry' | 'n_refused' | 'fatal' | 'abort';

export interface Failure {
  kind: FailureKind;
  /** Reject code: `http_503`, `timeout`, `connection`, `malformed_response`, ... */
  code: string;
  message: string;
  /** Server-requested wait (Retry-After / x-ratelimit-reset-*), in ms. */
  retryAfterMs: number | null;
}

/** Classifies an error thrown by one SDK call; `usedN` marks a request that asked for n > 1. */
export function classify(err: unknown, usedN: boolean, aborted: boolean): Failure {
  const message = err instanceof Error ? err.message : String(err);
  if (!errors) return aborted ? { kind: 'abort', code: 'aborted', message, retryAfterMs: null } : plain(err, message);
  const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = errors;
  if (aborted || err instanceof APIUserAbortError)
    return { kind: 'abort', code: 'aborted', message, retryAfterMs: null };
  if (err instanceof APIConnectionTimeoutError) return { kind: 'retry', code: 'timeout', message, retryAfterMs: null };
  if (err instanceof APIConnectionError) {
    // The SDK says only "Connection error."; the socket's code says which.
    const sys = causeCode(err);
    const kind = UNREACHABLE.has(sys) ? 'unreachable' : 'retry';
    return { kind, code: 'connection', message: sys ? `${message} (${sys})` : message, retryAfterMs: null };
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    const retryAfterMs = retryAfter(err.headers);
    if (usedN && refusesN(status, err.error))
      return { kind: 'n_refused', code: `http_${status}`, message, retryAfterMs };
    if (status === 429) return { kind: 'rate_limit', code: 'http_429', message, retryAfterMs };
    if (status >= 500 || status === 408 || status === 409)
      return { kind: 'retry', code: `http_${status}`, message, retryAfterMs };
    return { kind: 'fatal', code: `http_${status || 'error'}`, message, retryAfterMs: null };
  }
  return plain(err, message);
}

/** A failure that is not the SDK's: a body that is not JSON, or a socket cut while reading it. */
function plain(err: unknown, message: string): Failure {
  if (err instanceof SyntaxError) return { kind: 'retry', code: 'malformed_response', message, retryAfterMs: null };
  return { kind: 'retry', code: 'connection', message, retryAfterMs: null };
}

/** Errors that say no server listens at the address (yet): a restart, a reload, a brief network loss. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The first system error code (`ECONNREFUSED`, ...) on an error's chain of causes, or ''. */
function causeCode(err: unknown): string {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return '';
}

/** Request parameters whose refusal means "no multi-sampling here". */
const N_PARAMS = new Set(['n', 'best_of']);
/**
 * What servers that name no parameter say when they refuse `n`, matched from the start of their
 * message only: vLLM ("n must be at most 4, got 8."), llama.cpp ("Only one completion choice is
 * allowed", once as a 500, now "Illegal param: only one ..."), and "n > 1 is not supported".
 */
const N_MESSAGE =
  /^(?:illegal param: )?(?:n must be\b|only one completion choice is allowed|(?:'n'|n) (?:> ?1 |parameter )?is not supported|(?:'n'|n|best_of) (?:must|should|can ?not|cannot)\b)/i;

/**
 * True when an error reply refuses the request's `n`: a 400/422 that names `n` or `best_of` as its
 * `param` (OpenAI) or in a validation error's `loc` (FastAPI), or, when the server names no
 * parameter at all, whose message starts like a known refusal (a 500 too: older llama.cpp).
 */
export function refusesN(status: number, error: unknown): boolean {
  if (status !== 400 && status !== 422 && status !== 500) return false;
  const e = (error && typeof error === 'object' ? error : {}) as {
    param?: unknown;
    message?: unknown;
    detail?: unknown;
  };
  const params = namedParams(e);
  if (params.length > 0) return status !== 500 && params.some((p) => N_PARAMS.has(p));
  return typeof e.message === 'string' && N_MESSAGE.test(e.message.trim());
}

/** The parameters an error reply names: `param` (OpenAI, vLLM), or the body fields in FastAPI's `detail[].loc`. */
function namedParams(e: { param?: unknown; detail?: unknown }): string[] {
  if (typeof e.param === 'string' && e.param !== '') return [e.param.replace(/^body\./, '')];
  if (!Array.isArray(e.detail)) return [];
  return e.detail.flatMap((d: unknown) => {
    const loc = (d as { loc?: unknown } | null)?.loc;
    return Array.isArray(loc) && loc[0] === 'body' && typeof loc[1] === 'string' ? [loc[1]] : [];
  });
}

/** Largest cooldown a 429 may ask for; a longer Retry-After (a date far off, a skewed clock) is cut to this. */
export const MAX_COOLDOWN_MS = 120_000;

/**
 * How long the queue cools down after a 429 or a refused connection (`waits` = how many this
 * request has met): the server's
 * wait when it asks for a positive one, capped; else (no header, "0", a date already past) a
 * jittered backoff of at least 100 ms, so a server that says "now" is not hammered in a loop.
 */
export function rateLimitWaitMs(retryAfterMs: number | null, waits: number, rand: () => number = Math.random): number {
  if (retryAfterMs !== null && retryAfterMs > 0) return Math.min(retryAfterMs, MAX_COOLDOWN_MS);
  return 100 + backoffMs(Math.min(waits, 6), 400, 20_000, rand);
}

/** Backoff before retry `attempt` (0-based): full jitter over base·2^attempt, capped. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 20_000, rand: () => number = Math.random): number {
  return Math.round(rand() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Milliseconds to wait from Retry-After (seconds or HTTP date) or `retry-after-ms`; null when absent. */
export function retryAfter(headers: Headers | undefined | null): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const v = headers.get('retry-after');
  if (!v) return null;
  if (Number.isFinite(Number(v))) return Math.max(0, Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** Parses OpenAI's reset durations (`1s`, `6m0s`, `20ms`, `1h2m`) or plain seconds into ms. */
export function parseDuration(v: string | null): number | null {
  if (!v) return null;
  if (Number.isFinite(Number(v))) return Number(v) * 1000;
  let total = 0;
  let matched = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return matched ? total : null;
}

/** Sleeps `ms`, waking early (resolving) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

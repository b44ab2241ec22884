/**
 * @module pipeline/io/client/model
 * The model client: samples replies through the `openai` SDK with the run's limits, retry
 * policy, response cache and accounting. K samples of one prompt go out as one request with
 * `n` where the server honours it, else as K requests (the fallback is remembered per run).
 * Two ways to stop: `drain` lets requests already sent finish (and be cached) and starts no
 * other; `signal` also cancels the ones in flight. The API key goes to the SDK and nowhere else.
 */
import type OpenAI from 'openai';
import { createHash } from 'node:crypto';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ModelCounters, ModelPort, SampleOutcome, SampleRequest } from '../../../stages/lib/ports.ts';
import { apiKey, redactText, type GenerateConfig, type ModelConfig } from './config.ts';
import { Accounting, estimateTokens } from './accounting.ts';
import { cacheKey, type CacheEntry, type ReplyCache } from './cache.ts';
import { Limiter } from './limits.ts';
import { leanFetch, type LeanFetch } from './fetch.ts';
import { backoffMs, classify, loadSdk, rateLimitWaitMs, sleep, type Failure } from './retry.ts';

export type { SampleOutcome, SampleRequest } from '../../../stages/lib/ports.ts';

/** Counters of one client; `requests` are HTTP requests sent (cache hits excluded), `errors` failed attempts of any kind. */
export interface ClientStats {
  requests: number;
  cache_hits: number;
  retries: number;
  errors: number;
  rate_limited: number;
  by_status: Record<string, number>;
  n_refused: boolean;
  /** A reply said it came from the bundled simulator (`system_fingerprint: "tracepipe-simulator"`). */
  simulated: boolean;
}

/** The `system_fingerprint` of the bundled simulator's replies. */
export const SIMULATOR_FINGERPRINT = 'tracepipe-simulator';

export interface ClientDeps {
  cache: ReplyCache;
  /** Admission control shared by every client of the same server (default: a limiter of this client's own). */
  limiter?: Limiter;
  /** The run's budget, shared by every client (default: a budget of this client's own). */
  budget?: Accounting;
  env?: NodeJS.ProcessEnv;
  /** Stops at once: no new request, and requests in flight are cancelled. */
  signal?: AbortSignal;
  /** Stops gently: no new request (queued samples come back `stopped: 'abort'`); requests in flight finish and are cached. */
  drain?: AbortSignal;
  log?: (line: string) => void;
  /** Called after every counted event, for progress. */
  onEvent?: () => void;
}

type SendResult =
  { ok: true; data: ChatCompletion } | { ok: false; failure: Failure } | { ok: false; stopped: 'budget' | 'abort' };

export class ModelClient implements ModelPort {
  readonly stats: ClientStats = {
    requests: 0,
    cache_hits: 0,
    retries: 0,
    errors: 0,
    rate_limited: 0,
    by_status: {},
    n_refused: false,
    simulated: false,
  };
  readonly model: string;
  readonly accounting: Accounting;
  readonly limiter: Limiter;
  /** The SDK client, made by the first request (a client that only answers from the cache never loads `openai`). */
  private sdk: OpenAI | null = null;
  private sdkLoading: Promise<OpenAI> | null = null;
  private readonly sdkOptions: ConstructorParameters<typeof OpenAI>[0];
  private readonly secret: string;
  private readonly http: LeanFetch;
  private readonly ownLimiter: boolean;
  /** Fires on `signal` or `drain`: what waits (cooldowns, backoff) wakes on, and what stops new requests. */
  private readonly halt: AbortSignal | undefined;
  private warnedUnreachable = false;
  /** Hash of each prompt's messages, computed once for its K samples (images make prompts large). */
  private readonly digests = new WeakMap<object, string>();

  constructor(
    private readonly endpoint: ModelConfig,
    private readonly gen: GenerateConfig,
    private readonly deps: ClientDeps,
  ) {
    this.model = endpoint.model;
    this.secret = apiKey(endpoint, deps.env ?? process.env);
    const log = (level: string) => (msg: string) => this.log(`openai ${level}: ${msg}`);
    this.http = leanFetch();
    this.sdkOptions = {
      apiKey: this.secret,
      baseURL: endpoint.base_url,
      maxRetries: 0,
      timeout: gen.timeout_ms,
      fetch: this.http.fetch,
      logLevel: 'warn',
      logger: { error: log('error'), warn: log('warn'), info: () => {}, debug: () => {} },
    };
    this.limiter = deps.limiter ?? new Limiter({ concurrency: gen.concurrency, rpm: gen.rpm, tpm: gen.tpm });
    this.accounting = new Accounting(gen.prices[endpoint.model] ?? null, gen.max_budget, deps.budget ?? null);
    this.ownLimiter = deps.limiter === undefined;
    const stops = [deps.signal, deps.drain].filter((x): x is AbortSignal => x !== undefined);
    this.halt = stops.length > 1 ? AbortSignal.any(stops) : stops[0];
    if (gen.max_budget !== null && !gen.prices[endpoint.model])
      this.log(`max_budget is set but prices has no entry for model ${endpoint.model}: its cost counts as 0`);
  }

  /** `text` with the API key removed: for anything that may be logged or persisted (a server may echo the key). */
  redact(text: string): string {
    return redactText(text, this.secret);
  }

  private failed(r: SendResult): SampleOutcome {
    if (r.ok) throw new Error('unreachable');
    if ('stopped' in r)
      return {
        ok: false,
        code: r.stopped === 'budget' ? 'budget' : 'aborted',
        message: r.stopped === 'budget' ? 'stopped: the next request would pass max_budget' : 'stopped by signal',
        stopped: r.stopped,
      };
    return { ok: false, code: r.failure.code, message: this.redact(r.failure.message), stopped: null };
  }

  /** Closes idle connections and stops the limiter's timers. */
  close(): void {
    if (this.ownLimiter) this.limiter.close();
    this.http.close();
  }

  /** Why no new request may start (the budget is spent, or the run is stopping), or null. */
  stopped(): 'budget' | 'signal' | null {
    if (this.halt?.aborted) return 'signal';
    return this.accounting.exhausted ? 'budget' : null;
  }

  /** This client's counters so far. */
  counters(): ModelCounters {
    const a = this.accounting;
    return {
      ...this.stats,
      by_status: { ...this.stats.by_status },
      tokens_in: a.tokens_in,
      tokens_out: a.tokens_out,
      cost_usd: a.spent,
      cache_writes: this.deps.cache.writes,
    };
  }

  /** Logs a line with the API key removed. */
  log(line: string): void {
    this.deps.log?.(redactText(line, this.secret));
  }

  /** Samples `indices` of one prompt: cached replies first, then one `n` request or one request each. */
  async sample(req: SampleRequest, indices: readonly number[]): Promise<SampleOutcome[]> {
    const keys = indices.map((i) => this.key(req, i));
    const hits = await Promise.all(keys.map((k) => this.deps.cache.get(k)));
    const out: (SampleOutcome | undefined)[] = hits.map((h) => {
      if (!h) return undefined;
      this.stats.cache_hits++;
      return outcome(h, true);
    });
    this.deps.onEvent?.();
    let missing = indices.map((_, j) => j).filter((j) => !out[j]);
    if (missing.length > 1 && this.gen.use_n && !this.stats.n_refused) {
      // The seed moves on with the first missing index, as one request per sample would have it: a later
      // round of adaptive sampling (or a resumed run) asking for samples 4.. gets new draws, not samples 0.. again.
      const r = await this.send(
        req,
        missing.length,
        this.gen.seed === null ? null : this.gen.seed + indices[missing[0]!]!,
      );
      if (r.ok) {
        const got = this.keep(
          req,
          r.data,
          missing.map((j) => keys[j]!),
        );
        if (got.length < missing.length) this.refuseN(`server returned ${got.length} choices for n=${missing.length}`);
        got.forEach((o, c) => (out[missing[c]!] = o));
        missing = missing.slice(got.length);
      } else if ('failure' in r && r.failure.kind === 'n_refused') {
        this.refuseN(r.failure.message);
      } else {
        for (const j of missing) out[j] = this.failed(r);
        missing = [];
      }
    }
    await Promise.all(
      missing.map(async (j) => {
        const i = indices[j]!;
        const r = await this.send(req, 1, this.gen.seed === null ? null : this.gen.seed + i);
        out[j] = r.ok ? this.keep(req, r.data, [keys[j]!])[0]! : this.failed(r);
      }),
    );
    return out as SampleOutcome[];
  }

  private refuseN(why: string): void {
    if (this.stats.n_refused) return;
    this.stats.n_refused = true;
    this.log(`server refused n > 1 (${why}); sending one request per sample for the rest of the run`);
  }

  /**
   * Caches the choices of one reply under `keys` (one batch, so a crash keeps all or none) and
   * returns them as outcomes; the reply's output tokens are shared out by length.
   */
  private keep(req: SampleRequest, data: ChatCompletion, keys: readonly string[]): SampleOutcome[] {
    const choices = [...data.choices].sort((a, b) => a.index - b.index).slice(0, keys.length);
    // Reply text is redacted on receipt (a server could echo the key), before it is cached or parsed.
    const texts = choices.map((c) => this.redact(c.message?.content ?? ''));
    const totalChars = texts.reduce((n, t) => n + t.length, 0) || 1;
    const outTokens = data.usage?.completion_tokens ?? Math.ceil(totalChars / 4);
    const entries: CacheEntry[] = choices.map((c, i) => ({
      key: keys[i]!,
      model: this.endpoint.model,
      content: texts[i]!,
      finish_reason: c.finish_reason ?? null,
      tokens_in: data.usage?.prompt_tokens ?? estimateTokens(req.messages),
      tokens_out: choices.length === 1 ? outTokens : Math.round((outTokens * texts[i]!.length) / totalChars),
    }));
    this.deps.cache.put(...entries);
    return entries.map((e) => outcome(e, false));
  }

  /** The cache key of sample `i`: model, messages, sampling parameters, schema, index. */
  key(req: SampleRequest, i: number): string {
    const g = this.gen;
    let digest = this.digests.get(req.messages);
    if (digest === undefined)
      this.digests.set(
        req.messages,
        (digest = createHash('sha256').update(JSON.stringify(req.messages)).digest('hex')),
      );
    return cacheKey({
      model: this.endpoint.model,
      messages: digest,
      params: {
        temperature: req.temperature ?? g.temperature,
        top_p: g.top_p,
        max_tokens: req.max_tokens,
        seed: g.seed,
      },
      schema: req.json_schema,
      sample_index: i,
    });
  }

  /** One logical request with retries: backoff on 5xx/timeouts/resets, a queue-wide cooldown on 429 or a refused connection. */
  private async send(req: SampleRequest, n: number, seed: number | null): Promise<SendResult> {
    const halt = this.halt;
    const estIn = estimateTokens(req.messages);
    const est = estIn + req.max_tokens * n;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.endpoint.model,
      messages: req.messages,
      temperature: req.temperature ?? this.gen.temperature,
      top_p: this.gen.top_p,
      max_tokens: req.max_tokens,
      ...(n > 1 ? { n } : {}),
      ...(seed === null ? {} : { seed }),
      ...(req.json_schema ? { response_format: { type: 'json_schema', json_schema: req.json_schema } } : {}),
    };
    let attempt = 0;
    let waits = 0;
    for (;;) {
      // After a drain or an abort no request starts, a retry included.
      if (halt?.aborted) return { ok: false, stopped: 'abort' };
      const r = await this.limiter.run<SendResult>(est, () => this.once(body, estIn, est, n), halt);
      if (r.ok || !('failure' in r)) return r;
      const f = r.failure;
      if (f.code === 'n_refused') return r;
      this.stats.errors++;
      this.stats.by_status[f.code] = (this.stats.by_status[f.code] ?? 0) + 1;
      this.deps.onEvent?.();
      if (f.kind === 'abort') return { ok: false, stopped: 'abort' };
      if (f.kind === 'rate_limit' || f.kind === 'unreachable') {
        if (f.kind === 'rate_limit') this.stats.rate_limited++;
        else if (!this.warnedUnreachable) {
          this.warnedUnreachable = true;
          this.log(`${this.endpoint.base_url} refuses connections (${f.message}): waiting for it, as for a restart`);
        }
        // A 429, or a server not listening (restarting), holds the whole queue; it does not spend this
        // request's retries (bounded all the same: about 2.5 minutes of backoff when the server gives no wait).
        if (++waits > Math.max(20, 4 * this.gen.max_retries)) return r;
        this.limiter.cooldown(rateLimitWaitMs(f.retryAfterMs, waits));
        continue;
      }
      if (f.kind !== 'retry' || attempt >= this.gen.max_retries) return r;
      this.stats.retries++;
      await sleep(Math.max(f.retryAfterMs ?? 0, backoffMs(attempt, Math.min(250, this.gen.timeout_ms / 4))), halt);
      attempt++;
    }
  }

  private async once(
    body: ChatCompletionCreateParamsNonStreaming,
    estIn: number,
    est: number,
    n: number,
  ): Promise<SendResult> {
    const signal = this.deps.signal;
    const sdk =
      this.sdk ?? (await (this.sdkLoading ??= loadSdk().then((m) => (this.sdk = new m.default(this.sdkOptions)))));
    if (this.halt?.aborted) return { ok: false, stopped: 'abort' };
    // Requests queued before the server refused n must not ask again.
    if (n > 1 && this.stats.n_refused)
      return {
        ok: false,
        failure: {
          kind: 'n_refused',
          code: 'n_refused',
          message: 'n > 1 already refused in this run',
          retryAfterMs: null,
        },
      };
    const reservation = this.accounting.reserve(estIn, body.max_tokens! * n);
    if (reservation === null) return { ok: false, stopped: 'budget' };
    this.stats.requests++;
    try {
      const { data, response } = await sdk.chat.completions
        .create(body, { signal: signal ?? null, timeout: this.gen.timeout_ms, maxRetries: 0 })
        .withResponse();
      this.limiter.observe(response.headers, est);
      if (data?.system_fingerprint === SIMULATOR_FINGERPRINT) this.stats.simulated = true;
      if (
        !data ||
        !Array.isArray(data.choices) ||
        data.choices.length === 0 ||
        data.choices.some((c) => !c || typeof c.message !== 'object')
      ) {
        this.accounting.settle(reservation, { tokens_in: 0, tokens_out: 0 });
        return {
          ok: false,
          failure: {
            kind: 'retry',
            code: 'malformed_response',
            message: `reply has no choices[].message (got ${JSON.stringify(data)?.slice(0, 200)})`,
            retryAfterMs: null,
          },
        };
      }
      this.stats.by_status[String(response.status)] = (this.stats.by_status[String(response.status)] ?? 0) + 1;
      const used = { tokens_in: data.usage?.prompt_tokens ?? estIn, tokens_out: data.usage?.completion_tokens ?? 0 };
      this.accounting.settle(reservation, used);
      this.limiter.settle(est, used.tokens_in + used.tokens_out);
      this.deps.onEvent?.();
      return { ok: true, data };
    } catch (e) {
      this.accounting.settle(reservation, { tokens_in: 0, tokens_out: 0 });
      const failure = classify(e, n > 1, Boolean(signal?.aborted));
      // Marked here, before the queue starts the next task, so queued n-requests do not go out.
      if (failure.kind === 'n_refused') this.refuseN(failure.message);
      return { ok: false, failure };
    }
  }
}

/** A cached or fresh reply as the stage sees it. */
function outcome(e: CacheEntry, cached: boolean): SampleOutcome {
  const { content, finish_reason, tokens_in, tokens_out } = e;
  return { ok: true, content, finish_reason, tokens_in, tokens_out, cached };
}

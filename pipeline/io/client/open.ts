/**
 * @module pipeline/io/client/open
 * Opens a model port on a run's store: the client with its response cache, and the close that
 * flushes the cache. The one place the engine, the evals and the benchmarks build a client.
 */
import { RequestCache } from './cache.ts';
import type { Accounting } from './accounting.ts';
import type { Limiter } from './limits.ts';
import { ModelClient } from './model.ts';
import type { GenerateConfig, ModelConfig } from './config.ts';
import type { Store } from '../store.ts';

export interface OpenModelOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Stop starting requests, letting those in flight finish (first Ctrl-C); `signal` cancels them too. */
  drain?: AbortSignal;
  log?: (line: string) => void;
  onEvent?: () => void;
  limiter?: Limiter;
  budget?: Accounting;
}

/** A client (the model port) whose replies are cached in `store`; `close` flushes the cache and drops connections. */
export async function openModel(
  store: Store,
  model: ModelConfig,
  generate: GenerateConfig,
  opts: OpenModelOptions = {},
): Promise<{ port: ModelClient; close(): Promise<void> }> {
  const cache = await RequestCache.open(store);
  const port = new ModelClient(model, generate, {
    cache,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.drain ? { drain: opts.drain } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.limiter ? { limiter: opts.limiter } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
  });
  return {
    port,
    close: async () => {
      port.close();
      await cache.close();
    },
  };
}

/** Runs `fn` with a model port opened on `store`, and closes it (flushing the cache) whatever happens. */
export async function withModel<T>(
  store: Store,
  model: ModelConfig,
  generate: GenerateConfig,
  opts: OpenModelOptions,
  fn: (port: ModelClient) => Promise<T>,
): Promise<T> {
  const m = await openModel(store, model, generate, opts);
  try {
    return await fn(m.port);
  } finally {
    await m.close();
  }
}

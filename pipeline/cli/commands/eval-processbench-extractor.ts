/**
 * @module pipeline/cli/commands/eval-processbench-extractor
 * `eval processbench` with an extractor model: the checked options (the key only ever read from the
 * environment), and the second pipeline run, aligned by the model (`align.mode: "extractor"`), in
 * the run folder of `--state` so that its durable request cache is reused.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { FfsEvidence } from '../../../schemas/index.ts';
import { ConfigError, type Config } from '../../../schemas/config.ts';
import { DEFAULT_KEY_ENV, redactModel, redactText } from '../../io/client/config.ts';
import { evalConfig, emittedSteps, runEval } from './eval-run.ts';

/** The extractor model: an OpenAI-compatible server. The key is read from the environment only. */
export interface ExtractorOptions {
  /** e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl?: string | undefined;
  model?: string | undefined;
  /** Name of the environment variable holding the API key (default `OPENAI_API_KEY`). */
  apiKeyEnv?: string | undefined;
  /**
   * The extractor run's folder `<runs>/<name>`, holding its durable request cache (default
   * `runs/eval-processbench`). A path ending in `state.duckdb` (the layout before sharded state)
   * names its folder.
   */
  state?: string | undefined;
  /** Requests in flight, a positive integer (default 16); a string as the command line gives it. */
  concurrency?: string | number | undefined;
  /** Stops sending requests; the run then fails, keeping every finished reply in the cache. */
  signal?: AbortSignal | undefined;
}

/** Default run folder of the extractor's request cache, relative to the working directory. */
export const DEFAULT_STATE = join('runs', 'eval-processbench');

/** The client's counts of the extractor run. */
export interface ExtractorStats {
  /** Rows the extractor aligned; rows it failed on kept numeric alignment (`fell_back`). */
  extracted: number;
  fell_back: number;
  /** HTTP requests sent, and replies served from the cache. */
  requests: number;
  cache_hits: number;
}

/** Checks the extractor options before any work: both or neither of base URL and model. */
export function checkExtractor(
  x: ExtractorOptions | undefined,
): { baseUrl: string; model: string; apiKeyEnv: string; state: string; concurrency: number } | null {
  if (!x || (x.baseUrl === undefined && x.model === undefined)) return null;
  if (x.baseUrl === undefined || x.baseUrl === '')
    throw new ConfigError(
      'eval processbench: --model needs --base-url (the OpenAI-compatible server the extractor runs on), e.g. --base-url http://127.0.0.1:8000/v1',
    );
  if (x.model === undefined || x.model === '')
    throw new ConfigError("eval processbench: --base-url needs --model (the extractor model's name on that server)");
  try {
    new URL(x.baseUrl);
  } catch {
    throw new ConfigError(
      `eval processbench: --base-url should be a URL such as http://127.0.0.1:8000/v1, got ${JSON.stringify(redactModel({ base_url: x.baseUrl, model: '' }).base_url)}`,
    );
  }
  const apiKeyEnv = x.apiKeyEnv ?? DEFAULT_KEY_ENV;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
    throw new ConfigError(
      'eval processbench: --api-key-env should be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key',
    );
  const concurrency = Number(x.concurrency ?? 16);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(
      `eval processbench: --concurrency should be a positive integer, got ${JSON.stringify(x.concurrency)}`,
    );
  const given = x.state ?? DEFAULT_STATE;
  const state = basename(given) === 'state.duckdb' ? dirname(given) : given;
  if (existsSync(state) && !statSync(state).isDirectory())
    throw new ConfigError(
      `eval processbench: --state should be a run folder <runs>/<name> (a directory), got the file ${JSON.stringify(given)}`,
    );
  if (basename(state) === '' || basename(state) === '.' || basename(state) === '..')
    throw new ConfigError(
      `eval processbench: --state should name a run folder <runs>/<name>, got ${JSON.stringify(given)}`,
    );
  return { baseUrl: x.baseUrl, model: x.model, apiKeyEnv, state, concurrency };
}

export type CheckedExtractor = NonNullable<ReturnType<typeof checkExtractor>>;

/**
 * The same inputs run with every solution aligned by the extractor model (`align.mode:
 * "extractor"`), in the run folder of `state` so that its request cache is reused.
 */
export async function extractorRun(
  ext: CheckedExtractor,
  inputs: readonly { path: string; format: string }[],
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<{
  emitted: Map<string, { step: number; evidence: FfsEvidence | null }>;
  config: Config;
  stats: ExtractorStats;
}> {
  const model = { base_url: ext.baseUrl, model: ext.model, api_key_env: ext.apiKeyEnv };
  // Every line passes through the key's redaction, whatever produced it.
  const secret = process.env[ext.apiKeyEnv];
  const say = (line: string) => log(redactText(line, secret));
  say(
    `extractor: ${ext.model} at ${redactModel(model).base_url} (key from $${ext.apiKeyEnv}${secret ? '' : ', which is unset: a placeholder is sent'}), request cache ${ext.state}`,
  );
  const runFolder = ext.state;
  const config = evalConfig(dirname(resolve(runFolder)), basename(resolve(runFolder)), {
    runs_dir: '.',
    inputs,
    align: { mode: 'extractor', extractor: model },
    generate: { concurrency: ext.concurrency },
  });
  const interrupted = () =>
    new Error(
      `eval processbench: interrupted after the extractor replies received so far; finished replies are kept in ${ext.state}, a re-run resumes from them`,
    );
  let run: Awaited<ReturnType<typeof runEval>>;
  try {
    run = await runEval(config, { runId: 'eval-processbench-extractor', log: say, signal });
  } catch (e) {
    if (signal?.aborted) throw interrupted();
    throw e;
  }
  if (run.status !== 'done' || signal?.aborted) throw interrupted();
  const a = (run.stages.find((s) => s.name === 'align')?.stats ?? {}) as Record<string, number>;
  const stats = {
    extracted: a.extracted ?? 0,
    fell_back: a.fell_back ?? 0,
    requests: a.requests ?? 0,
    cache_hits: a.cache_hits ?? 0,
  };
  say(
    `extractor: aligned ${stats.extracted} paths, ${stats.fell_back} kept numeric alignment; ${stats.requests} requests, ${stats.cache_hits} cache hits`,
  );
  return { emitted: await emittedSteps(run.runDir), config, stats };
}

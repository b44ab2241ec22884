/**
 * @module pipeline/io/client/config
 * The client's model and generation settings, derived from the config schema (types and defaults
 * alike), the settings of each model a run asks (generation, teacher, extractor), and the redaction
 * every echoed or persisted copy goes through: the API key is read from the environment only.
 */
import {
  DEFAULT_KEY_ENV,
  generateDefaults,
  redactUrl,
  type Config,
  type Endpoint,
  type GenerateSection,
} from '../../../schemas/config.ts';
import { REDACTED } from '../../../schemas/redact.ts';

export { DEFAULT_KEY_ENV };

/** An endpoint as the client takes it: `api_key_env` may be left to its default (`OPENAI_API_KEY`). */
export type ModelConfig = Omit<Endpoint, 'api_key_env'> & Partial<Pick<Endpoint, 'api_key_env'>>;

/** USD per million tokens of one model (an entry of `generate.prices` without its model name). */
export type Price = Omit<GenerateSection['prices'][number], 'model'>;

/** The generate section as the client reads it: `prices` keyed by model name. */
export type GenerateConfig = Omit<GenerateSection, 'prices'> & { prices: Record<string, Price> };

/** What the client needs to talk to one model: where it is, and how to sample, limit, retry and pay. */
export interface ModelSettings {
  model: ModelConfig;
  generate: GenerateConfig;
}

/** The config's `generate` section (a list of prices) in the client's form (prices keyed by model). */
export function clientGenerate(g: GenerateSection): GenerateConfig {
  return { ...g, prices: Object.fromEntries(g.prices.map(({ model, ...p }) => [model, p])) };
}

/** The schema's defaults of the generate section, in the client's form. */
export const defaultGenerateConfig: GenerateConfig = clientGenerate(generateDefaults());

/** The run's request settings: its generate section, or the schema's defaults when it has none. */
const requestSettings = (config: Pick<Config, 'generate'>) => clientGenerate(config.generate ?? generateDefaults());

const endpointOf = (e: Endpoint): ModelConfig => ({ base_url: e.base_url, model: e.model, api_key_env: e.api_key_env });

/** The generation model's settings, or null when the run configures no model (imported paths only). */
export function generateSettings(config: Pick<Config, 'model' | 'generate'>): ModelSettings | null {
  return config.model ? { model: endpointOf(config.model), generate: requestSettings(config) } : null;
}

/**
 * The teacher's (`decompose`) settings, or null when none is configured: the user's limits, retries,
 * timeouts, budget and prices from `generate`, with the teacher's own temperature and max_tokens,
 * one reply per request and a fixed seed.
 */
export function teacherSettings(config: Pick<Config, 'decompose' | 'generate'>): ModelSettings | null {
  const d = config.decompose;
  if (!d) return null;
  const g = requestSettings(config);
  const sampling = generateDefaults();
  return {
    model: endpointOf(d),
    generate: {
      ...g,
      k: 1,
      modes: sampling.modes,
      temperature: d.temperature,
      top_p: sampling.top_p,
      max_tokens: d.max_tokens,
      seed: 0,
      use_n: false,
      adaptive: null,
    },
  };
}

/**
 * The extractor's (`align.extractor`) settings, or null when align is numeric: the user's limits,
 * retries, timeouts, budget and prices, with deterministic sampling (temperature 0, seed 0, no `n`).
 */
export function extractorSettings(config: Pick<Config, 'align' | 'generate'>): ModelSettings | null {
  const x = config.align.mode === 'extractor' ? config.align.extractor : null;
  return x ? { model: endpointOf(x), generate: extractorGenerate(requestSettings(config)) } : null;
}

/** Deterministic extraction on top of `base` (temperature 0, seed 0, one reply per request). */
function extractorGenerate(base: GenerateConfig): GenerateConfig {
  const sampling = generateDefaults();
  return {
    ...base,
    k: 1,
    modes: sampling.modes,
    temperature: 0,
    top_p: sampling.top_p,
    max_tokens: sampling.max_tokens,
    seed: 0,
    use_n: false,
    adaptive: null,
  };
}

/** The extractor's settings for a command without a run config (`eval processbench`): defaults but concurrency. */
export function extractorGenerateConfig(concurrency = defaultGenerateConfig.concurrency): GenerateConfig {
  return { ...extractorGenerate(defaultGenerateConfig), concurrency };
}

/** Reads the API key from the named environment variable; servers without auth get a placeholder. */
export function apiKey(model: ModelConfig, env: NodeJS.ProcessEnv): string {
  return env[model.api_key_env ?? DEFAULT_KEY_ENV] || 'no-key';
}

/** A copy of the model config safe to echo or persist: its URL redacted, naming the key's variable, never its value. */
export function redactModel(model: ModelConfig): Required<ModelConfig> & { api_key: typeof REDACTED } {
  return {
    base_url: redactUrl(model.base_url),
    model: model.model,
    api_key_env: model.api_key_env ?? DEFAULT_KEY_ENV,
    api_key: REDACTED,
  };
}

/** Replaces every occurrence of `secret` in a line (used on everything passed to a log). */
export function redactText(line: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? line.split(secret).join(REDACTED) : line;
}

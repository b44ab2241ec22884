/**
 * @module pipeline/io/client/config
 * Model and generation settings, their defaults, and the redaction every echoed or persisted
 * copy goes through: the API key is read from the environment only when the client is built.
 */

export interface ModelConfig {
  base_url: string;
  model: string;
  /** Name of the environment variable holding the API key; default `OPENAI_API_KEY`. */
  api_key_env?: string;
}

export interface Price {
  input_per_mtok: number;
  output_per_mtok: number;
}

export interface GenerateConfig {
  k: number;
  modes: ('ars-guided' | 'free')[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed: number | null;
  /** Try the server's `n`; fall back to separate requests when refused (remembered for the run). */
  use_n: boolean;
  concurrency: number;
  rpm: number | null;
  tpm: number | null;
  timeout_ms: number;
  max_retries: number;
  /** Re-asks on invalid JSON or a schema miss. */
  max_reasks: number;
  /** USD; the run stops cleanly before it would exceed this. */
  max_budget: number | null;
  prices: Record<string, Price>;
}

export const defaultGenerateConfig: GenerateConfig = {
  k: 4,
  modes: ['ars-guided', 'free'],
  temperature: 0.7,
  top_p: 1,
  max_tokens: 1024,
  seed: null,
  use_n: true,
  concurrency: 64,
  rpm: null,
  tpm: null,
  timeout_ms: 120_000,
  max_retries: 5,
  max_reasks: 2,
  max_budget: null,
  prices: {},
};

export const DEFAULT_KEY_ENV = 'OPENAI_API_KEY';

/** Reads the API key from the named environment variable; servers without auth get a placeholder. */
export function apiKey(model: ModelConfig, env: NodeJS.ProcessEnv): string {
  return env[model.api_key_env ?? DEFAULT_KEY_ENV] || 'no-key';
}

/** A copy of the model config safe to echo or persist: it names the key's variable, never its value. */
export function redactModel(model: ModelConfig): ModelConfig & { api_key: '<redacted>' } {
  return {
    base_url: stripUserinfo(model.base_url),
    model: model.model,
    api_key_env: model.api_key_env ?? DEFAULT_KEY_ENV,
    api_key: '<redacted>',
  };
}

/** Replaces every occurrence of `secret` in a line (used on everything passed to a log). */
export function redactText(line: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? line.split(secret).join('<redacted>') : line;
}

/** `https://user:pw@host/v1` → `https://host/v1`, so a key pasted into a URL is not persisted. */
function stripUserinfo(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** The extractor's generation settings: deterministic (temperature 0, a fixed seed), one reply per request. */
export function extractorGenerateConfig(concurrency = defaultGenerateConfig.concurrency): GenerateConfig {
  return { ...defaultGenerateConfig, temperature: 0, seed: 0, use_n: false, concurrency };
}

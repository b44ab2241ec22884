/**
 * @module schemas/config-requests
 * The settings of the requests a run sends: endpoints (where, which model, the NAME of the key's
 * variable, never the key) and the generate section (sampling, limits, retries, budget, prices).
 */
import { describe, t, type Infer } from './define.ts';
import { dflt, intMin, numIn, numMin, optionalSection, refine, setOf, strict } from './refine.ts';
import { REDACTED, redactUrl } from './redact.ts';
import { PATH_MODES } from './paths.ts';

/**
 * Stopping rules of adaptive sampling (stages/generate/adaptive.ts): the paths so far agree on the
 * final answer (and are all `reliable`), or what emit keeps of the problem is settled.
 */
export const ADAPTIVE_STOPS = ['settled-yield', 'final-agreement', 'reliable-agreement'] as const;
export type AdaptiveStop = (typeof ADAPTIVE_STOPS)[number];

const SECRET_NAME = /(^key$|api[_-]?key|token|secret|password|authorization)$/i;
/** An endpoint's secret-looking key is refused with where the key goes instead. */
export const secretHint = (key: string, path: string) =>
  SECRET_NAME.test(key)
    ? `${path} is not allowed: keys are read from the environment: set ${path.replace(/[^.]+$/, 'api_key_env')} to the NAME of a variable`
    : undefined;

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
};
/** A bad URL is shown redacted in the message (it may hold a key), up to its last `@` too. */
const url = () =>
  refine(t.text(), 'an http(s) URL such as http://127.0.0.1:8000/v1', isHttpUrl, (v) =>
    describe(redactUrl(v).replace(/^.*@/, `${REDACTED}@`)),
  );

const keyEnv = dflt(
  refine(
    t.text(),
    'the NAME of an environment variable (letters, digits, _), such as OPENAI_API_KEY',
    (n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n),
    // What came may be the key itself: never echo it.
    () => 'a value that is not a variable name (not shown: it may be a key)',
  ),
  'OPENAI_API_KEY',
);
/** Name of the variable an endpoint's key is read from when the config names none. */
export const DEFAULT_KEY_ENV = keyEnv.check(undefined, '', []);

/** An OpenAI-compatible endpoint: where, which model, and the NAME of the variable holding the key. */
export const endpointShape = { base_url: url(), model: t.text(), api_key_env: keyEnv };
export const endpoint = strict(endpointShape, { unknown: secretHint });
export type Endpoint = Infer<typeof endpoint>;

export const temperature = (d: number) => dflt(numIn(0, 2), d);
const limit = () => refine(t.double(), 'a number > 0, or null for no limit', (n) => n > 0);

/** The model that samples paths. */
export const modelSection = strict(
  {
    ...endpointShape,
    /** Set by `tracepipe demo`: this endpoint is the bundled simulator, not a model. */
    simulated: dflt(t.bool(), false),
  },
  { unknown: secretHint },
);

/** Sampling, limits, retries, budget and prices of every request the run sends (generation, teacher, extractor). */
export const generateShape = {
  /** Paths per problem and mode (with `adaptive`, the most a problem may draw). */
  k: dflt(intMin(1), 8),
  modes: dflt(setOf(t.enum(PATH_MODES), 1), ['ars-guided', 'free'] as ('ars-guided' | 'free')[]),
  temperature: temperature(0.7),
  top_p: dflt(numIn(0, 1, { lo: true }), 1),
  max_tokens: dflt(intMin(1), 1024),
  seed: t.nullable(t.int()),
  /** Try the server's `n`; fall back to separate requests when refused (remembered for the run). */
  use_n: dflt(t.bool(), true),
  /** Requests in flight. */
  concurrency: dflt(intMin(1), 64),
  /** Requests and tokens per minute; null: no limit. */
  rpm: t.nullable(limit()),
  tpm: t.nullable(limit()),
  timeout_ms: dflt(intMin(1), 120_000),
  max_retries: dflt(intMin(0), 6),
  /** Re-asks on invalid JSON or a schema miss. */
  max_reasks: dflt(intMin(0), 2),
  /** USD; the run stops cleanly before it would exceed this. null: no cap. */
  max_budget: t.nullable(refine(t.double(), 'a number >= 0 (USD), or null for no cap', (n) => n >= 0)),
  /** A run whose share of failed requests passes this fails (exit non-zero). */
  max_failure_rate: dflt(numIn(0, 1), 0.2),
  /** USD per million tokens, per model name (generation, teacher and extractor models alike). */
  prices: dflt(
    setOf(
      strict({ model: t.text(), input_per_mtok: numMin(0, true), output_per_mtok: numMin(0, true) }),
      0,
      (p) => JSON.stringify(p.model),
      'model',
    ),
    [],
  ),
  /** Draw paths in rounds and stop a problem once its outcome is settled (TRACE.md); null: K paths each. */
  adaptive: optionalSection({
    first_round: dflt(intMin(1), 3),
    round_size: dflt(intMin(1), 1),
    stop: dflt(t.enum(ADAPTIVE_STOPS), 'settled-yield'),
  }),
};
export const generateSection = strict(generateShape, {
  test: (g, path) =>
    g.adaptive && g.adaptive.first_round > g.k
      ? [`${path}.adaptive.first_round should be at most ${path}.k (${g.k}), got ${g.adaptive.first_round}`]
      : [],
});
export type GenerateSection = Infer<typeof generateSection>;

/** The sampling settings with every default: the generate section validated from an empty object. */
export const generateDefaults = (): GenerateSection => generateSection.check({}, 'generate', []);

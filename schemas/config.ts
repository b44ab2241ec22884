/**
 * @module schemas/config
 * The run config (a JSON file), validated with the schema algebra so a bad field is named
 * with what was expected and what came. It never holds a secret: only the env var's name.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { t, type Infer, type Issue } from './define.ts';
import { FFS_EVIDENCE, PATH_MODES } from './paths.ts';
import { INPUT_FORMATS } from '../stages/ingest/ingest.ts';

const num = (d: number) => t.withDefault(t.double(), () => d);
/** Cuts placed by a false computation or a node answer off its reference; `final` (last step only) is opt-in. */
const DEFAULT_CUT_EVIDENCE = ['arithmetic', 'node'] as const;
const int = (d: number) => t.withDefault(t.int(), () => d);

export const configSchema = t.struct({
  name: t.text(),
  runs_dir: t.withDefault(t.string(), () => 'runs'),
  inputs: t.list(
    t.struct({
      path: t.text(),
      format: t.withDefault(t.enum(INPUT_FORMATS), () => 'auto' as const),
      /** A labeled set whose problems calibrate the thresholds and are not emitted (TRACE.md "Calibration"). */
      calibration: t.withDefault(t.bool(), () => false),
    }),
  ),
  model: t.withDefault(
    t.nullable(
      t.struct({
        base_url: t.text(),
        model: t.text(),
        api_key_env: t.withDefault(t.string(), () => 'OPENAI_API_KEY'),
        /** Set by `tracepipe demo`: this endpoint is the bundled simulator, not a model. */
        simulated: t.withDefault(t.bool(), () => false),
      }),
    ),
    () => null,
  ),
  /** Teacher model for problems that come without an ARS; null keeps given ARSs only. */
  decompose: t.withDefault(
    t.nullable(
      t.struct({
        base_url: t.text(),
        model: t.text(),
        api_key_env: t.withDefault(t.string(), () => 'OPENAI_API_KEY'),
        temperature: num(0),
        max_tokens: int(2048),
      }),
    ),
    () => null,
  ),
  /** How free paths are mapped to node answers: numeric (no model) or an extractor model. */
  align: t.withDefault(
    t.struct({
      mode: t.withDefault(t.enum(['numeric', 'extractor'] as const), () => 'numeric' as const),
      extractor: t.withDefault(
        t.nullable(
          t.struct({
            base_url: t.text(),
            model: t.text(),
            api_key_env: t.withDefault(t.string(), () => 'OPENAI_API_KEY'),
          }),
        ),
        () => null,
      ),
    }),
    () => ({ mode: 'numeric' as const, extractor: null }),
  ),
  generate: t.withDefault(
    t.nullable(
      t.struct({
        k: int(8),
        modes: t.withDefault(t.list(t.enum(PATH_MODES)), () => ['ars-guided', 'free'] as ('ars-guided' | 'free')[]),
        temperature: num(0.7),
        top_p: num(1),
        max_tokens: int(1024),
        seed: t.withDefault(t.nullable(t.int()), () => null),
        use_n: t.withDefault(t.bool(), () => true),
        concurrency: int(64),
        rpm: t.withDefault(t.nullable(t.double()), () => null),
        tpm: t.withDefault(t.nullable(t.double()), () => null),
        timeout_ms: int(120_000),
        max_retries: int(6),
        max_reasks: int(2),
        max_budget: t.withDefault(t.nullable(t.double()), () => null),
        prices: t.withDefault(
          t.list(t.struct({ model: t.text(), input_per_mtok: t.double(), output_per_mtok: t.double() })),
          () => [],
        ),
      }),
    ),
    () => null,
  ),
  thresholds: t.withDefault(
    t.struct({ tau_pc: num(0.8), tau_gc: num(0.6), tau_fa: num(0.25), tau_pc_low: num(0.5), tau_gc_low: num(0.3) }),
    () => ({ tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 }),
  ),
  calibrate: t.withDefault(
    t.struct({ enabled: t.withDefault(t.bool(), () => true), target_precision: num(0.95), min_domain_paths: int(200) }),
    () => ({ enabled: true, target_precision: 0.95, min_domain_paths: 200 }),
  ),
  emit: t.withDefault(
    t.struct({
      sft_per_problem: int(2),
      pairs_per_problem: int(4),
      keep_after_ffs: t.withDefault(t.bool(), () => false),
      rows_per_part: int(100_000),
      /** The FFS evidence kinds whose cuts feed step_preference and stepwise rows (TRACE.md `ffs_evidence`). */
      cut_evidence: t.withDefault(t.list(t.enum(FFS_EVIDENCE)), () => [...DEFAULT_CUT_EVIDENCE]),
    }),
    () => ({
      sft_per_problem: 2,
      pairs_per_problem: 4,
      keep_after_ffs: false,
      rows_per_part: 100_000,
      cut_evidence: [...DEFAULT_CUT_EVIDENCE],
    }),
  ),
});
export type Config = Infer<typeof configSchema>;

/** Validates a parsed config; relative input paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, where: string, baseDir: string): Config {
  const issues: Issue[] = [];
  const cfg = configSchema.check(raw, '', issues);
  const fa = cfg?.thresholds?.tau_fa;
  if (typeof fa === 'number' && !(fa >= 0 && fa <= 1))
    issues.push({
      code: 'invalid_value',
      path: 'thresholds.tau_fa',
      message: `thresholds.tau_fa should be a number from 0 to 1, got ${fa}`,
    });
  if (issues.length) throw new ConfigError(`${where}: ${issues.map((i) => i.message.replace(/^\./, '')).join('; ')}`);
  for (const input of cfg.inputs) input.path = resolve(baseDir, input.path);
  cfg.runs_dir = resolve(baseDir, cfg.runs_dir);
  return cfg;
}

export async function loadConfig(file: string): Promise<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config ${file} could not be read as JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, `config ${file}`, dirname(resolve(file)));
}

/** A usage-level error: main prints its message without a stack and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SECRET_KEY = /(api[_-]?key|token|secret|password|authorization)$/i;

/** A deep copy with secret-looking values replaced (keys named `*_env` hold names, not secrets). */
export function redact<T>(v: T): T {
  if (Array.isArray(v)) return v.map(redact) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && typeof x === 'string' ? '[redacted]' : redact(x)]),
    ) as T;
  }
  return v;
}

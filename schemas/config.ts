/**
 * @module schemas/config
 * The run config (a JSON file): one strict schema from which every setting's type, default and
 * check derive. An unknown key, a value out of range or a name that leaves `runs_dir` is refused
 * with its path, what was expected and what came. It never holds a secret: only the env var's name.
 */
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute, join, sep } from 'node:path';
import { describe, t, type Infer, type Issue } from './define.ts';
import { ConfigError } from './errors.ts';
import { dflt, intMin, issuesOf, listOf, numIn, optionalSection, refine, section, setOf, strict } from './refine.ts';
import { endpoint, endpointShape, generateSection, modelSection, secretHint, temperature } from './config-requests.ts';
import { INPUT_FORMATS } from './problems.ts';

export { redact, redactUrl } from './redact.ts';
export {
  ADAPTIVE_STOPS,
  type AdaptiveStop,
  DEFAULT_KEY_ENV,
  endpoint,
  endpointShape,
  generateDefaults,
  generateSection,
  generateShape,
  modelSection,
  type Endpoint,
  type GenerateSection,
} from './config-requests.ts';

/** What placed a First Failure Step (TRACE.md `ffs_evidence`). */
export const FFS_EVIDENCE = ['arithmetic', 'node', 'final'] as const;

const RUN_NAME = 'letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters)';
/** The run's folder name under `runs_dir`: it can hold no separator, so it never leaves `runs_dir`. */
export const runName = refine(
  t.text(),
  `a run name of ${RUN_NAME}`,
  (n) => /^[A-Za-z0-9._-]{1,128}$/.test(n) && n !== '.' && n !== '..',
);

const threshold = (d: number) => dflt(numIn(0, 1), d);

export const configSchema = strict({
  name: runName,
  runs_dir: dflt(t.text(), 'runs'),
  inputs: listOf(
    strict({
      path: t.text(),
      format: dflt(t.enum(INPUT_FORMATS), 'auto'),
      /** This input is the labeled calibration set of a run whose own problems have no gold (TRACE.md). */
      calibration: dflt(t.bool(), false),
    }),
    1,
  ),
  model: t.nullable(modelSection),
  /** Teacher model for problems that come without an ARS; null keeps given ARSs only. */
  decompose: optionalSection(
    { ...endpointShape, temperature: temperature(0), max_tokens: dflt(intMin(1), 2048) },
    { unknown: secretHint },
  ),
  /** How free paths are mapped to node answers: numeric (no model) or an extractor model. */
  align: section(
    {
      mode: dflt(t.enum(['numeric', 'extractor'] as const), 'numeric'),
      extractor: t.nullable(endpoint),
      /** With `extractor`, the share of free paths sent to it (chosen by a stable hash of the path id); the rest align numerically. */
      extractor_share: dflt(numIn(0, 1), 1),
    },
    {
      test: (a, path) =>
        a.mode === 'extractor' && !a.extractor
          ? [`${path}.mode is "extractor" but ${path}.extractor (base_url, model) is not set`]
          : [],
    },
  ),
  generate: t.nullable(generateSection),
  /** Step pairs whose chosen step the model wrote by continuing the prefix before the FFS (TRACE.md); null: peers only. */
  rectify: optionalSection({
    /** Continuations asked per path with an FFS. */
    r: dflt(intMin(1), 8),
    max_tokens: dflt(intMin(1), 1024),
    temperature: temperature(0.7),
  }),
  thresholds: section(
    {
      tau_pc: threshold(0.8),
      tau_gc: threshold(0.6),
      tau_fa: threshold(0.25),
      tau_pc_low: threshold(0.5),
      tau_gc_low: threshold(0.3),
    },
    {
      test: (th, path) =>
        (['pc', 'gc'] as const).flatMap((x) =>
          th[`tau_${x}_low`] > th[`tau_${x}`]
            ? [`${path}.tau_${x}_low should be at most ${path}.tau_${x} (${th[`tau_${x}`]}), got ${th[`tau_${x}_low`]}`]
            : [],
        ),
    },
  ),
  calibrate: section({
    enabled: dflt(t.bool(), true),
    target_precision: dflt(numIn(0, 1), 0.95),
    min_domain_paths: dflt(intMin(1), 200),
    /**
     * Where no grid point meets target_precision: `closest` takes the grid point whose Wilson lower
     * bound of precision is highest (the labels' best attempt at the target); `configured` keeps
     * the configured thresholds, which the labels did not choose.
     */
    unmet: dflt(t.enum(['closest', 'configured'] as const), 'closest'),
  }),
  emit: section({
    sft_per_problem: dflt(intMin(0), 2),
    pairs_per_problem: dflt(intMin(0), 4),
    keep_after_ffs: dflt(t.bool(), false),
    /** Rows of a published Parquet part at most; a part also stops at 32 MB of its rows' JSON (large rows: step pairs). */
    rows_per_part: dflt(intMin(1), 100_000),
    /** Which FFS evidence may cut step pairs and stepwise rows (TRACE.md `ffs_evidence`). */
    cut_evidence: dflt(setOf(t.enum(FFS_EVIDENCE), 1), ['arithmetic', 'node'] as (typeof FFS_EVIDENCE)[number][]),
  }),
  engine: section({
    /** Problems go to shards by content hash: a power of two, so a shard splits cleanly. */
    shards: dflt(
      refine(t.int(), 'a power of two from 1 to 4096', (n) => n >= 1 && n <= 4096 && (n & (n - 1)) === 0),
      64,
    ),
    /** CPU-bound workers; 0: one per core. */
    workers: dflt(intMin(0), 0),
    /** Published snapshots kept (older ones are removed). */
    keep_snapshots: dflt(intMin(1), 7),
    /**
     * Bytes of a JSONL input one worker reads at a time. Inputs of a quarter of this or more in
     * all are read by the workers (a JSONL one in parts of about this size); smaller ones by the
     * main thread, which reads them sooner than a worker starts.
     */
    read_part_bytes: dflt(intMin(256), 64 << 20),
    /**
     * Problems a group of CPU stages must compute for the worker threads to start: a group with
     * fewer (a nightly re-run of a few new problems) runs in the main thread, since starting the
     * workers takes about half a second of both cores. Once started, the workers take every later
     * group. 0: always start them.
     */
    thread_min_problems: dflt(intMin(0), 500),
    /**
     * DuckDB's buffer pool. DuckDB reads Parquet inputs and writes the published parts, one part
     * (about `emit.rows_per_part` rows, 32 MB of JSON at most) sorted at a time; work past the limit spills to
     * `duckdb_temp_directory`. 512MB holds a part of 100k rows: measured on 1M imported paths, the
     * run's peak RSS is 1,343 MiB with it against 1,530 MiB with 2GB, in the same time. DuckDB's own
     * default (80% of RAM) would claim memory the V8 heap and the model server then cannot get.
     */
    duckdb_memory_limit: dflt(
      refine(
        t.text(),
        'a size of at least 64MB such as 2GB or 512MB (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)',
        (s) => {
          const b = sizeBytes(s);
          return b !== null && b >= 64e6;
        },
      ),
      '512MB',
    ),
    /** Where DuckDB spills; null: DuckDB's default, `<state file>.tmp` beside the run's state. */
    duckdb_temp_directory: t.nullable(t.text()),
  }),
  ingest: section({
    /** A question longer than this (UTF-8 bytes) is rejected. */
    max_question_bytes: dflt(intMin(1), 65_536),
  }),
});
export type Config = Infer<typeof configSchema>;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
/** Bytes of a DuckDB size setting (`2GB`, `512 MiB`), or null when it is not one. */
export function sizeBytes(s: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(s);
  const unit = m && UNITS[m[2]!.toLowerCase()];
  return m && unit ? Number(m[1]) * unit : null;
}

/**
 * Validates a parsed config: every issue, one line each, in one ConfigError. Relative input paths,
 * `runs_dir` and the DuckDB temp directory resolve against `baseDir`.
 */
export function parseConfig(raw: unknown, where: string, baseDir: string): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${where}: should be a JSON object, got ${describe(raw)}`);
  const issues: Issue[] = [];
  const cfg = configSchema.check(raw, '', issues);
  if (issues.length) throw new ConfigError(issues.map((i) => `${where}: ${i.message}`));
  for (const input of cfg.inputs) input.path = resolve(baseDir, input.path);
  cfg.runs_dir = resolve(baseDir, cfg.runs_dir);
  if (cfg.engine.duckdb_temp_directory !== null)
    cfg.engine.duckdb_temp_directory = resolve(baseDir, cfg.engine.duckdb_temp_directory);
  runDirOf(cfg);
  return cfg;
}

/** Reads and validates a config file (see `parseConfig`). */
export async function loadConfig(file: string): Promise<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config ${file} could not be read as JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, `config ${file}`, dirname(resolve(file)));
}

/**
 * The run's folder, `runs_dir/name`: the one gate on the name (its rule, and strictly inside
 * `runs_dir`), for a parsed config and for commands that take a name (demo) before any write.
 */
export function runDirOf(cfg: Pick<Config, 'name' | 'runs_dir'>): string {
  const refused = issuesOf(runName, cfg.name, 'name');
  const dir = join(cfg.runs_dir, cfg.name);
  const rel = relative(cfg.runs_dir, dir);
  if (refused.length || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new ConfigError(refused[0]?.message ?? `name should be ${runName.expected}, got ${describe(cfg.name)}`);
  return dir;
}

export { ConfigError } from './errors.ts';

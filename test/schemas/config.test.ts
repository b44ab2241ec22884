/** The config schema: every bad setting refused with its exact message, defaults, round trip, redaction. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig, redact, redactUrl, runDirOf, sizeBytes, type Config } from '../../schemas/config.ts';
import { repoRoot } from '../shared.ts';

const base = { name: 't', inputs: [{ path: 'p.jsonl' }] };
const m = { base_url: 'http://127.0.0.1:8000/v1', model: 'm' };
const parse = (raw: unknown) => parseConfig(raw, 'c', '/data');
/** The lines of the ConfigError a config raises (none when it is valid). */
function lines(raw: unknown): readonly string[] {
  try {
    parse(raw);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.lines;
  }
}

describe('a bad config is refused, naming the key, what was expected and what came', () => {
  it.each<[string, object, string]>([
    // Unknown keys, with the key meant when one is close.
    ['typo at the top', { generat: {} }, 'c: generat is not a known key: did you mean generate?'],
    [
      'swapped letters',
      { emit: { sft_per_problme: 3 } },
      'c: emit.sft_per_problme is not a known key: did you mean emit.sft_per_problem?',
    ],
    [
      'typo in a list item',
      { inputs: [{ path: 'p.jsonl', fromat: 'jsonl' }] },
      'c: inputs.0.fromat is not a known key: did you mean inputs.0.format?',
    ],
    [
      'nothing close',
      { colour: 'red' },
      'c: colour is not a known key (expected one of name, runs_dir, inputs, model, decompose, align, generate, rectify, thresholds, calibrate, emit, engine, ingest)',
    ],
    [
      'a key in the config',
      { model: { ...m, api_key: 'sk-live-1' } },
      'c: model.api_key is not allowed: keys are read from the environment: set model.api_key_env to the NAME of a variable',
    ],
    [
      'a token for the extractor',
      { align: { mode: 'extractor', extractor: { ...m, token: 'x' } } },
      'c: align.extractor.token is not allowed: keys are read from the environment: set align.extractor.api_key_env to the NAME of a variable',
    ],
    [
      'a key where its variable name goes',
      { decompose: { ...m, api_key_env: 'sk-live-123' } },
      'c: decompose.api_key_env should be the NAME of an environment variable (letters, digits, _), such as OPENAI_API_KEY, got a value that is not a variable name (not shown: it may be a key)',
    ],
    // Types and ranges.
    ['k as a string', { generate: { k: '8' } }, 'c: generate.k should be an integer, got "8"'],
    ['k negative', { generate: { k: -3 } }, 'c: generate.k should be an integer >= 1, got -3'],
    ['k zero', { generate: { k: 0 } }, 'c: generate.k should be an integer >= 1, got 0'],
    ['k fractional', { generate: { k: 1.5 } }, 'c: generate.k should be an integer, got 1.5'],
    [
      'threshold above 1',
      { thresholds: { tau_pc: 1.5 } },
      'c: thresholds.tau_pc should be a number in [0, 1], got 1.5',
    ],
    [
      'threshold below 0',
      { thresholds: { tau_gc: -0.2 } },
      'c: thresholds.tau_gc should be a number in [0, 1], got -0.2',
    ],
    ['tau_fa', { thresholds: { tau_fa: 2 } }, 'c: thresholds.tau_fa should be a number in [0, 1], got 2'],
    [
      'low above high',
      { thresholds: { tau_pc_low: 0.9 } },
      'c: thresholds.tau_pc_low should be at most thresholds.tau_pc (0.8), got 0.9',
    ],
    [
      'gc low above gc high',
      { thresholds: { tau_gc: 0.2 } },
      'c: thresholds.tau_gc_low should be at most thresholds.tau_gc (0.2), got 0.3',
    ],
    ['timeout negative', { generate: { timeout_ms: -1 } }, 'c: generate.timeout_ms should be an integer >= 1, got -1'],
    ['concurrency 0', { generate: { concurrency: 0 } }, 'c: generate.concurrency should be an integer >= 1, got 0'],
    [
      'retries negative',
      { generate: { max_retries: -1 } },
      'c: generate.max_retries should be an integer >= 0, got -1',
    ],
    ['reasks negative', { generate: { max_reasks: -2 } }, 'c: generate.max_reasks should be an integer >= 0, got -2'],
    ['rpm 0', { generate: { rpm: 0 } }, 'c: generate.rpm should be a number > 0, or null for no limit, got 0'],
    ['tpm negative', { generate: { tpm: -5 } }, 'c: generate.tpm should be a number > 0, or null for no limit, got -5'],
    [
      'budget negative',
      { generate: { max_budget: -1 } },
      'c: generate.max_budget should be a number >= 0 (USD), or null for no cap, got -1',
    ],
    [
      'temperature',
      { generate: { temperature: 2.5 } },
      'c: generate.temperature should be a number in [0, 2], got 2.5',
    ],
    ['top_p 0', { generate: { top_p: 0 } }, 'c: generate.top_p should be a number in (0, 1], got 0'],
    ['top_p above 1', { generate: { top_p: 1.1 } }, 'c: generate.top_p should be a number in (0, 1], got 1.1'],
    ['max_tokens 0', { generate: { max_tokens: 0 } }, 'c: generate.max_tokens should be an integer >= 1, got 0'],
    [
      'no modes',
      { generate: { modes: [] } },
      'c: generate.modes should be a non-empty list of one of ars-guided, free, got an empty list',
    ],
    [
      'a mode twice',
      { generate: { modes: ['free', 'free'] } },
      'c: generate.modes should list each value once, got "free" twice',
    ],
    [
      'a negative price',
      { generate: { prices: [{ model: 'm', input_per_mtok: -1, output_per_mtok: 1 }] } },
      'c: generate.prices.0.input_per_mtok should be a number >= 0, got -1',
    ],
    [
      'a model priced twice',
      {
        generate: {
          prices: [
            { model: 'm', input_per_mtok: 1, output_per_mtok: 1 },
            { model: 'm', input_per_mtok: 2, output_per_mtok: 2 },
          ],
        },
      },
      'c: generate.prices should list each model once, got "m" twice',
    ],
    [
      'failure rate',
      { generate: { max_failure_rate: 1.5 } },
      'c: generate.max_failure_rate should be a number in [0, 1], got 1.5',
    ],
    [
      'adaptive round larger than k',
      { generate: { k: 4, adaptive: { first_round: 6 } } },
      'c: generate.adaptive.first_round should be at most generate.k (4), got 6',
    ],
    [
      'adaptive rule',
      { generate: { adaptive: { stop: 'never' } } },
      'c: generate.adaptive.stop should be one of settled-yield, final-agreement, reliable-agreement, got "never"',
    ],
    ['sft per problem', { emit: { sft_per_problem: -1 } }, 'c: emit.sft_per_problem should be an integer >= 0, got -1'],
    [
      'pairs per problem',
      { emit: { pairs_per_problem: -1 } },
      'c: emit.pairs_per_problem should be an integer >= 0, got -1',
    ],
    ['rows per part', { emit: { rows_per_part: 0 } }, 'c: emit.rows_per_part should be an integer >= 1, got 0'],
    [
      'no cut evidence',
      { emit: { cut_evidence: [] } },
      'c: emit.cut_evidence should be a non-empty list of one of arithmetic, node, final, got an empty list',
    ],
    [
      'unknown cut evidence',
      { emit: { cut_evidence: ['guess'] } },
      'c: emit.cut_evidence.0 should be one of arithmetic, node, final, got "guess"',
    ],
    [
      'no inputs',
      { inputs: [] },
      'c: inputs should be a non-empty list of an object with path, format, calibration, got an empty list',
    ],
    [
      'calibration flag',
      { inputs: [{ path: 'p', calibration: 'yes' }] },
      'c: inputs.0.calibration should be true or false, got "yes"',
    ],
    [
      'format',
      { inputs: [{ path: 'a', format: 'csv' }] },
      'c: inputs.0.format should be one of auto, jsonl, parquet, paths-jsonl, paths-parquet, gsm8k-socratic, gsm8k-solutions, processbench, got "csv"',
    ],
    [
      'shards not a power of two',
      { engine: { shards: 100 } },
      'c: engine.shards should be a power of two from 1 to 4096, got 100',
    ],
    [
      'too many shards',
      { engine: { shards: 8192 } },
      'c: engine.shards should be a power of two from 1 to 4096, got 8192',
    ],
    ['workers', { engine: { workers: -1 } }, 'c: engine.workers should be an integer >= 0, got -1'],
    ['snapshots', { engine: { keep_snapshots: 0 } }, 'c: engine.keep_snapshots should be an integer >= 1, got 0'],
    [
      'duckdb memory',
      { engine: { duckdb_memory_limit: 'lots' } },
      'c: engine.duckdb_memory_limit should be a size of at least 64MB such as 2GB or 512MB (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got "lots"',
    ],
    [
      'question cap',
      { ingest: { max_question_bytes: 0 } },
      'c: ingest.max_question_bytes should be an integer >= 1, got 0',
    ],
    ['rectify r', { rectify: { r: 0 } }, 'c: rectify.r should be an integer >= 1, got 0'],
    [
      'teacher temperature',
      { decompose: { ...m, temperature: 3 } },
      'c: decompose.temperature should be a number in [0, 2], got 3',
    ],
    [
      'not a URL',
      { model: { ...m, base_url: 'notaurl' } },
      'c: model.base_url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "notaurl"',
    ],
    [
      'not http',
      { model: { ...m, base_url: 'ftp://h/v1' } },
      'c: model.base_url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "ftp://h/v1"',
    ],
    [
      'extractor mode without extractor',
      { align: { mode: 'extractor' } },
      'c: align.mode is "extractor" but align.extractor (base_url, model) is not set',
    ],
    ['no name', { name: undefined }, 'c: name is required (a non-empty string), got nothing'],
  ])('%s', (_, over, message) => {
    expect(lines({ ...base, ...over })).toEqual([message]);
  });

  it.each(['../../etc/evil', '..', '.', 'a/b', 'a\\b', '/abs', 'sp ace', 'x'.repeat(129)])(
    'refuses the run name %j',
    (name) => {
      expect(lines({ ...base, name })).toEqual([
        `c: name should be a run name of letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters), got ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}`,
      ]);
    },
  );

  it.each(['nightly', 'run-2024.01_a', '...', 'x'.repeat(128)])('accepts the run name %j inside runs_dir', (name) => {
    const c = parse({ ...base, name });
    expect(runDirOf(c)).toBe(join('/data/runs', name));
  });

  it('runDirOf is the gate for names that come from elsewhere (a flag)', () => {
    expect(() => runDirOf({ name: '../x', runs_dir: '/r' })).toThrow(
      'name should be a run name of letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters), got "../x"',
    );
    expect(runDirOf({ name: 'x', runs_dir: '/r' })).toBe('/r/x');
  });

  it('lists every issue of a config, one line each, in one error', () => {
    expect(
      lines({
        name: '../x',
        generat: {},
        inputs: [],
        generate: { k: -3, timeout_ms: 0 },
        thresholds: { tau_pc: 1.5 },
      }),
    ).toEqual([
      'c: generat is not a known key: did you mean generate?',
      'c: name should be a run name of letters A-Z a-z, digits, ".", "_" and "-" (not "." or "..", at most 128 characters), got "../x"',
      'c: inputs should be a non-empty list of an object with path, format, calibration, got an empty list',
      'c: generate.k should be an integer >= 1, got -3',
      'c: generate.timeout_ms should be an integer >= 1, got 0',
      'c: thresholds.tau_pc should be a number in [0, 1], got 1.5',
    ]);
  });

  it('never echoes a key: a bad URL is shown redacted', () => {
    const got = lines({ ...base, model: { ...m, base_url: 'ftp://u:sk-SECRET-1@h/v1?key=sk-SECRET-2' } });
    expect(got).toEqual([
      'c: model.base_url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "ftp://h/v1?key=<redacted>"',
    ]);
    expect(lines({ ...base, model: { ...m, api_key_env: 'sk-SECRET-3' } }).join('\n')).not.toContain('SECRET');
    expect(lines({ ...base, model: { ...m, base_url: 'user:sk-SECRET-4@host' } })).toEqual([
      'c: model.base_url should be an http(s) URL such as http://127.0.0.1:8000/v1, got "<redacted>@host"',
    ]);
  });

  it('refuses a config that is not an object', () => {
    expect(lines([])).toEqual(['c: should be a JSON object, got an array of 0']);
  });
});

/** Every default, as documented in the report and data/example.config.json. */
const DEFAULTS: Omit<Config, 'name' | 'inputs'> = {
  runs_dir: '/data/runs',
  model: null,
  decompose: null,
  align: { mode: 'numeric', extractor: null, extractor_share: 1 },
  generate: null,
  rectify: null,
  thresholds: { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 },
  calibrate: { enabled: true, target_precision: 0.95, min_domain_paths: 200, unmet: 'closest' },
  emit: {
    sft_per_problem: 2,
    pairs_per_problem: 4,
    keep_after_ffs: false,
    rows_per_part: 100_000,
    cut_evidence: ['arithmetic', 'node'],
  },
  engine: {
    shards: 64,
    workers: 0,
    keep_snapshots: 7,
    read_part_bytes: 64 << 20,
    thread_min_problems: 500,
    duckdb_memory_limit: '512MB',
    duckdb_temp_directory: null,
  },
  ingest: { max_question_bytes: 65_536 },
};
const GENERATE_DEFAULTS = {
  k: 8,
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
  max_retries: 6,
  max_reasks: 2,
  max_budget: null,
  max_failure_rate: 0.2,
  prices: [],
  adaptive: null,
};

describe('a good config', () => {
  it('fills every default and resolves paths against the config folder', () => {
    const c = parse(base);
    expect(c).toEqual({
      name: 't',
      inputs: [{ path: '/data/p.jsonl', format: 'auto', calibration: false }],
      ...DEFAULTS,
    });
  });

  it('fills the defaults of a section that is given', () => {
    const c = parse({
      ...base,
      model: m,
      generate: { adaptive: {} },
      rectify: {},
      decompose: m,
      align: { mode: 'extractor', extractor: m },
      engine: { duckdb_temp_directory: 'tmp' },
    });
    expect(c.generate).toEqual({
      ...GENERATE_DEFAULTS,
      adaptive: { first_round: 3, round_size: 1, stop: 'settled-yield' },
    });
    expect(c.model).toEqual({ ...m, api_key_env: 'OPENAI_API_KEY', simulated: false });
    expect(c.decompose).toEqual({ ...m, api_key_env: 'OPENAI_API_KEY', temperature: 0, max_tokens: 2048 });
    expect(c.align.extractor).toEqual({ ...m, api_key_env: 'OPENAI_API_KEY' });
    expect(c.rectify).toEqual({ r: 8, max_tokens: 1024, temperature: 0.7 });
    expect(c.engine.duckdb_temp_directory).toBe('/data/tmp');
  });

  it('round-trips: a parsed config, written and parsed again, is the same config', () => {
    const c = parse({
      ...base,
      model: m,
      generate: { k: 3, prices: [{ model: 'm', input_per_mtok: 1, output_per_mtok: 2 }] },
    });
    expect(parseConfig(JSON.parse(JSON.stringify(c)), 'again', '/elsewhere')).toEqual(c);
  });

  it('gives every config its own copy of a default list', () => {
    const a = parse(base);
    a.emit.cut_evidence.push('final');
    expect(parse(base).emit.cut_evidence).toEqual(['arithmetic', 'node']);
  });

  it('data/example.config.json is valid and names every setting of every section it does not leave null', () => {
    const raw = JSON.parse(readFileSync(join(repoRoot, 'data', 'example.config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const c = parseConfig(raw, 'example', join(repoRoot, 'data')) as unknown as Record<string, unknown>;
    const missing = (parsed: Record<string, unknown>, given: Record<string, unknown>, at: string): string[] =>
      Object.entries(parsed).flatMap(([k, v]) => {
        if (!(k in given)) return [`${at}${k}`];
        const g = given[k];
        return v && typeof v === 'object' && !Array.isArray(v) && g && typeof g === 'object'
          ? missing(v as Record<string, unknown>, g as Record<string, unknown>, `${at}${k}.`)
          : [];
      });
    expect(missing(c, raw, '')).toEqual([]);
  });
});

describe('sizeBytes', () => {
  it.each<[string, number | null]>([
    ['2GB', 2e9],
    ['512 MiB', 512 * 2 ** 20],
    ['1.5gb', 1.5e9],
    ['2', null],
    ['lots', null],
    ['-1GB', null],
  ])('%s', (s, bytes) => expect(sizeBytes(s)).toBe(bytes));
});

describe('redaction of what is written anywhere', () => {
  it.each([
    ['https://user:sk-K1@host/v1', 'https://host/v1'],
    ['http://127.0.0.1:8000/v1?key=sk-K2', 'http://127.0.0.1:8000/v1?key=<redacted>'],
    ['https://h/v1?api-key=sk-K3&x=1', 'https://h/v1?api-key=<redacted>&x=<redacted>'],
    ['https://h/v1?sk-K4', 'https://h/v1?<redacted>'],
    ['https://h/v1#sk-K5', 'https://h/v1#<redacted>'],
    ['https://:sk-K6@h', 'https://h'],
    ['http://u:sk-K7@[bad/v1?key=sk-K8', 'http://[bad/v1?key=<redacted>'],
  ])('redactUrl(%j)', (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });

  it('redact() replaces secret-named values and every URL in a deep copy, keeping variable names', () => {
    const cfg = {
      model: { base_url: 'https://u:sk-A@h/v1?key=sk-B', api_key_env: 'MY_KEY', api_key: 'sk-C' },
      list: [{ token: 'sk-D', note: 'http://h/?api-key=sk-E' }],
      k: 3,
    };
    const r = redact(cfg);
    expect(r).toEqual({
      model: { base_url: 'https://h/v1?key=<redacted>', api_key_env: 'MY_KEY', api_key: '<redacted>' },
      list: [{ token: '<redacted>', note: 'http://h/?api-key=<redacted>' }],
      k: 3,
    });
    expect(cfg.model.api_key).toBe('sk-C');
  });
});

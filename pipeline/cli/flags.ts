/**
 * @module pipeline/cli/flags
 * The command-line flags that override a run config (`--base-url`, `--model`, `--k`, `--concurrency`,
 * `--max-budget`): declared once, checked by the config schema's own columns, and applied.
 */
import {
  ConfigError,
  configSchema,
  endpointShape,
  generateDefaults,
  generateShape,
  modelSection,
  type Config,
} from '../../schemas/config.ts';
import type { Col, Issue } from '../../schemas/define.ts';

/** The override flags, as yargs options (each needs its value: `--k` alone is refused, not ignored). */
export const overrideFlags = {
  'base-url': {
    type: 'string',
    requiresArg: true,
    describe:
      'override model.base_url: any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp, OpenAI), e.g. http://127.0.0.1:8000/v1',
  },
  model: { type: 'string', requiresArg: true, describe: 'override model.model' },
  k: { type: 'number', requiresArg: true, describe: 'override generate.k (paths per problem and mode)' },
  concurrency: { type: 'number', requiresArg: true, describe: 'override generate.concurrency (requests in flight)' },
  'max-budget': {
    type: 'number',
    requiresArg: true,
    describe: 'override generate.max_budget (USD; stops cleanly before it is exceeded)',
  },
} as const;

export interface Overrides {
  'base-url'?: string | undefined;
  model?: string | undefined;
  k?: number | undefined;
  concurrency?: number | undefined;
  'max-budget'?: number | undefined;
}

/** Each flag, the config setting it overrides (section and key), and the schema column that checks its value. */
const FLAGS = [
  { flag: 'base-url', section: 'model', key: 'base_url', col: endpointShape.base_url },
  { flag: 'model', section: 'model', key: 'model', col: endpointShape.model },
  { flag: 'k', section: 'generate', key: 'k', col: generateShape.k },
  { flag: 'concurrency', section: 'generate', key: 'concurrency', col: generateShape.concurrency },
  { flag: 'max-budget', section: 'generate', key: 'max_budget', col: generateShape.max_budget },
] as const satisfies readonly { flag: keyof Overrides; section: string; key: string; col: Col<unknown> }[];

/** Does any request of this run go to a model (generation, teacher or extractor)? */
const anyModel = (c: Config) => c.model !== null || c.decompose !== null || c.align.mode === 'extractor';

/**
 * Applies the flags to a copy of a validated config; the key itself is only ever read from the
 * environment. Throws one ConfigError with a line per bad or ineffective flag.
 */
export function applyOverrides(config: Config, o: Overrides): Config {
  const lines: string[] = [];
  const given = FLAGS.filter((f) => o[f.flag] !== undefined);
  for (const f of given) {
    const issues: Issue[] = [];
    f.col.check(o[f.flag], `--${f.flag}`, issues);
    lines.push(...issues.map((i) => i.message));
  }
  if (lines.length) throw new ConfigError(lines);

  const out = structuredClone(config);
  const url = o['base-url'];
  const model = o.model;
  if (url !== undefined || model !== undefined) {
    if (!out.model && (url === undefined || model === undefined))
      throw new ConfigError('the config has no model section: give both --base-url and --model');
    // A new section takes the schema's defaults (api_key_env, simulated); the flags win over the file.
    out.model = modelSection.check(
      { ...out.model, ...(url !== undefined ? { base_url: url } : {}), ...(model !== undefined ? { model } : {}) },
      'model',
      [],
    );
  }
  for (const f of given.filter((x) => x.section === 'generate')) {
    const needs = f.flag === 'k' ? out.model !== null : anyModel(out);
    if (!needs) {
      lines.push(
        f.flag === 'k'
          ? '--k has no effect: the config has no model section, so no path is generated (add one, or give --base-url and --model)'
          : `--${f.flag} has no effect: the config names no model (model, decompose or align.extractor), so no request is sent`,
      );
      continue;
    }
    // Without a generate section the flag creates it from the schema's defaults: a budget is never dropped.
    out.generate = { ...(out.generate ?? generateDefaults()), [f.key]: o[f.flag] };
  }
  if (lines.length) throw new ConfigError(lines);

  // The flags may break a rule across settings (adaptive.first_round <= k): check the whole again.
  const issues: Issue[] = [];
  configSchema.check(out, '', issues);
  if (issues.length) throw new ConfigError(issues.map((i) => `with the command-line flags: ${i.message}`));
  return out;
}

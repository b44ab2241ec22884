/**
 * @module pipeline/cli/commands/options
 * The options of `tracepipe run` and the one-stage commands: what `--help` lists, without
 * loading the engine.
 */
import type { Options } from 'yargs';

export const configOpt = {
  config: { type: 'string', demandOption: true, describe: 'run config (JSON); see data/example.config.json' },
  'base-url': {
    type: 'string',
    describe:
      'override model.base_url: any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp, OpenAI), e.g. http://127.0.0.1:8000/v1',
  },
  model: { type: 'string', describe: 'override model.model' },
  k: { type: 'number', describe: 'override generate.k (paths per problem and mode)' },
  concurrency: { type: 'number', describe: 'override generate.concurrency (requests in flight)' },
  'max-budget': { type: 'number', describe: 'override generate.max_budget (USD; stops cleanly before it is exceeded)' },
  'dry-run': {
    type: 'boolean',
    default: false,
    describe: 'say which stages and shards would run, and why; change nothing',
  },
  queue: {
    type: 'string',
    requiresArg: true,
    describe:
      'redis://HOST:6379: run the shard jobs on `tracepipe worker` processes (any machine that mounts the run folder) through BullMQ; this process coordinates (see README "Scaling out")',
  },
} as const satisfies Record<string, Options>;

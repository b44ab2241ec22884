#!/usr/bin/env node
/**
 * @module pipeline/cli/main
 * `tracepipe`: the command line. The only place that catches, prints, cleans up and exits.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError, loadConfig, type Config } from '../../schemas/config.ts';
import { runPipeline } from '../engine/run.ts';
import { runSummary } from './summary.ts';
import { STAGES } from '../engine/descriptors.ts';
import { simServe, simServeOptions } from '../../sim/cli.ts';

/** Cleanups registered by commands (stop the simulator, close stores); main always runs them. */
const cleanups: (() => Promise<void> | void)[] = [];
export const onCleanup = (f: () => Promise<void> | void) => cleanups.push(f);

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('\ninterrupted twice: exiting now\n');
      process.exit(130);
    }
    process.stderr.write(
      `\n${sig}: finishing requests in flight and keeping all finished work (again to exit at once)\n`,
    );
    controller.abort();
  });
}

const configOpt = {
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
} as const;

interface Overrides {
  'base-url'?: string | undefined;
  model?: string | undefined;
  k?: number | undefined;
  concurrency?: number | undefined;
  'max-budget'?: number | undefined;
}

/** Command-line flags win over the config file; the key itself is only ever read from the environment. */
function applyOverrides(config: Config, o: Overrides): Config {
  if (o['base-url'] !== undefined || o.model !== undefined) {
    if (!config.model && (o['base-url'] === undefined || o.model === undefined))
      throw new ConfigError('the config has no model section: give both --base-url and --model');
    config.model = {
      api_key_env: 'OPENAI_API_KEY',
      simulated: false,
      ...config.model,
      ...(o['base-url'] !== undefined ? { base_url: o['base-url'] } : {}),
      ...(o.model !== undefined ? { model: o.model } : {}),
    } as NonNullable<Config['model']>;
  }
  if (config.generate) {
    if (o.k !== undefined) config.generate.k = o.k;
    if (o.concurrency !== undefined) config.generate.concurrency = o.concurrency;
    if (o['max-budget'] !== undefined) config.generate.max_budget = o['max-budget'];
  }
  return config;
}
const jsonOpt = {
  json: { type: 'boolean', default: false, describe: 'print the result as one JSON object on the last line' },
} as const;

/** Prints a result object: human lines, then with --json one JSON line last. */
function printResult(r: object, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    for (const [k, v] of Object.entries(r))
      process.stdout.write(`${k}: ${typeof v === 'number' ? +v.toFixed(4) : JSON.stringify(v)}\n`);
}

/** Optional string flags of one eval (beyond its files). */
type EvalFlags = Record<string, { type: 'string'; describe: string; default?: string }>;
/** `tracepipe eval <name>`: each reads its files, logs to stderr, and returns one summary object. */
const EVALS: {
  name: string;
  describe: string;
  files: Record<string, string>;
  flags?: EvalFlags;
  run: (
    a: Record<string, string> & { json: boolean },
    log: (s: string) => void,
    signal: AbortSignal,
  ) => Promise<object>;
}[] = [
  {
    name: 'trace',
    describe:
      'run the pipeline on real ARS + real model solutions (GSM8K; one half calibrates, the other is emitted) and grade what it emits: reliable precision and coverage held out; with --hide-gold, sft and reliable-correct precision without gold beside majority voting',
    files: { problems: 'GSM8K test_socratic.jsonl', paths: 'GSM8K example_model_solutions.jsonl' },
    flags: {
      'hide-gold': {
        type: 'string',
        describe:
          'hide the held-out half\'s gold answers (and is_correct) from the pipeline: "all" (final and node; the default when given alone) or "final"',
      },
      'target-precision': { type: 'string', describe: 'calibrate.target_precision of the run (default 0.95)' },
      'work-dir': {
        type: 'string',
        describe: 'keep the inputs written and the run in this folder (default: a temporary one)',
      },
      'calibration-set': {
        type: 'string',
        describe:
          '"half" (default): one half of the problems is a labeled calibration input, the other is emitted and graded; "none": no calibration input, every problem is emitted (with --hide-gold the run has no label at all)',
      },
    },
    run: async (a, log, signal) => {
      const { evalTrace, parseHideGold } = await import('./commands/eval-trace.ts');
      const target = a['target-precision'] === undefined ? undefined : Number(a['target-precision']);
      if (target !== undefined && !(target > 0 && target <= 1))
        throw new ConfigError(
          `eval trace: --target-precision should be a number in (0, 1], got ${a['target-precision']}`,
        );
      const set = a['calibration-set'];
      if (set !== undefined && set !== 'half' && set !== 'none')
        throw new ConfigError(`eval trace: --calibration-set should be "half" or "none", got ${JSON.stringify(set)}`);
      return evalTrace({
        problems: a.problems!,
        paths: a.paths!,
        hideGold: parseHideGold(a['hide-gold']),
        calibrationSet: set,
        targetPrecision: target,
        workDir: a['work-dir'],
        log,
        signal,
      });
    },
  },
  {
    name: 'processbench',
    describe:
      "run the pipeline on ProcessBench's solutions (no model) and grade the ffs_step it emits: ProcessBench's acc_error, acc_correct, f1, and cut_precision / cut_coverage of the rows it would cut; with --base-url and --model, also a run aligned by that extractor model, reported under `extractor`",
    files: { data: 'ProcessBench JSON (e.g. gsm8k.dev.json)', ars: 'GSM8K test_socratic.jsonl (the ARS)' },
    flags: {
      'base-url': {
        type: 'string',
        describe:
          'extractor model: any OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (needs --model); every solution is also aligned by it (align.mode "extractor") and scored',
      },
      model: { type: 'string', describe: 'extractor model name on that server (needs --base-url)' },
      'api-key-env': {
        type: 'string',
        default: 'OPENAI_API_KEY',
        describe: 'NAME of the environment variable holding the API key (the key is never printed, logged or stored)',
      },
      state: {
        type: 'string',
        default: 'runs/eval-processbench/state.duckdb',
        describe: 'DuckDB file of the durable request cache: a re-run sends no request already answered',
      },
      concurrency: {
        type: 'string',
        default: '16',
        describe: 'extractor requests in flight (lower it for a small local server)',
      },
    },
    run: async (a, log, signal) =>
      (await import('./commands/eval-processbench.ts')).evalProcessbench({
        data: a.data!,
        ars: a.ars!,
        log,
        ...(a['base-url'] !== undefined || a.model !== undefined
          ? {
              extractor: {
                baseUrl: a['base-url'],
                model: a.model,
                apiKeyEnv: a['api-key-env'],
                state: a.state,
                concurrency: a.concurrency,
                signal,
              },
            }
          : {}),
      }),
  },
  {
    name: 'step-errors',
    describe:
      'how often the first step the numeric aligner flags (arithmetic check) is the labelled mistake, on BIG-Bench-Mistake JSONL (steps, mistake_index)',
    files: { data: 'BIG-Bench-Mistake JSONL, e.g. multistep_arithmetic.jsonl' },
    run: async (a, log) => (await import('./commands/eval-step-errors.ts')).evalStepErrors({ data: a.data!, log }),
  },
  {
    name: 'equivalence',
    describe: 'check the answer-equivalence engine on labelled cases (JSONL: gold, pred, expected, optional kind)',
    files: { cases: 'JSONL cases' },
    run: async (a, log) =>
      (await import('./commands/eval-equivalence.ts')).evalEquivalence({ cases: a.cases!, json: a.json, log }),
  },
];

async function runCommand(args: { config: string; force?: boolean; only?: string } & Overrides): Promise<void> {
  const config = applyOverrides(await loadConfig(args.config), args);
  const result = await runPipeline(config, {
    ...(args.only ? { only: args.only } : {}),
    force: args.force ?? false,
    signal: controller.signal,
  });
  process.stdout.write(`${await runSummary(result)}\n`);
  if (result.status !== 'done') process.exitCode = 130;
}

export function buildCli(argv: string[]): Argv {
  let cli = yargs(argv)
    .scriptName('tracepipe')
    .usage(
      '$0 <command>\n\nTurns STEM problems into training data: decompose into an Auxiliary Reasoning Set, sample reasoning paths from any OpenAI-compatible server, score them by TRACE consistency (PC, GC, First Failure Step), emit Parquet datasets for SFT, DPO and PRM training.',
    )
    .command(
      'run',
      'run every stage in order, resuming from the last finished one',
      (y) => y.options({ ...configOpt, force: { type: 'boolean', default: false, describe: 're-run every stage' } }),
      (a) => runCommand(a),
    );
  for (const stage of STAGES.filter((s) => s.name !== 'report')) {
    cli = cli.command(
      stage.name,
      `${stage.describe} (reads ${stage.inputs.join(', ')}; writes ${stage.outputs.join(', ')})`,
      (y) => y.options(configOpt),
      (a) => runCommand({ ...a, only: stage.name }),
    );
  }
  return cli
    .command(
      'report [run]',
      'write runs/<name>/report/index.html: one self-contained page with the charts and tables of a run (also the last stage of `run`)',
      (y) =>
        y
          .positional('run', { type: 'string', describe: 'run folder (runs/<name>)' })
          .options({ config: { type: 'string', describe: 'or: the run config' } }),
      async (a) => {
        if (a.config) return runCommand({ config: a.config, only: 'report' });
        if (!a.run) throw new ConfigError('report needs a run folder (tracepipe report runs/<name>) or --config');
        const { reportRun } = await import('./commands/report.ts');
        const r = await reportRun(a.run);
        process.stdout.write(`report: ${r.file} (${r.charts} charts)\n`);
      },
    )
    .command(
      'synth',
      'write the seeded bank of synthetic math, physics and chemistry problems (project JSONL format, exact ARS gold answers)',
      (y) =>
        y.options({
          out: { type: 'string', demandOption: true, describe: 'output JSONL file' },
          n: { type: 'number', default: 300, describe: 'number of problems' },
          seed: { type: 'number', default: 1, describe: 'random seed' },
        }),
      async (a) => {
        const { writeSynth } = await import('../../sim/synth.ts');
        await writeSynth(a.out, { n: a.n, seed: a.seed });
        process.stderr.write(`wrote ${a.n} synthetic problems to ${a.out}\n`);
      },
    )
    .command(
      'sim',
      'the bundled model SIMULATOR (not a model): an OpenAI-compatible server for demos, tests and benchmarks',
      (y) =>
        y
          .command(
            'serve',
            'serve /v1/chat/completions on 127.0.0.1 for synth problems. SIMULATION: answers come from formulas with injected errors, not from a model',
            (yy) => yy.options(simServeOptions),
            async (a) => {
              await simServe(a as never, controller.signal);
            },
          )
          .demandCommand(1),
    )
    .command(
      'demo',
      'synth problems, start the simulator, run the whole pipeline through the openai client over HTTP, print a summary',
      (y) =>
        y.options({
          n: { type: 'number', default: 300, describe: 'synthetic problems' },
          k: { type: 'number', default: 8, describe: 'paths per problem' },
          seed: { type: 'number', default: 1, describe: 'seed for problems and simulator' },
          name: { type: 'string', default: 'demo', describe: 'run name (runs/<name>/)' },
          'runs-dir': { type: 'string', default: 'runs', describe: 'where runs live' },
        }),
      async (a) => {
        const { demo } = await import('./commands/demo.ts');
        const result = await demo({
          n: a.n,
          k: a.k,
          seed: a.seed,
          name: a.name,
          runsDir: a['runs-dir'],
          signal: controller.signal,
          onCleanup,
        });
        process.stdout.write(`${await runSummary(result)}\n`);
      },
    )
    .command('eval', 'evaluate the method on public data', (y) =>
      EVALS.reduce(
        (yy, e) =>
          yy.command(
            e.name,
            e.describe,
            (z) =>
              z.options({
                ...Object.fromEntries(
                  Object.entries(e.files).map(([k, d]) => [k, { type: 'string', demandOption: true, describe: d }]),
                ),
                ...e.flags,
                ...jsonOpt,
              }) as Argv<Record<string, string> & { json: boolean }>,
            async (a) =>
              printResult(await e.run(a, (line) => process.stderr.write(`${line}\n`), controller.signal), a.json),
          ),
        y,
      ).demandCommand(1),
    )
    .command(
      'bench',
      'benchmarks: generation saturation against the simulator, answer-equivalence throughput (prints one JSON line each)',
      (y) =>
        y.options({
          only: { type: 'string', choices: ['generation', 'equivalence'], describe: 'run one benchmark' },
        }),
      async (a) => {
        const { runBenchmarks } = await import('../../bench/index.ts');
        await runBenchmarks(a.only ? [a.only] : undefined, (line) => process.stdout.write(`${line}\n`));
      },
    )
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      throw new ConfigError(`${msg}\n\n${y.help().toString?.() ?? 'see --help'}`);
    });
}

/** Main: parse, run, always clean up, set the exit code. */
async function main(): Promise<void> {
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (e) {
    if (controller.signal.aborted) {
      // Interrupted: say what was kept, not a stack.
      process.stderr.write(`tracepipe: ${(e as Error).message}\n`);
      process.exitCode = 130;
    } else if (e instanceof ConfigError || (e as Error).name === 'YError') {
      process.stderr.write(`tracepipe: ${(e as Error).message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tracepipe: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  } finally {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch (e) {
        process.stderr.write(`cleanup failed: ${(e as Error).message}\n`);
      }
    }
  }
}

await main();

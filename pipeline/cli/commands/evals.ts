/**
 * @module pipeline/cli/commands/evals
 * `tracepipe eval <name>`: each reads its files, logs to stderr, and returns one summary object.
 */
import type { Argv } from 'yargs';
import { ConfigError } from '../../../schemas/errors.ts';

export const jsonOpt = {
  json: { type: 'boolean', default: false, describe: 'print the result as one JSON object on the last line' },
} as const;

/** Prints a result object: human lines, then with --json one JSON line last. */
export function printResult(r: object, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    for (const [k, v] of Object.entries(r))
      process.stdout.write(`${k}: ${typeof v === 'number' ? +v.toFixed(4) : JSON.stringify(v)}\n`);
}

/** Optional string flags of one eval (beyond its files). */
type EvalFlags = Record<string, { type: 'string'; describe: string; default?: string }>;
/** `tracepipe eval <name>`: each reads its files, logs to stderr, and returns one summary object. */
export const EVALS: {
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
      const { evalTrace, parseHideGold } = await import('./eval-trace.ts');
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
        default: 'runs/eval-processbench',
        describe:
          'run folder of the extractor run and its durable request cache: a re-run sends no request already answered (a path ending in state.duckdb names its folder)',
      },
      concurrency: {
        type: 'string',
        default: '16',
        describe: 'extractor requests in flight (lower it for a small local server)',
      },
    },
    run: async (a, log, signal) =>
      (await import('./eval-processbench.ts')).evalProcessbench({
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
    run: async (a, log) => (await import('./eval-step-errors.ts')).evalStepErrors({ data: a.data!, log }),
  },
  {
    name: 'equivalence',
    describe: 'check the answer-equivalence engine on labelled cases (JSONL: gold, pred, expected, optional kind)',
    files: { cases: 'JSONL cases' },
    run: async (a, log) =>
      (await import('./eval-equivalence.ts')).evalEquivalence({ cases: a.cases!, json: a.json, log }),
  },
];

/** Adds `eval <name>` subcommands to `y`. */
export function evalCommands(y: Argv, signal: AbortSignal): Argv {
  return EVALS.reduce(
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
        async (a) => printResult(await e.run(a, (line) => process.stderr.write(`${line}\n`), signal), a.json),
      ),
    y,
  ).demandCommand(1);
}

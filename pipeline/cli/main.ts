#!/usr/bin/env node
/**
 * @module pipeline/cli/main
 * `tracepipe`: the command line. The only place that catches, prints, cleans up and exits.
 */
// Only what `--help` and `--version` need is imported here: each command's handler loads its
// code (the engine, the stages, the simulator, the model client, DuckDB) when it runs.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError } from '../../schemas/errors.ts';
import { STAGE_CATALOG, type StageEntry } from '../../stages/catalog.ts';
import { simServeOptions } from '../../sim/serve-options.ts';
import { RunBusyError } from '../engine/lock.ts';
import { createLog } from './log.ts';
import { configOpt } from './commands/options.ts';
import type { RunArgs } from './commands/run.ts';
import { evalCommands, jsonOpt } from './commands/evals.ts';
import { workerCommand, workerOptions, type WorkerArgs } from './commands/worker.ts';

/** Cleanups registered by commands (stop the simulator, close stores); main always runs them. */
const cleanups: (() => Promise<void> | void)[] = [];
export const onCleanup = (f: () => Promise<void> | void) => cleanups.push(f);

/** First signal: drain (no new request or job starts; requests in flight finish). Second: cancel them. Third: exit. */
const drain = new AbortController();
const abort = new AbortController();
/** What a run-like command says when interrupted; other commands (the simulator) stop quietly. */
let onSignalSay: ((sig: string, n: number) => string) | null = null;
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 2) {
      process.stderr.write('\ninterrupted three times: exiting now\n');
      process.exit(130);
    }
    const say = onSignalSay?.(sig, interrupts);
    if (say) process.stderr.write(`\n${say}\n`);
    if (interrupts === 1) drain.abort();
    else abort.abort();
  });
}
const runLike = () => {
  onSignalSay = (sig, n) =>
    n === 1
      ? `${sig}: no new request starts; finishing the requests in flight and keeping all finished work (again to cancel them)`
      : `${sig}: cancelling the requests in flight (finished work is kept; again to exit at once)`;
};

const log = createLog();
const ctx = { log, drain: drain.signal, abort: abort.signal };

/** `tracepipe run` (or one stage): the engine is loaded here, when a run-like command runs. */
const runCommand = async (a: RunArgs) => (await import('./commands/run.ts')).runCommand(a, ctx);

export function buildCli(argv: string[]): Argv {
  const describeStage = (s: StageEntry) =>
    s.kind === 'problem'
      ? `${s.describe} (reads ${s.reads.join(', ')}; writes ${s.writes.join(', ')})`
      : `${s.describe} (merges ${s.needs.join(', ')} of every shard)`;
  let cli = yargs(argv)
    .scriptName('tracepipe')
    .usage(
      '$0 <command>\n\nTurns STEM problems into training data: decompose into an Auxiliary Reasoning Set, sample reasoning paths from any OpenAI-compatible server, score them by TRACE consistency (PC, GC, FA, First Failure Step), emit Parquet datasets for SFT, DPO and PRM training.\n\nExit codes: 0 done, 1 failed, 2 usage, 3 busy (another run holds the folder), 130 interrupted.',
    )
    .command(
      'run',
      'run every stage in order; each shard recomputes only the problems whose inputs or settings changed, and a new snapshot is published when the outputs change',
      (y) =>
        y.options({
          ...configOpt,
          force: { type: 'boolean', default: false, describe: 're-run every stage on every problem' },
        }),
      (a) => (runLike(), runCommand(a as RunArgs)),
    );
  for (const stage of STAGE_CATALOG.filter((s) => s.command !== false)) {
    cli = cli.command(
      stage.name,
      describeStage(stage),
      (y) => y.options(configOpt),
      (a) => (runLike(), runCommand({ ...(a as RunArgs), only: stage.name })),
    );
  }
  return cli
    .command(
      'worker',
      'run shard jobs of `tracepipe run --queue` coordinators from Redis (BullMQ), on any machine that mounts their run folders, within the shared rate limits and budget',
      (y) => y.options(workerOptions),
      (a) => {
        onSignalSay = (sig, n) =>
          n === 1
            ? `${sig}: no new job starts; finishing the active jobs (again to stop at once: they go to other workers)`
            : `${sig}: stopping now; nothing more is recorded, the active jobs go to other workers`;
        return workerCommand(a as WorkerArgs, ctx);
      },
    )
    .command(
      'report [run]',
      'write runs/<name>/report/index.html again: one self-contained page with the charts and tables of a run (also a stage of `run`)',
      (y) =>
        y
          .positional('run', { type: 'string', describe: 'run folder (runs/<name>)' })
          .options({ config: { type: 'string', describe: 'or: the run config' } }),
      async (a) => {
        runLike();
        if (a.config) return runCommand({ config: a.config, only: 'report' });
        if (!a.run) throw new ConfigError('report needs a run folder (tracepipe report runs/<name>) or --config');
        const { reportRun } = await import('./commands/report.ts');
        const r = await reportRun(a.run, { log });
        process.stdout.write(`report: ${r.file}\n`);
      },
    )
    .command(
      'snapshots <run>',
      "list a run's snapshots (oldest first, latest marked) with rows per dataset and rows added and removed since the one before",
      (y) =>
        y
          .positional('run', { type: 'string', demandOption: true, describe: 'run folder (runs/<name>)' })
          .options(jsonOpt),
      async (a) => {
        const { snapshotsCommand } = await import('./commands/snapshots.ts');
        process.stdout.write(`${await snapshotsCommand(a.run!, a.json)}\n`);
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
            'serve /v1/chat/completions on 127.0.0.1. SIMULATION, not a model: synth problems are answered from their formulas with injected errors; with --problems, any other problem gets RANDOM answers (labelled so)',
            (yy) => yy.options(simServeOptions),
            async (a) => {
              const { simServe } = await import('../../sim/cli.ts');
              await simServe(a as never, drain.signal);
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
        runLike();
        const [{ demo }, { report }] = await Promise.all([import('./commands/demo.ts'), import('./commands/run.ts')]);
        const result = await demo({
          n: a.n,
          k: a.k,
          seed: a.seed,
          name: a.name,
          runsDir: a['runs-dir'],
          signal: drain.signal,
          abort: abort.signal,
          log,
          onCleanup,
        });
        report(result, log);
      },
    )
    .command('eval', 'evaluate the method on public data', (y) => evalCommands(y, drain.signal))
    .command(
      'bench',
      'benchmarks, one JSON line each (numbers and ratios): equivalence, generation, generation-scale, offline, incremental, queue, adaptive, adaptive-gsm8k, rectify',
      (y) =>
        y.options({
          only: {
            type: 'string',
            describe: 'run one benchmark by name (an unknown name lists them); several: --only a --only b',
          },
        }),
      async (a) => {
        const { runBenchmarks } = await import('../../bench/index.ts');
        const only = a.only === undefined ? undefined : ([] as string[]).concat(a.only);
        await runBenchmarks(only, (line) => process.stdout.write(`${line}\n`));
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
    if (e instanceof RunBusyError) {
      process.stderr.write(`tracepipe: ${e.message}\n`);
      process.exitCode = 3;
    } else if (drain.signal.aborted) {
      // Interrupted: say what was kept, not a stack.
      process.stderr.write(`tracepipe: interrupted: ${(e as Error).message}\n`);
      process.exitCode = 130;
    } else if (e instanceof ConfigError || (e as Error).name === 'YError') {
      // One line per problem, each with the prefix.
      const lines = e instanceof ConfigError ? e.lines : [(e as Error).message];
      process.stderr.write(lines.map((l) => `tracepipe: ${l}\n`).join(''));
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

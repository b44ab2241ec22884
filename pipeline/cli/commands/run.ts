/**
 * @module pipeline/cli/commands/run
 * `tracepipe run` and the one-stage commands: load the config, apply the flags, run (or plan),
 * print the summary (a JSON line off a terminal), and set the exit code from the result.
 */
import { loadConfig } from '../../../schemas/config.ts';
import { applyOverrides, overrideFlags, type Overrides } from '../flags.ts';
import { runPipeline, type RunResult } from '../../engine/run.ts';
import { runSummary, runSummaryJson } from '../summary.ts';
import type { CliLog } from '../log.ts';
import { checkQueueUrl } from '../../engine/queue/url.ts';

export { configOpt } from './options.ts';

/** The exit code of a result: 0 done (or planned), 1 failed, 130 interrupted. */
export const exitCodeOf = (r: RunResult) =>
  r.dryRun || r.status === 'done' ? 0 : r.status === 'interrupted' ? 130 : 1;

/** Prints a run's summary where the user reads it, and sets the exit code. */
export function report(result: RunResult, log: CliLog): void {
  const code = exitCodeOf(result);
  if (log.json) process.stdout.write(`${runSummaryJson(result, code)}\n`);
  else process.stdout.write(`${runSummary(result)}\n`);
  process.exitCode = code;
}

export interface RunArgs extends Overrides {
  config: string;
  force?: boolean;
  only?: string;
  'dry-run'?: boolean;
  queue?: string;
}

/** `tracepipe run` (or one stage with `only`). */
export async function runCommand(
  a: RunArgs,
  ctx: { log: CliLog; drain: AbortSignal; abort: AbortSignal },
): Promise<void> {
  const config = applyOverrides(await loadConfig(a.config), a);
  const result = await runPipeline(config, {
    ...(a.only ? { only: a.only } : {}),
    force: a.force ?? false,
    dryRun: a['dry-run'] ?? false,
    signal: ctx.drain,
    abort: ctx.abort,
    log: ctx.log,
    command: process.argv.slice(1).join(' '),
    ...(a.queue !== undefined ? { queue: checkQueueUrl(a.queue) } : {}),
  });
  report(result, ctx.log);
}

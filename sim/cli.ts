/**
 * @module sim/cli
 * `tracepipe sim serve`: runs the model SIMULATOR (not a model) until stopped. Also runnable
 * alone: `node sim/cli.ts --port 8000 --p-error 0.2`.
 */
import { pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError } from '../schemas/errors.ts';
import { startSimulator, statsJson, type SimulatorOptions } from './server.ts';
import { simServeOptions } from './serve-options.ts';

export { simServeOptions } from './serve-options.ts';

/** Parsed `sim serve` arguments (yargs also gives the camelCase keys read here). */
export type SimServeArgv = Partial<Record<string, unknown>>;

/** Turns parsed `sim serve` arguments into simulator options. */
export function simOptsFromArgv(a: SimServeArgv): SimulatorOptions {
  const o: SimulatorOptions = {};
  const flag = (k: string) => k.replace(/[A-Z0-9]+/g, (m) => `-${m.toLowerCase()}`);
  const raw = (k: string) => a[k] ?? a[flag(k)];
  const num = (k: string) => {
    const v = raw(k);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const nums = [
    'port',
    'seed',
    'n',
    'pError',
    'difficultySpread',
    'pSilent',
    'pLastStep',
    'freeErrorScale',
    'latencyMs',
    'latencyJitter',
    'maxConcurrency',
    'rate429',
    'retryAfterMs',
    'rate5xx',
    'rateHang',
    'hangMs',
    'rateMalformed',
    'rateTruncated',
    'faultSeed',
    'pDecomposeError',
    'pExtractError',
    'rpm',
  ] as const;
  for (const k of nums) {
    const v = num(k);
    if (v !== undefined) o[k] = v;
    else if (typeof raw(k) === 'number')
      throw new ConfigError(`sim serve --${flag(k)} should be a number, got ${String(raw(k))}`);
  }
  if (typeof a.problems === 'string') o.problemsFile = a.problems;
  const oc = a.overCapacity ?? a['over-capacity'];
  if (oc === 'queue' || oc === '429') o.overCapacity = oc;
  if ((a.refuseN ?? a['refuse-n']) === true) o.refuseN = true;
  return o;
}

/** Runs the simulator until `signal` aborts (or, without one, until SIGINT/SIGTERM); prints its URL first. */
export async function simServe(argv: SimServeArgv | readonly string[], signal?: AbortSignal): Promise<void> {
  const a: SimServeArgv = Array.isArray(argv)
    ? await yargs([...argv])
        .scriptName('tracepipe-sim')
        .usage(
          '$0 [options]\n\nThe tracepipe model SIMULATOR: an OpenAI-compatible server whose answers come from formulas with injected errors (and, for problems of a --problems file that are not synth problems, at random). It is a SIMULATION, not a model. Live counts: GET /v1/sim/stats.',
        )
        .options(simServeOptions)
        .strict()
        .help()
        .parseAsync()
    : (argv as SimServeArgv);
  const sim = await startSimulator(simOptsFromArgv(a));
  if (sim.others.length)
    process.stderr.write(
      `tracepipe simulator: ${sim.bank.length} synth problems get formula answers; ${sim.others.length} other problems get RANDOM answers (SIMULATED, they mean nothing)\n`,
    );
  process.stdout.write(`tracepipe simulator (SIMULATION, not a model) listening on ${sim.url}/v1\n`);
  await new Promise<void>((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const st = sim.stats();
  await sim.close();
  process.stderr.write(`tracepipe simulator stopped: ${JSON.stringify(statsJson(st))}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  simServe(hideBin(process.argv)).catch((e: unknown) => {
    process.stderr.write(
      `tracepipe-sim: ${e instanceof ConfigError ? e.message : ((e as Error).stack ?? String(e))}\n`,
    );
    process.exitCode = e instanceof ConfigError ? 2 : 1;
  });
}

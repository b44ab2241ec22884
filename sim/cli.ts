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

const P = 'SIMULATION:';
/** yargs options of `sim serve`, one per simulator knob. */
export const simServeOptions = {
  port: { type: 'number', default: 0, describe: `${P} port on 127.0.0.1 (0 = any free port)` },
  seed: { type: 'number', default: 1, describe: `${P} seed of the synth bank the simulator answers for` },
  n: { type: 'number', default: 300, describe: `${P} size of the synth bank to rebuild` },
  problems: {
    type: 'string',
    describe: `${P} a problem file (project JSONL) to answer for, instead of --seed/--n: its synth problems get formula answers; EVERY OTHER PROBLEM GETS PLAUSIBLE BUT RANDOM ANSWERS (labelled "(SIMULATED random answer)" and x-tracepipe-random: true), so a file can be tried end to end before pointing at a real server`,
  },
  'p-error': {
    type: 'number',
    default: 0.15,
    describe: `${P} probability that a node of a sampled path goes wrong (errors flow to its dependants)`,
  },
  'difficulty-spread': {
    type: 'number',
    default: 1.5,
    describe: `${P} spread of per-problem difficulty (std dev on the logit scale)`,
  },
  'p-silent': {
    type: 'number',
    default: 0.03,
    describe: `${P} per path: a node is misstated but its dependants use the right value`,
  },
  'p-last-step': { type: 'number', default: 0.03, describe: `${P} per path: the final step goes wrong on its own` },
  'free-error-scale': {
    type: 'number',
    default: 1.5,
    describe: `${P} free (unguided) paths err this many times as often per node as ARS-guided ones`,
  },
  'latency-ms': { type: 'number', default: 0, describe: `${P} mean reply latency in ms (lognormal)` },
  'latency-jitter': { type: 'number', default: 0.25, describe: `${P} lognormal sigma of the latency` },
  'max-concurrency': { type: 'number', default: 0, describe: `${P} requests served at once (0 = no cap)` },
  'over-capacity': {
    type: 'string',
    choices: ['queue', '429'],
    default: 'queue',
    describe: `${P} what happens over the cap: wait in line, or 429`,
  },
  'rate-429': { type: 'number', default: 0, describe: `${P} share of requests answered 429 with Retry-After` },
  'retry-after-ms': { type: 'number', default: 1000, describe: `${P} wait a 429 asks for` },
  'rate-5xx': { type: 'number', default: 0, describe: `${P} share of requests answered 500/503` },
  'rate-hang': {
    type: 'number',
    default: 0,
    describe: `${P} share of requests never answered (socket dropped after --hang-ms)`,
  },
  'hang-ms': { type: 'number', default: 60000, describe: `${P} how long a hung request holds its socket` },
  'rate-malformed': {
    type: 'number',
    default: 0,
    describe: `${P} share of choices with broken content (invalid JSON for guided)`,
  },
  'rate-truncated': {
    type: 'number',
    default: 0,
    describe: `${P} share of choices cut short (finish_reason "length")`,
  },
  'p-decompose-error': {
    type: 'number',
    default: 0,
    describe: `${P} per decomposition reply: the simulated teacher drops or merges one ARS node`,
  },
  'p-extract-error': {
    type: 'number',
    default: 0,
    describe: `${P} per node of an extractor reply: the simulated extractor misses it or copies the neighbouring step's value`,
  },
  rpm: {
    type: 'number',
    default: 0,
    describe: `${P} chat requests accepted in any sliding 60 s window; more get 429 with Retry-After (0 = no limit)`,
  },
  'fault-seed': { type: 'number', describe: `${P} seed of the fault draws (default: unseeded)` },
  'refuse-n': {
    type: 'boolean',
    default: false,
    describe: `${P} answer 400 to n > 1, as servers without multi-sampling do`,
  },
} as const;

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

/**
 * @module sim/serve-options
 * The options of `tracepipe sim serve`, one per simulator knob: what `--help` lists, without
 * loading the simulator.
 */

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

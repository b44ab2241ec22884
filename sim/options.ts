/** @module sim/options  The SIMULATOR's options, their defaults, and their checks (a bad value is a ConfigError naming it). */
import { ConfigError } from '../schemas/errors.ts';
import { DEFAULT_ERROR_MODEL, type ErrorModel } from './solve.ts';
import { NO_FAULTS, type FaultRates } from './faults.ts';
import { NO_HELPER_ERRORS, type HelperErrors } from './complete.ts';

export interface SimulatorOptions extends Partial<ErrorModel>, Partial<FaultRates>, Partial<HelperErrors> {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Seed of the synth bank (and of the difficulty of each problem). */
  seed?: number;
  /** Size of the synth bank to rebuild (ignored with `problemsFile`). */
  n?: number;
  /**
   * A problem file (the project's JSONL format) whose problems the simulator should know: its synth
   * problems (ids name their seed, so `seed` is not needed) get formula answers, all others RANDOM ones.
   */
  problemsFile?: string;
  /** Mean latency of a reply in ms (lognormal). */
  latencyMs?: number;
  /** Spread of the latency: the lognormal's sigma. */
  latencyJitter?: number;
  /** Requests served at once; more wait in line, or get 429 with `overCapacity: '429'`. 0 = no cap. */
  maxConcurrency?: number;
  overCapacity?: 'queue' | '429';
  /** Wait a 429 asks for (Retry-After, rounded up to seconds, and retry-after-ms). */
  retryAfterMs?: number;
  /** How long a hung request (`rateHang`; it holds no concurrency slot) keeps its socket before destroying it. */
  hangMs?: number;
  /** Answer 400 to n > 1, as servers without multi-sampling do. */
  refuseN?: boolean;
  /** Seeds the fault draws, so that the counts of each fault over N requests are reproducible. */
  faultSeed?: number;
  /** Chat requests accepted in any sliding 60 s window; more get 429 with Retry-After (`over_rpm`). 0 = no limit. */
  rpm?: number;
}

/** The error model, fault rates, helper error rates and rpm limit of `opts`, defaults filled in and checked. */
export function resolveOptions(opts: SimulatorOptions): {
  em: ErrorModel;
  faults: FaultRates;
  he: HelperErrors;
  rpm: number;
} {
  const em: ErrorModel = {
    pError: opts.pError ?? DEFAULT_ERROR_MODEL.pError,
    difficultySpread: opts.difficultySpread ?? DEFAULT_ERROR_MODEL.difficultySpread,
    pSilent: opts.pSilent ?? DEFAULT_ERROR_MODEL.pSilent,
    pLastStep: opts.pLastStep ?? DEFAULT_ERROR_MODEL.pLastStep,
    freeErrorScale: opts.freeErrorScale ?? DEFAULT_ERROR_MODEL.freeErrorScale,
  };
  const faults: FaultRates = {
    rate429: opts.rate429 ?? NO_FAULTS.rate429,
    rate5xx: opts.rate5xx ?? NO_FAULTS.rate5xx,
    rateHang: opts.rateHang ?? NO_FAULTS.rateHang,
    rateMalformed: opts.rateMalformed ?? NO_FAULTS.rateMalformed,
    rateTruncated: opts.rateTruncated ?? NO_FAULTS.rateTruncated,
  };
  const he: HelperErrors = {
    pDecomposeError: opts.pDecomposeError ?? NO_HELPER_ERRORS.pDecomposeError,
    pExtractError: opts.pExtractError ?? NO_HELPER_ERRORS.pExtractError,
  };
  for (const [k, v] of Object.entries({ ...em, ...faults, ...he })) {
    if (k === 'freeErrorScale') {
      if (!(v >= 0)) throw new ConfigError(`simulator option ${k} should be a number >= 0, got ${v}`);
      continue;
    }
    if (k !== 'difficultySpread' && !(v >= 0 && v <= 1))
      throw new ConfigError(`simulator option ${k} should be a probability in [0, 1], got ${v}`);
  }
  const rpm = opts.rpm ?? 0;
  if (!(Number.isInteger(rpm) && rpm >= 0))
    throw new ConfigError(`simulator option rpm should be a whole number >= 0 (0 = no limit), got ${rpm}`);
  if (faults.rate429 + faults.rate5xx + faults.rateHang > 1)
    throw new ConfigError(
      `simulator options rate429 + rate5xx + rateHang should add up to at most 1, got ${faults.rate429 + faults.rate5xx + faults.rateHang}`,
    );
  if (faults.rateMalformed + faults.rateTruncated > 1)
    throw new ConfigError(
      `simulator options rateMalformed + rateTruncated should add up to at most 1, got ${faults.rateMalformed + faults.rateTruncated}`,
    );
  return { em, faults, he, rpm };
}

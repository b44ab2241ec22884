/** @module stages/lib/equivalence/types  The verdict and options shared by every comparison. */
import type { AnswerSpec } from '../../../schemas/problems.ts';

export type Equal = true | false | 'unknown';

/** The outcome of one comparison and why, in words a reviewer can check. */
export interface Verdict {
  equal: Equal;
  reason: string;
}

/** An answer spec plus the comparison options that are not stored with problems. */
export type EquivalenceSpec = Partial<AnswerSpec> & {
  choices?: readonly string[];
  /** When gold has a unit and the prediction has none: reject (strict, default) or read it in gold's unit. */
  unitPolicy?: 'strict' | 'assume-gold-unit';
  /** Chemical equations also match when all coefficients are scaled by one factor. */
  scaledEquations?: boolean;
};

export const yes = (reason: string): Verdict => ({ equal: true, reason });
export const no = (reason: string): Verdict => ({ equal: false, reason });
export const unknown = (reason: string): Verdict => ({ equal: 'unknown', reason });

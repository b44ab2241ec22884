/** @module stages/lib/equivalence/guard  Caps and the per-comparison time limit that keep any input from hanging a run. */

/** Longest input accepted (model texts included); longer ones are "unknown". */
export const MAX_TEXT_CHARS = 400_000;
/** Longest extracted answer parsed as math; longer ones are "unknown". */
export const MAX_ANSWER_CHARS = 2_000;
/** Largest exponent magnitude evaluated; `10^{10^{10}}` stops here as "unknown". */
export const MAX_EXPONENT = 10_000;
/** Time allowed per comparison, checked between evaluation steps. */
export const TIME_LIMIT_MS = 1_000;

/** Thrown inside a comparison when its time is up; `equivalent` turns it into "unknown". */
export class TimeUp extends Error {}

/** A per-comparison deadline; `check()` throws `TimeUp` once it has passed. */
export class Deadline {
  readonly end: number;
  constructor(ms: number = TIME_LIMIT_MS) {
    this.end = performance.now() + ms;
  }
  /** Throws `TimeUp` naming the step when the deadline has passed. */
  check(step: string): void {
    if (performance.now() > this.end) throw new TimeUp(`time limit of ${TIME_LIMIT_MS} ms reached during ${step}`);
  }
}

/** Thrown when an input exceeds a cap; `equivalent` turns it into "unknown". */
export class TooBig extends Error {}

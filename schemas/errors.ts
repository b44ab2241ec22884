/** @module schemas/errors  The user-error class, kept free of imports so that light entry points (the simulator) can throw it. */

/** A user error (bad config, flag or input file): main prints each line without a stack, and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** One line per problem. */
  readonly lines: readonly string[];
  constructor(lines: string | readonly string[]) {
    const all = typeof lines === 'string' ? [lines] : lines;
    super(all.join('\n'));
    this.lines = all;
  }
}

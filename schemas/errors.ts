/** @module schemas/errors  The user-error class, kept free of imports so that light entry points (the simulator) can throw it. */

/** A user error (bad config, flag or input file): main prints its message on one line, no stack, and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * @module test/shared
 * Access to ../shared/data for tests. A user's clone has no ../shared: those tests then skip
 * with a visible message; CI sets TRACEPIPE_REQUIRE_SHARED=1 so that absence fails instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { describe } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDataDir = resolve(repoRoot, '..', 'shared', 'data');
export const hasShared = existsSync(join(sharedDataDir, 'MANIFEST.md'));

/** Absolute path of a file under ../shared/data. */
export const sharedData = (...parts: string[]) => join(sharedDataDir, ...parts);

if (!hasShared) {
  const msg = `../shared/data not found at ${sharedDataDir}: tests on public data are SKIPPED`;
  if (process.env.TRACEPIPE_REQUIRE_SHARED === '1')
    throw new Error(`${msg} (TRACEPIPE_REQUIRE_SHARED=1 makes this a failure)`);
  console.warn(`\n*** ${msg} ***\n`);
}

/** `describe` that runs only when ../shared/data is present, and says so when it is not. */
export const describeShared: typeof describe.skip = (hasShared ? describe : describe.skip) as typeof describe.skip;

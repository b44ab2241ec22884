/**
 * @module pipeline/cli/commands/report
 * `tracepipe report <run>`: the report of an existing run folder, from its state and manifest.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../../schemas/config.ts';
import { Store } from '../../io/store.ts';
import { report } from '../../../stages/report/index.ts';

/** Writes `<run>/report/index.html` and says where. */
export async function reportRun(run: string): Promise<{ file: string; charts: number }> {
  const runDir = resolve(run);
  const db = join(runDir, 'state.duckdb');
  if (!existsSync(db)) throw new ConfigError(`${runDir} is not a tracepipe run folder: it has no state.duckdb`);
  const store = await Store.open(db);
  try {
    return await report(store, runDir);
  } finally {
    store.close();
  }
}

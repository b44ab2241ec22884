/**
 * @module pipeline/cli/commands/report
 * `tracepipe report <run>`: writes the report of an existing run folder again, from its state
 * (the config comes from the run's manifest).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, parseConfig } from '../../../schemas/config.ts';
import { runPipeline } from '../../engine/run.ts';

/** Re-runs the report stage of a run folder and says where the page is. */
export async function reportRun(run: string, opts: { log: (s: string) => void }): Promise<{ file: string }> {
  const runDir = resolve(run);
  let manifest: { config?: unknown };
  try {
    manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')) as { config?: unknown };
  } catch {
    throw new ConfigError(`${runDir} is not a tracepipe run folder: it has no readable manifest.json`);
  }
  const config = parseConfig(manifest.config, `manifest of ${runDir}`, dirname(runDir));
  config.runs_dir = dirname(runDir);
  const r = await runPipeline(config, {
    only: 'report',
    force: true,
    log: opts.log,
    command: `tracepipe report ${run}`,
  });
  if (r.status !== 'done') throw new Error(`report of ${runDir}: ${r.reason ?? r.status}`);
  return { file: join(runDir, 'report', 'index.html') };
}

/**
 * @module pipeline/engine/run
 * One run: opens `runs/<name>/state.duckdb`, runs the stages (resuming), and keeps
 * `manifest.json` current after every stage: config (redacted), input hashes, code version,
 * model, per-stage counts and timings, status.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { redact, type Config } from '../../schemas/config.ts';
import { runStages, type Stage, type StageRecord } from './runner.ts';
import { Store, writeFileAtomic } from '../io/store.ts';
import { STAGES } from './descriptors.ts';

export interface RunResult {
  runDir: string;
  runId: string;
  status: 'done' | 'interrupted';
  stages: StageRecord[];
}

export const SIMULATION_NOTE =
  'SIMULATION: the model endpoint of this run was the bundled tracepipe simulator (tracepipe sim serve), not a model. Its paths and every dataset built from them are synthetic, for demos and tests.';

/** Runs (or resumes) the pipeline for a config. Only `main` handles errors and exits. */
export async function runPipeline(
  config: Config,
  opts: {
    only?: string;
    force?: boolean;
    log?: (s: string) => void;
    signal?: AbortSignal;
    stages?: readonly Stage[];
    /** The id of a new run (default `<name>-<UTC time>`), kept across resumes; a fixed one gives byte-identical outputs. */
    runId?: string;
  } = {},
): Promise<RunResult> {
  const runDir = join(config.runs_dir, config.name);
  const store = await Store.open(join(runDir, 'state.duckdb'));
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  try {
    const runId = await runIdOf(store, config.name, opts.runId);
    const started = new Date().toISOString();
    const inputs = await Promise.all(config.inputs.map(async (i) => ({ ...i, ...(await fileDigest(i.path)) })));
    const manifest = {
      tool: 'tracepipe',
      code_version: codeVersion(),
      run_id: runId,
      name: config.name,
      status: 'running' as string,
      simulated: config.model?.simulated ?? false,
      ...(config.model?.simulated ? { simulation: SIMULATION_NOTE } : {}),
      model: config.model ? { base_url: config.model.base_url, model: config.model.model } : null,
      config: redact(config),
      inputs,
      started_at: started,
      finished_at: null as string | null,
      stages: [] as StageRecord[],
    };
    const write = () => writeFileAtomic(join(runDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await write();
    const signal = opts.signal ?? new AbortController().signal;
    try {
      manifest.stages = await runStages(
        opts.stages ?? STAGES,
        { store, config, runId, runDir, log, signal },
        {
          ...(opts.only ? { only: opts.only } : {}),
          force: opts.force ?? false,
          onStage: async (r) => {
            manifest.stages = [...manifest.stages.filter((s) => s.name !== r.name), r];
            await write();
          },
        },
      );
      manifest.status = signal.aborted ? 'interrupted' : 'done';
    } catch (e) {
      manifest.status = 'failed';
      throw e;
    } finally {
      manifest.finished_at = new Date().toISOString();
      await write();
    }
    return { runDir, runId, status: manifest.status === 'done' ? 'done' : 'interrupted', stages: manifest.stages };
  } finally {
    store.close();
  }
}

/** The run id is made once per run folder and kept across resumes. */
async function runIdOf(store: Store, name: string, fixed?: string): Promise<string> {
  await store.run('CREATE TABLE IF NOT EXISTS run_meta (key VARCHAR PRIMARY KEY, value VARCHAR)');
  const got = await store.query<{ value: string }>("SELECT value FROM run_meta WHERE key = 'run_id'");
  if (got[0]) return got[0].value;
  const id = fixed ?? `${name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  await store.run(`INSERT INTO run_meta VALUES ('run_id', '${id.replaceAll("'", "''")}')`);
  return id;
}

/** sha256 and size of an input file, streamed (memory stays flat for large inputs). */
export async function fileDigest(file: string): Promise<{ sha256: string | null; bytes: number | null }> {
  try {
    const { size } = await stat(file);
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    return { sha256: h.digest('hex'), bytes: size };
  } catch {
    return { sha256: null, bytes: null };
  }
}

let version: string | undefined;
/** `git describe` of the code when it is a checkout, else the package version. */
export function codeVersion(): string {
  if (version) return version;
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  try {
    version = execFileSync('git', ['-C', root, 'describe', '--always', '--dirty'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    version = 'unknown';
  }
  return version;
}

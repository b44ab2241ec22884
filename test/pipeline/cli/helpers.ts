/**
 * @module test/pipeline/cli/helpers
 * Running tracepipe as users do: the built CLI in child processes, the simulator as its own
 * process talked to over HTTP, and the published Parquet read back with DuckDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { sqlString, Store } from '../../../pipeline/io/store.ts';
import { STATE_TABLES } from '../../../schemas/state.ts';

export const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');

export function requireBuilt(): void {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
}

export interface Sim {
  url: string;
  child: ChildProcess;
  /** The simulator's own counts (GET /v1/sim/stats). */
  stats(): Promise<{ requests: number; outcomes: Record<string, number>; prompts: Record<string, number> }>;
  stop(): Promise<string>;
}

/** Starts `tracepipe sim serve` in its own process. */
export async function serveSim(args: readonly string[]): Promise<Sim> {
  const child = spawn(process.execPath, [cli, 'sim', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`sim serve exited with ${code} before it listened: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1$/.exec(line);
      if (m) ok(m[1]!);
    });
  });
  return {
    url,
    child,
    stats: async () => (await (await fetch(`${url}/v1/sim/stats`)).json()) as Awaited<ReturnType<Sim['stats']>>,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exit = once(child, 'exit');
        child.kill('SIGTERM');
        await exit;
      }
      return stderr;
    },
  };
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tracepipe <args>` to its end (never throws on a non-zero exit). */
export function tracepipe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Ran> & { child: ChildProcess } {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Ran>((ok) => child.once('exit', (code, signal) => ok({ code, signal, stdout, stderr })));
  return Object.assign(done, { child });
}

/** The JSON summary line a run prints last off a terminal. */
export interface RunLine {
  status: string;
  exit_code: number;
  reason: string | null;
  simulated: boolean;
  read: { rows: number; problems: number; changed_shards: number } | null;
  stages: Record<
    string,
    { status: string; shards_ran: number; problems_computed: number; problems: number; rejects: Record<string, number> }
  >;
  snapshot: {
    id: string;
    parent: string | null;
    datasets: Record<string, { rows: number; added: number; removed: number }>;
  } | null;
}

export const summaryOf = (r: Ran): RunLine => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as RunLine;

/** Rows of a published dataset (`latest` or a snapshot folder), sorted, as JSON strings of the chosen columns. */
export async function publishedRows(dir: string, dataset: string, columns: readonly string[]): Promise<string[]> {
  const s = await Store.open(':memory:');
  try {
    const cols = columns.map((c) => `"${c}"`).join(', ');
    const rows = await s.query(`SELECT ${cols} FROM read_parquet(${sqlString(join(dir, dataset, '*.parquet'))})`);
    return rows.map((r) => JSON.stringify(r)).sort();
  } finally {
    s.close();
  }
}

/** The datasets every run publishes. */
export const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'] as const;

/** Every published row of every dataset in `<runDir>/latest`, sorted, without run_id (it names the run that computed a row). */
export async function allPublishedRows(runDir: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const d of DATASETS) {
    const cols = STATE_TABLES[d].columns.filter((c) => c !== 'run_id' && c !== 'images');
    out[d] = await publishedRows(join(runDir, 'latest'), d, cols);
  }
  return out;
}

/** Writes `<dir>/<name>.json`: a run of `input` against the simulator at `simUrl`, runs kept under `<dir>/runs`. */
export async function simRunConfig(
  dir: string,
  name: string,
  input: string,
  simUrl: string,
  over: Record<string, unknown>,
): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      runs_dir: join(dir, 'runs'),
      inputs: [{ path: input }],
      model: { base_url: `${simUrl}/v1`, model: 'sim' },
      ...over,
    }),
  );
  return file;
}

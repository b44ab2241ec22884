/**
 * @module bench/cli
 * Benchmarks run tracepipe as users do: the built CLI in a child process (wall time and peak RSS
 * from `/usr/bin/time`), the simulator in its own process, counted at its stats endpoint.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = resolve(fileURLToPath(new URL('.', import.meta.url)));
/** The repository (bench/ is one level down in the sources, two in dist/). */
export const repo = existsSync(join(here, '..', 'package.json')) ? resolve(here, '..') : resolve(here, '..', '..');
export const cli = join(repo, 'dist', 'pipeline', 'cli', 'main.js');

export interface SimProcess {
  url: string;
  requests(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `tracepipe sim serve <args>` and resolves once it listens. */
export async function simProcess(args: readonly string[]): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'sim', 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`simulator exited with ${code}: ${err.slice(-500)}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1$/.exec(l);
      if (m) ok(m[1]!);
    });
  });
  return {
    url,
    requests: async () => ((await (await fetch(`${url}/v1/sim/stats`)).json()) as { requests: number }).requests,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      await exit;
    },
  };
}

export interface CliRun {
  wall_s: number;
  peak_rss_mb: number;
  summary: {
    status: string;
    stages: Record<string, { seconds: number; shards_ran: number; problems_computed: number }>;
  };
  manifest: { stages: { name: string; seconds: number; stats: Record<string, unknown> }[] };
}

/** `tracepipe run --config <config>` to its end; throws with the log's tail when it does not end `done`. */
export async function runCli(config: string, runDir: string): Promise<CliRun> {
  const t0 = performance.now();
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((ok, fail) =>
    execFile(
      '/usr/bin/time',
      ['-f', 'MAXRSS %M', process.execPath, cli, 'run', '--config', config],
      { maxBuffer: 256 << 20, env: { ...process.env, TRACEPIPE_LOG: 'json' } },
      (e, out, errText) =>
        e ? fail(new Error(`run failed: ${e.message}\n${errText.slice(-2000)}`)) : ok({ stdout: out, stderr: errText }),
    ),
  );
  const wall_s = (performance.now() - t0) / 1000;
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as CliRun['summary'];
  if (summary.status !== 'done') throw new Error(`run ended ${summary.status}: ${stderr.slice(-1000)}`);
  const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')) as CliRun['manifest'];
  return { wall_s, peak_rss_mb: Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? 0) / 1024, summary, manifest };
}

/** Writes a run config file and returns its path. */
export async function writeConfig(file: string, config: Record<string, unknown>): Promise<string> {
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

export const round = (x: number, d = 3) => Number(x.toFixed(d));

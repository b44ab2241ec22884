/**
 * The command line loads each command's code when that command runs: `--version` and `--help`
 * load no stage, no engine, no model client, no DuckDB and no chart library.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, requireBuilt } from './helpers.ts';

// A loader hook that records every module the process resolves (ESM has no module list to read).
const REGISTER = `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on('message', (url) => seen.push(url));
port1.unref();
register('./hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
process.on('exit', () => writeFileSync(process.env.IMPORT_LOG, seen.join('\\n')));
`;
const HOOKS = `let port;
export function initialize(d) { port = d.port; }
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  port.postMessage(r.url);
  return r;
}
`;

let dir = '';
beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tracepipe-startup-'));
  await writeFile(join(dir, 'register.mjs'), REGISTER);
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the built CLI with the hook; returns its output and the modules it loaded. */
async function loaded(args: string[]): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const log = join(dir, `imports-${args.join('_').replace(/\W/g, '')}.txt`);
  const child = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IMPORT_LOG: log },
  });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  return { code, stdout, modules: (await readFile(log, 'utf8')).split('\n') };
}

const HEAVY = [
  '/node_modules/openai/',
  '/node_modules/@duckdb/',
  '/node_modules/@cortex-js/',
  '/node_modules/mathjs/',
  '/node_modules/vega/',
  '/node_modules/vega-lite/',
  '/node_modules/bullmq/',
  '/dist/pipeline/engine/run.js',
  '/dist/stages/index.js',
  '/dist/sim/server.js',
];

describe('startup', () => {
  it.each([['--version'], ['--help'], ['run', '--help'], ['sim', 'serve', '--help']])(
    'tracepipe %s loads no stage, engine, model client, DuckDB or chart library',
    async (...args) => {
      const r = await loaded(args);
      expect(r.code).toBe(0);
      expect(r.modules.some((m) => m.includes('/node_modules/yargs/'))).toBe(true);
      expect(r.modules.filter((m) => HEAVY.some((h) => m.includes(h)))).toEqual([]);
    },
  );

  it('a dry run loads no model client, DuckDB or chart library (it calls no model, publishes nothing, draws nothing)', async () => {
    const problems = join(dir, 'problems.jsonl');
    expect((await loaded(['synth', '--out', problems, '--n', '5'])).code).toBe(0);
    const config = join(dir, 'dry.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'dry',
        runs_dir: join(dir, 'runs'),
        inputs: [{ path: problems }],
        model: { base_url: 'http://127.0.0.1:9/v1', model: 'sim' },
        generate: { k: 2 },
      }),
    );
    const r = await loaded(['run', '--config', config, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"status":"planned"');
    expect(r.modules.some((m) => m.includes('/dist/pipeline/engine/run.js'))).toBe(true);
    const lazy = ['/node_modules/openai/', '/node_modules/@duckdb/', '/node_modules/vega', '/node_modules/bullmq/'];
    expect(r.modules.filter((m) => lazy.some((h) => m.includes(h)))).toEqual([]);
  });

  it('--help still lists every command with its description', async () => {
    const r = await loaded(['--help']);
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const c of [
      'run',
      'ingest',
      'decompose',
      'generate',
      'align',
      'score',
      'calibrate',
      'filter',
      'rectify',
      'emit',
    ])
      expect(r.stdout).toMatch(new RegExp(`tracepipe ${c}\\s`));
    for (const c of ['worker', 'report [run]', 'snapshots <run>', 'synth', 'sim', 'demo', 'eval', 'bench'])
      expect(r.stdout).toContain(`tracepipe ${c}`);
    expect(flat).toContain(
      'read and validate problems, build each ARS (reads raw; writes problems, given_ars, imported_paths)',
    );
    expect(flat).toContain('(merges scores of every shard)');
  });
});

/**
 * End to end through the built CLI: synth, the simulator over real HTTP, the real openai
 * client, DuckDB, Parquet read back by DuckDB and by pyarrow + datasets in a virtualenv. The
 * CLI runs as cron would (no terminal): JSON log lines, one JSON summary line on stdout.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { Store } from '../../../pipeline/io/store.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const python = process.env.TRACEPIPE_PYTHON;
const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'];

if (!python) {
  const msg =
    'TRACEPIPE_PYTHON is not set (make test sets it to the build/venv python): the pyarrow/datasets read-back is SKIPPED';
  if (process.env.TRACEPIPE_REQUIRE_PYTHON === '1') throw new Error(msg);
  console.warn(`\n*** ${msg} ***\n`);
}

describe('tracepipe demo (simulated model) end to end', () => {
  let runsDir: string;
  let runDir: string;
  let stdout: string;
  let stderr: string;
  let summary: {
    status: string;
    exit_code: number;
    simulated: boolean;
    stages: Record<string, { status: string }>;
    snapshot: { id: string; datasets: Record<string, { rows: number; added: number; removed: number }> } | null;
  };
  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
    runsDir = await mkdtemp(join(tmpdir(), 'tp-e2e-'));
    runDir = join(runsDir, 'e2e');
    ({ stdout, stderr } = await run(
      process.execPath,
      [cli, 'demo', '--n', '60', '--k', '4', '--name', 'e2e', '--runs-dir', runsDir],
      { env: { ...process.env, TRACEPIPE_SIM_KEY: 'sk-tracepipe-SECRET-e2e-canary' }, maxBuffer: 64 << 20 },
    ));
    summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
  }, 240_000);

  it('ends with one JSON line that sums up the run, and writes all five outputs with rows into the snapshot', async () => {
    expect(summary).toMatchObject({ status: 'done', exit_code: 0, simulated: true });
    expect(summary.snapshot!.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    for (const d of DATASETS) {
      expect(summary.snapshot!.datasets[d]!.rows, `${d} rows`).toBeGreaterThan(0);
      const stats = JSON.parse(await readFile(join(runDir, 'latest', d, 'stats.json'), 'utf8')) as { rows: number };
      expect(stats.rows).toBe(summary.snapshot!.datasets[d]!.rows);
      expect(await readFile(join(runDir, 'latest', d, 'README.md'), 'utf8')).toMatch(/^---\nconfigs:/);
    }
    // off a terminal every log line is JSON
    for (const line of stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{')))
      expect(() => JSON.parse(line)).not.toThrow();
    expect(stderr).toMatch(/"msg":"read: 60 rows/);
  });

  it('says in the manifest that the model was a simulation, and records every stage', async () => {
    const m = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(m.simulated).toBe(true);
    expect(m.simulation).toMatch(/^SIMULATION/);
    expect(m.status).toBe('done');
    expect(m.stages.map((s: { name: string }) => s.name)).toEqual([
      'ingest',
      'decompose',
      'generate',
      'align',
      'score',
      'calibrate',
      'filter',
      'rectify',
      'emit',
      'report',
    ]);
    expect(m.inputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes Parquet that DuckDB describes with TRL column types', async () => {
    const s = await Store.open(':memory:');
    const type = async (d: string, col: string) =>
      (
        await s.query<{ column_name: string; column_type: string }>(
          `DESCRIBE SELECT * FROM '${runDir}/latest/${d}/*.parquet'`,
        )
      ).find((c) => c.column_name === col)?.column_type;
    const msg = 'STRUCT("role" VARCHAR, "content" VARCHAR)[]';
    expect(await type('sft', 'messages')).toBe(msg);
    for (const c of ['prompt', 'chosen', 'rejected']) expect(await type('preference', c)).toBe(msg);
    expect(await type('stepwise', 'labels')).toBe('BOOLEAN[]');
    expect(await type('process_eval', 'label')).toBe('INTEGER');
    s.close();
  });

  it.skipIf(!python)(
    'loads every output unchanged in pyarrow and datasets',
    async () => {
      const { stdout: out } = await run(python!, [join(repoRoot, 'test', 'compat', 'check_outputs.py'), runDir], {
        env: { ...process.env, HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1' },
      });
      const r = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(r.errors).toEqual([]);
      expect(r.datasets.sft.features.messages).toMatch(/role/);
      for (const d of DATASETS) expect(r.datasets[d].rows).toBeGreaterThan(0);
    },
    120_000,
  );

  it('resumes: a second run of the same config skips every stage and publishes nothing new, wherever the server now is', async () => {
    // The server's address is not part of any fingerprint: the same model elsewhere gives the same cached paths.
    const { stdout: again } = await run(process.execPath, [
      cli,
      'run',
      '--config',
      join(runDir, 'config.json'),
      '--base-url',
      'http://127.0.0.1:9/v1',
    ]);
    const s2 = JSON.parse(again.trim().split('\n').at(-1)!) as typeof summary;
    expect(Object.values(s2.stages).map((s) => s.status)).toEqual(Array(10).fill('skipped'));
    expect(s2).toMatchObject({ status: 'done', exit_code: 0, snapshot: null });
  });

  it('writes the report in the run, and again on `tracepipe report <run>`', async () => {
    expect(await readFile(join(runDir, 'report', 'index.html'), 'utf8')).toMatch(/SIMULATION/);
    expect(await readFile(join(runDir, 'latest', 'report', 'index.html'), 'utf8')).toMatch(/SIMULATION/);
    const { stdout: out } = await run(process.execPath, [cli, 'report', runDir]);
    expect(out).toBe(`report: ${join(runDir, 'report', 'index.html')}\n`);
  });

  it.each([
    [
      ['report', '/nonexistent/run'],
      'tracepipe: /nonexistent/run is not a tracepipe run folder: it has no readable manifest.json',
    ],
    [
      ['run', '--config', '/nonexistent/c.json'],
      'tracepipe: config /nonexistent/c.json could not be read as JSON: ENOENT',
    ],
    [['frobnicate'], 'tracepipe: Unknown argument: frobnicate'],
  ])('exits 2 with a usage error for %j', async (args, message) => {
    const e = await run(process.execPath, [cli, ...args]).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(e?.code).toBe(2);
    expect(e?.stderr.startsWith(message), e?.stderr).toBe(true);
  });

  it('leaks no API key into any file of the run or any line it printed', async () => {
    expect(stdout.includes('sk-tracepipe-SECRET-e2e-canary')).toBe(false);
    expect(stderr.includes('sk-tracepipe-SECRET-e2e-canary')).toBe(false);
    expect(stderr).toMatch(/"progress":"generate"/);
    const files = (await readdir(runDir, { recursive: true })).map((f) => join(runDir, String(f)));
    for (const f of files) {
      if (!f.match(/\.(json|md|jsonl|parquet|duckdb|html)$/)) continue;
      expect((await readFile(f)).includes('sk-tracepipe-SECRET-e2e-canary'), f).toBe(false);
    }
  });
});

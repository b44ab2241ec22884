/**
 * The rectify stage inside whole runs against the simulator over HTTP: turning rectification on
 * re-runs only rectify and emit (the records of ingest..filter stay byte for byte what they were,
 * and the only requests are continuations), and the step pairs then take rectified chosen steps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../schemas/config.ts';
import { runPipeline } from '../../../pipeline/engine/run.ts';
import { RunState } from '../../../pipeline/io/state.ts';
import type { RectifiedRow } from '../../../schemas/state.ts';
import { startSimulator, type Simulator } from '../../../sim/server.ts';
import { writeSynth } from '../../../sim/synth.ts';
import { publishedRows } from '../../pipeline/cli/helpers.ts';

const UPSTREAM = ['read', 'ingest', 'decompose', 'generate', 'align', 'score', 'calibrate', 'filter'];

/** Every record file of the stages before rectify, by path, as text. */
async function records(stateDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const st of UPSTREAM) {
    const dir = join(stateDir, 'records', st);
    for (const f of await readdir(dir).catch(() => [] as string[]))
      out[`${st}/${f}`] = await readFile(join(dir, f), 'utf8');
  }
  return out;
}

describe('rectify stage in a run', () => {
  let sim: Simulator;
  let dir: string;
  const raw = (rectify: boolean) => ({
    name: 'rect',
    runs_dir: join(dir, 'runs'),
    inputs: [{ path: join(dir, 'problems.jsonl'), format: 'jsonl' }],
    model: { base_url: `${sim.url}/v1`, model: 'tracepipe-simulator', api_key_env: 'TP_TEST_SIM_KEY', simulated: true },
    generate: { k: 3, seed: 1, concurrency: 8 },
    engine: { shards: 4, workers: 1 },
    ...(rectify ? { rectify: { r: 4 } } : {}),
  });
  beforeAll(async () => {
    sim = await startSimulator({ seed: 1, n: 24 });
    dir = await mkdtemp(join(tmpdir(), 'tp-rectify-stage-'));
    await writeSynth(join(dir, 'problems.jsonl'), { n: 24, seed: 1 });
  });
  afterAll(() => sim.close());

  it('re-runs nothing upstream when turned on, asks only continuations, and emits rectified pairs', async () => {
    const off = await runPipeline(parseConfig(raw(false), 'test', dir), { log: () => {} });
    expect(off.status).toBe('done');
    expect(off.stages.find((s) => s.name === 'rectify')!.rows).toEqual({ rectified: 0, rectify_stats: 0 });
    const stateDir = join(off.runDir, 'state');
    const before = await records(stateDir);
    expect(Object.keys(before).length).toBeGreaterThan(20);
    const asked = sim.stats().prompts;

    const on = await runPipeline(parseConfig(raw(true), 'test', dir), { log: () => {} });
    expect(on.status).toBe('done');
    expect(await records(stateDir)).toEqual(before);
    expect(on.stages.filter((s) => s.problems.computed > 0).map((s) => s.name)).toEqual(['rectify', 'emit']);
    const now = sim.stats().prompts;
    expect({ ...now, continue: 0 }).toEqual({ ...asked, continue: 0 });
    const totals = on.stages.find((s) => s.name === 'rectify')!.totals as Record<string, number>;
    expect(now.continue - asked.continue).toBe(totals.ffs_paths);
    expect(totals.rectified_paths).toBeGreaterThan(0);
    expect(totals.prefix_shared_tokens).toBeGreaterThan(0);
    expect(totals.prefix_shared_tokens).toBeLessThan(totals.prompt_tokens!);

    const rows = await new RunState(stateDir).allRows<RectifiedRow>('rectify', 'rectified');
    expect(rows.length).toBe(totals.rectified_steps);
    const pairs = (
      await publishedRows(join(on.runDir, 'latest'), 'step_preference', ['chosen_source', 'chosen_path_id'])
    ).map((r) => JSON.parse(r) as { chosen_source: string; chosen_path_id: string });
    const rectified = pairs.filter((p) => p.chosen_source === 'rectified');
    expect(rectified.length).toBeGreaterThan(0);
    const ids = new Set(rows.map((r) => r.rect_path_id));
    for (const p of rectified) expect(ids.has(p.chosen_path_id), p.chosen_path_id).toBe(true);
    expect(pairs.every((p) => p.chosen_source === 'rectified' || p.chosen_source === 'peer')).toBe(true);
  }, 120_000);
});

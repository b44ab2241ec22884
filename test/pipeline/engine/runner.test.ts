import { describe, it, expect } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStages, type Stage } from '../../../pipeline/engine/runner.ts';
import { Store } from '../../../pipeline/io/store.ts';
import { parseConfig } from '../../../schemas/config.ts';

const config = (over: object = {}) =>
  parseConfig({ name: 't', inputs: [{ path: 'x.jsonl' }], ...over }, 'test config', '/tmp');

/** Stages that record their calls; `b` depends on the thresholds. */
function fakeStages(calls: string[], failAt?: string): Stage[] {
  return ['a', 'b', 'c'].map((name) => ({
    name,
    describe: name,
    inputs: [],
    outputs: [],
    configSlice: (c) => (name === 'b' ? c.thresholds : null),
    async run() {
      calls.push(name);
      if (name === failAt) throw new Error(`${name} broke`);
      return { n: 1 };
    },
  }));
}

async function ctx() {
  const dir = await mkdtemp(join(tmpdir(), 'tp-runner-'));
  const store = await Store.open(join(dir, 'state.duckdb'));
  const logs: string[] = [];
  return {
    store,
    logs,
    c: {
      store,
      config: config(),
      runId: 'r',
      runDir: dir,
      log: (s: string) => logs.push(s),
      signal: new AbortController().signal,
    },
  };
}

describe('runStages', () => {
  it('runs every stage, then skips all of them on a second run', async () => {
    const { store, c } = await ctx();
    const calls: string[] = [];
    expect((await runStages(fakeStages(calls), c)).map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect((await runStages(fakeStages(calls), c)).map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(calls).toEqual(['a', 'b', 'c']);
    store.close();
  });

  it('re-runs a stage whose config slice changed, and everything after it', async () => {
    const { store, c } = await ctx();
    const calls: string[] = [];
    await runStages(fakeStages(calls), c);
    calls.length = 0;
    const changed = { ...c, config: config({ thresholds: { tau_pc: 0.9 } }) };
    expect((await runStages(fakeStages(calls), changed)).map((r) => r.status)).toEqual(['skipped', 'done', 'done']);
    expect(calls).toEqual(['b', 'c']);
    store.close();
  });

  it('resumes from the stage that failed', async () => {
    const { store, c } = await ctx();
    const calls: string[] = [];
    await expect(runStages(fakeStages(calls, 'b'), c)).rejects.toThrow('b broke');
    calls.length = 0;
    expect((await runStages(fakeStages(calls), c)).map((r) => r.status)).toEqual(['skipped', 'done', 'done']);
    expect(calls).toEqual(['b', 'c']);
    store.close();
  });

  it('runs one stage only when its upstream has finished', async () => {
    const { store, c } = await ctx();
    const calls: string[] = [];
    await expect(runStages(fakeStages(calls), c, { only: 'c' })).rejects.toThrow(
      'stage c needs a to have finished with the current config; run it first (or use `tracepipe run`)',
    );
    await runStages(fakeStages(calls), c);
    calls.length = 0;
    await runStages(fakeStages(calls), c, { only: 'b' });
    expect(calls).toEqual(['b']);
    await expect(runStages(fakeStages(calls), c, { only: 'z' })).rejects.toThrow(
      'no stage named z; stages are a, b, c',
    );
    store.close();
  });
});

describe('config', () => {
  it.each([
    [{ name: 't', inputs: [], generate: { k: '8' } }, 'test config: generate.k should be an integer, got "8"'],
    [{ inputs: [] }, 'test config: name is required (a non-empty string), got nothing'],
    [
      { name: 't', inputs: [{ path: 'a', format: 'csv' }] },
      'test config: inputs.0.format should be one of auto, jsonl, parquet, gsm8k-socratic, gsm8k-solutions, processbench, got "csv"',
    ],
  ])('names the bad field: %j', (raw, message) => {
    expect(() => parseConfig(raw, 'test config', '/tmp')).toThrow(message);
  });

  it('fills defaults and resolves input paths against the config folder', () => {
    const c = parseConfig({ name: 't', inputs: [{ path: 'p.jsonl' }], generate: {} }, 'c', '/data');
    expect(c.inputs).toEqual([{ path: '/data/p.jsonl', format: 'auto', calibration: false }]);
    expect(c.generate).toMatchObject({ k: 8, modes: ['ars-guided', 'free'], temperature: 0.7, max_budget: null });
    expect(c.thresholds).toEqual({ tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 });
  });
});

/**
 * The engine on literal stages: each job recomputes exactly the problems whose fingerprint
 * changed, keeps the others' rows, drops removed problems, and a run stage reuses its result
 * when its merged inputs did not change.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../../schemas/config.ts';
import type { RawItem } from '../../../schemas/state.ts';
import type { InputSource, ProblemStage, RunStage, StageDef } from '../../../stages/lib/stage.ts';
import { RunState } from '../../../pipeline/io/state.ts';
import { LocalExecutor, runEngine, type PortFactory } from '../../../pipeline/engine/runner.ts';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import { shardOf } from '../../../pipeline/engine/shards.ts';

type Row = { problem_id: string; value: string };

/** A source over literal rows: `[problem_id, value]`. */
const sourceOf = (rows: () => [string, string][]): InputSource => ({
  async *items() {
    for (const [i, [id, value]] of rows().entries())
      yield {
        problem_id: id,
        kind: 'problem',
        input: 0,
        source: 'lit',
        item: `line ${i + 1}`,
        value,
        calibration: false,
        defaults: false,
      } satisfies RawItem;
  },
});

/** Stage one: copies each raw value into `problems` (and says which problems it was given). */
function first(seen: string[][]): ProblemStage {
  return {
    kind: 'problem',
    name: 'one',
    describe: 'copy',
    version: 1,
    reads: ['raw'],
    writes: ['problems'],
    cpu: true,
    config: (c) => c.emit.sft_per_problem,
    async run(bundles) {
      seen.push(bundles.map((b) => b.rows.raw![0] as RawItem).map((r) => r.problem_id));
      const rows = bundles.map((b) => ({
        problem_id: (b.rows.raw![0] as RawItem).problem_id,
        value: (b.rows.raw![0] as RawItem).value,
      }));
      // The output fingerprint ignores the line a row was on: only its value counts downstream.
      return {
        rows: { problems: rows },
        rejects: [],
        stats: { n: rows.length },
        fingerprints: Object.fromEntries(rows.map((r) => [r.problem_id, r.value])),
      };
    },
  };
}

/** Stage two: upper-cases the value; summarises its rows as a count. */
function second(seen: string[][]): ProblemStage {
  return {
    kind: 'problem',
    name: 'two',
    describe: 'upper',
    version: 1,
    reads: ['problems'],
    writes: ['scores'],
    cpu: true,
    config: () => null,
    async run(bundles) {
      seen.push(bundles.map((b) => b.problem.problem_id));
      return {
        rows: {
          scores: bundles.map((b) => ({
            problem_id: b.problem.problem_id,
            value: (b.problem as unknown as Row).value.toUpperCase(),
          })),
        },
        rejects: [],
        stats: {},
      };
    },
    summarize: { scores: (rows) => ({ n: rows.length, values: (rows as Row[]).map((r) => r.value) }) },
  };
}

function total(runs: number[]): RunStage {
  return {
    kind: 'run',
    name: 'total',
    describe: 'count',
    version: 1,
    needs: ['scores'],
    config: () => null,
    async run({ summaries }) {
      runs.push(1);
      return { result: summaries.scores, files: { 'total.json': JSON.stringify(summaries.scores) }, stats: {} };
    },
  };
}

const noPorts: PortFactory = {
  open: async () => ({
    ports: {
      model: () => {
        throw new Error('no model');
      },
      images: async () => ({ ok: true, parts: [] }),
      files: nodeFiles(),
      log: () => {},
    },
    close: async () => {},
  }),
  finishProgress: () => {},
};

async function setup(shards = 4) {
  const dir = await mkdtemp(join(tmpdir(), 'tp-engine-'));
  const config: Config = parseConfig(
    { name: 'e', inputs: [{ path: join(dir, 'x.jsonl') }], engine: { shards } },
    'test',
    dir,
  );
  const seenOne: string[][] = [];
  const seenTwo: string[][] = [];
  const runs: number[] = [];
  let rows: [string, string][] = [];
  const stages: StageDef[] = [first(seenOne), second(seenTwo), total(runs)];
  const state = new RunState(join(dir, 'state'));
  const run = (over: Partial<Config> = {}, force = false) =>
    runEngine({
      config: { ...config, ...over },
      runId: 'r',
      state,
      stages,
      source: sourceOf(() => rows),
      files: nodeFiles(),
      executor: new LocalExecutor({ stages, state, ports: noPorts, pool: null, log: () => {} }),
      log: () => {},
      signal: new AbortController().signal,
      force,
    });
  const live = async () => {
    const out: Row[] = [];
    for (const rec of (await state.records('two')).values())
      out.push(...(await state.readRows<Row>('scores', rec.shard, rec.tables.scores ?? [])));
    return out.map((r) => `${r.problem_id}=${r.value}`).sort();
  };
  return { config, set: (r: [string, string][]) => (rows = r), run, live, seenOne, seenTwo, runs, state };
}

describe('engine', () => {
  it('computes every problem once, then nothing on an unchanged re-run', async () => {
    const t = await setup();
    t.set([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ]);
    const r1 = await t.run();
    expect(t.seenTwo.flat().sort()).toEqual(['a', 'b', 'c']);
    expect(await t.live()).toEqual(['a=X', 'b=Y', 'c=Z']);
    expect(r1.globals.total).toMatchObject({ n: 3 });
    t.seenOne.length = t.seenTwo.length = 0;
    const r2 = await t.run();
    expect([t.seenOne, t.seenTwo]).toEqual([[], []]);
    expect(r2.stages.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(t.runs).toHaveLength(1);
  });

  it('recomputes only a changed problem, in its shard alone, and the run stage sees the new summary', async () => {
    const t = await setup(8);
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
    t.set(ids.map((id) => [id, id]));
    await t.run();
    t.seenTwo.length = 0;
    t.set(ids.map((id) => [id, id === 'p7' ? 'changed' : id]));
    const r = await t.run();
    expect(t.seenTwo).toEqual([['p7']]);
    expect(r.stages.find((s) => s.name === 'two')!.shards.ran).toBe(1);
    expect(r.read.changed).toEqual([shardOf('p7', 8)]);
    expect(await t.live()).toContain('p7=CHANGED');
    expect((r.globals.total as { values: string[] }).values).toContain('CHANGED');
    expect(t.runs).toHaveLength(2);
  });

  it('drops the rows of a removed problem and keeps the rest', async () => {
    const t = await setup();
    t.set([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ]);
    await t.run();
    t.seenTwo.length = 0;
    t.set([
      ['a', 'x'],
      ['c', 'z'],
    ]);
    const r = await t.run();
    expect(t.seenTwo.flat()).toEqual([]);
    expect(await t.live()).toEqual(['a=X', 'c=Z']);
    expect(r.stages.find((s) => s.name === 'two')!.problems.removed).toBe(1);
    expect(r.globals.total).toMatchObject({ n: 2 });
  });

  it('a row that only moved to another line re-runs the first stage, not the ones after it', async () => {
    const t = await setup(1);
    t.set([
      ['a', 'x'],
      ['b', 'y'],
    ]);
    await t.run();
    t.seenOne.length = t.seenTwo.length = 0;
    t.set([
      ['b', 'y'],
      ['a', 'x'],
    ]);
    await t.run();
    expect(t.seenOne.flat().sort()).toEqual(['a', 'b']);
    expect(t.seenTwo).toEqual([]);
  });

  it('a setting in a stage config re-runs that stage and those after it; force re-runs all', async () => {
    const t = await setup();
    t.set([
      ['a', 'x'],
      ['b', 'y'],
    ]);
    await t.run();
    t.seenOne.length = t.seenTwo.length = 0;
    await t.run({ emit: { ...t.config.emit, sft_per_problem: 5 } });
    expect(t.seenOne.flat().sort()).toEqual(['a', 'b']);
    // the first stage's output fingerprints did not change, so the second stage has nothing to do
    expect(t.seenTwo).toEqual([]);
    t.seenOne.length = 0;
    await t.run({ emit: { ...t.config.emit, sft_per_problem: 5 } }, true);
    expect(t.seenTwo.flat().sort()).toEqual(['a', 'b']);
  });

  it('keeps a shard to a few segments however many times it is updated', async () => {
    const t = await setup(1);
    for (let i = 0; i < 12; i++) {
      t.set(Array.from({ length: i + 2 }, (_, j) => [`p${j}`, `v${j}`]));
      await t.run();
    }
    const rec = [...(await t.state.records('two')).values()][0]!;
    expect(rec.tables.scores!.length).toBeLessThanOrEqual(6);
    expect((await t.live()).length).toBe(13);
  });
});

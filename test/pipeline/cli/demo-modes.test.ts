/**
 * `tracepipe demo` runs every mode, through the built CLI as users run it (the simulator in its own
 * process over HTTP): a third of the problems come without an ARS and the simulated teacher
 * decomposes them, half of the free paths go to the simulated extractor, paths are drawn
 * adaptively, failing paths are rectified; the counts come from the stages' totals, and the
 * outputs carry k_drawn and chosen_source.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedRows, requireBuilt, summaryOf, tracepipe, type Ran } from './helpers.ts';

const N = 36;
const K = 6;
const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'];
type Totals = Record<string, Record<string, unknown>>;

describe('tracepipe demo runs every mode', () => {
  let ran: Ran;
  let runDir: string;
  let totals: Totals;
  beforeAll(async () => {
    requireBuilt();
    const runs = await mkdtemp(join(tmpdir(), 'tp-demo-modes-'));
    runDir = join(runs, 'modes');
    ran = await tracepipe(['demo', '--n', String(N), '--k', String(K), '--name', 'modes', '--runs-dir', runs], {
      TRACEPIPE_SIM_KEY: 'sk-demo-modes',
    });
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')) as {
      simulated: boolean;
      stages: { name: string; totals: Record<string, unknown> }[];
    };
    expect(manifest.simulated).toBe(true);
    totals = Object.fromEntries(manifest.stages.map((s) => [s.name, s.totals]));
  }, 240_000);

  it('finishes, labelled a simulation', () => {
    expect(ran.code, ran.stderr.slice(-2000)).toBe(0);
    expect(summaryOf(ran)).toMatchObject({ status: 'done', simulated: true });
    // Stopping its own simulator is no interruption: no signal line reads as an error (issue 10).
    expect(ran.stderr + ran.stdout).not.toMatch(/SIGTERM|SIGINT|finishing requests in flight/);
  });

  it('decomposes the third of the problems that came without an ARS, through the teacher', () => {
    // Indices 6-8, 15-17, 24-26, 33-35 of the 36 (a third of each domain) come without one.
    expect(ran.stderr).toContain(`"msg":"synth: ${N} problems (math, physics, chemistry)`);
    expect(ran.stderr).toContain('; 12 come without an ARS');
    expect(totals.decompose!.decomposed).toBe(12);
  });

  it('aligns part of the free paths with the extractor and the rest numerically', () => {
    const by = totals.align!.by_aligner as Record<string, number>;
    expect(by.extractor).toBeGreaterThan(0);
    expect(by.numeric).toBeGreaterThan(0);
    expect(by.given).toBeGreaterThan(0);
  });

  it('draws adaptively: fewer samples than fixed K, the saved ones counted', () => {
    const a = totals.generate!.adaptive as Record<string, number>;
    expect(a.samples_fixed_k).toBe(N * 2 * K);
    expect(a.requests_saved).toBeGreaterThan(0);
    expect(a.samples_drawn! + a.requests_saved!).toBe(a.samples_fixed_k);
  });

  it('rectifies failing paths, and step pairs take the rectified chosen steps', () => {
    const r = totals.rectify as Record<string, number>;
    expect(r.ffs_paths).toBeGreaterThan(0);
    expect(r.rectified_paths).toBeGreaterThan(0);
    expect(r.prefix_shared_tokens).toBeGreaterThan(0);
    const pairs = (totals.emit!.step_preference as { by_chosen_source: Record<string, number> }).by_chosen_source;
    expect(pairs.rectified).toBeGreaterThan(0);
    // Its progress line counts problems, and ends with every one of them done.
    const last = ran.stderr
      .split('\n')
      .filter((l) => l.includes('"progress":"rectify"'))
      .map((l) => JSON.parse(l) as { done: number; total: number; final?: boolean })
      .at(-1)!;
    expect(last).toMatchObject({ final: true, done: N, total: N });
  });

  it('says each mode in one line, from the same totals, and the simulator saw each prompt kind', () => {
    const a = totals.generate!.adaptive as Record<string, number>;
    const by = totals.align!.by_aligner as Record<string, number>;
    const r = totals.rectify as Record<string, number>;
    const pairs = (totals.emit!.step_preference as { by_chosen_source: Record<string, number> }).by_chosen_source;
    expect(ran.stderr).toContain(
      `demo modes (SIMULATION, every reply from the simulator): 12 of 12 problems without an ARS decomposed by the teacher; ${by.extractor} free paths aligned by the extractor, ${by.numeric} numerically; ${a.samples_drawn} samples drawn adaptively, ${a.requests_saved} saved; ${r.rectified_paths} of ${r.ffs_paths} FFS paths rectified, ${pairs.rectified} rectified and ${pairs.peer ?? 0} peer step pairs`,
    );
    const stopped = /tracepipe simulator stopped: (\{.*\})/.exec(ran.stderr)?.[1];
    const prompts = (JSON.parse(stopped!) as { prompts: Record<string, number> }).prompts;
    for (const kind of ['guided', 'free', 'decompose', 'extract', 'continue'])
      expect(prompts[kind], kind).toBeGreaterThan(0);
  });

  it("shows the samples saved and the rectified paths in the report's flow", async () => {
    const html = await readFile(join(runDir, 'report', 'index.html'), 'utf8');
    expect(html).toContain('saved by adaptive sampling');
    expect(html).toContain('rectify: FFS paths');
    expect(html).toContain('SIMULATION');
  });

  it('publishes k_drawn on every output and chosen_source on every step pair', async () => {
    for (const d of DATASETS) {
      const rows = (await publishedRows(join(runDir, 'latest'), d, ['k_drawn'])).map(
        (r) => JSON.parse(r) as { k_drawn: number },
      );
      expect(rows.length, d).toBeGreaterThan(0);
      for (const r of rows) expect(r.k_drawn >= 4 && r.k_drawn <= K, `${d} k_drawn ${r.k_drawn}`).toBe(true);
    }
    const sources = (await publishedRows(join(runDir, 'latest'), 'step_preference', ['chosen_source'])).map(
      (r) => (JSON.parse(r) as { chosen_source: string }).chosen_source,
    );
    expect(new Set(sources)).toEqual(new Set(['rectified', 'peer']));
  });
});

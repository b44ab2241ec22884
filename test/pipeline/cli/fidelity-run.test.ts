/**
 * A run as a user with unlabeled problems makes it: the built CLI, the simulator as its own process
 * over HTTP, a labeled input marked `calibration: true` beside unlabeled data. The calibration
 * problems calibrate and are never emitted; the outputs carry FA; step cuts keep only the
 * evidence kinds of `emit.cut_evidence`.
 */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { readDataset } from '../../../pipeline/cli/commands/eval-run.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'];

describe('tracepipe run with a calibration input (simulator over HTTP)', () => {
  it('calibrates on the labeled input only, emits only the unlabeled data, with FA and trusted cuts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-calrun-'));
    const bank = join(dir, 'bank.jsonl');
    await run(process.execPath, [cli, 'synth', '--out', bank, '--n', '90', '--seed', '5']);
    const rows = (await readFile(bank, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { problem_id: string; answer: unknown; ars: { answer: unknown }[] });
    const cal = rows.slice(0, 60);
    // The data has no gold at all: final and node answers removed.
    const data = rows.slice(60).map((r) => ({ ...r, answer: null, ars: r.ars.map((n) => ({ ...n, answer: null })) }));
    await writeFile(join(dir, 'cal.jsonl'), cal.map((r) => JSON.stringify(r)).join('\n'));
    await writeFile(join(dir, 'data.jsonl'), data.map((r) => JSON.stringify(r)).join('\n'));
    const sim = spawn(process.execPath, [cli, 'sim', 'serve', '--problems', bank, '--seed', '5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const url = await new Promise<string>((ok) =>
        createInterface({ input: sim.stdout! }).on('line', (l) => {
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
          if (m) ok(m[1]!);
        }),
      );
      const config = join(dir, 'c.json');
      await writeFile(
        config,
        JSON.stringify({
          name: 'calrun',
          runs_dir: dir,
          inputs: [
            { path: 'cal.jsonl', calibration: true },
            { path: 'data.jsonl', format: 'jsonl' },
          ],
          model: { base_url: `${url}/v1`, model: 'sim', simulated: true },
          generate: { k: 4, concurrency: 16, seed: 1 },
          calibrate: { target_precision: 0.9 },
        }),
      );
      const { stdout } = await run(process.execPath, [cli, 'run', '--config', config], {
        maxBuffer: 64 << 20,
        env: { ...process.env, TRACEPIPE_LOG: 'text' },
      });
      expect(stdout).toMatch(/^snapshot \S+ \(parent none\):$/m);
      // The summary says which labels calibrated, and how many, and the FA threshold in force.
      expect(stdout).toContain(
        'calibrated on 480 gold and 0 given labels of the calibration inputs; 0 consensus-labeled paths never calibrate',
      );
      expect(stdout).toMatch(/^    global: global tau_pc [\d.]+ tau_gc [\d.]+ tau_fa [\d.]+; precision /m);
      const runDir = join(dir, 'calrun');
      const calJson = JSON.parse(await readFile(join(runDir, 'calibration.json'), 'utf8'));
      // 60 problems x 2 modes x 4 paths, every one gold-labeled; the 240 data paths are consensus-labeled and never calibrate.
      expect(calJson.calibrated_on).toBe('calibration inputs');
      expect(calJson.global.labels).toMatchObject({ gold: 480, given: 0, consensus: 0 });
      expect(calJson.rule).toContain('Wilson 95% lower bound');
      const calIds = new Set(cal.map((r) => r.problem_id));
      const dataIds = new Set(data.map((r) => r.problem_id));
      for (const d of DATASETS) {
        const got = await readDataset<{ problem_id: string; FA: number | null }>(runDir, d, ['problem_id', 'FA']);
        expect(got.length, d).toBeGreaterThan(0);
        expect(
          got.filter((r) => calIds.has(r.problem_id)),
          d,
        ).toEqual([]);
        expect(got.every((r) => dataIds.has(r.problem_id) && r.FA !== null && r.FA >= 0 && r.FA <= 1)).toBe(true);
      }
      for (const d of ['step_preference', 'stepwise']) {
        const ev = await readDataset<{ ffs_evidence: string | null }>(runDir, d, ['ffs_evidence']);
        expect(new Set(ev.map((r) => r.ffs_evidence).filter((e) => e !== null)), d).toEqual(
          new Set(['arithmetic', 'node']),
        );
      }
      // process_eval keeps every kind; stepwise holds exactly its wrong rows whose evidence is trusted.
      const pe = await readDataset<{ id: string; final_answer_correct: boolean; ffs_evidence: string | null }>(
        runDir,
        'process_eval',
        ['id', 'final_answer_correct', 'ffs_evidence'],
      );
      const sw = await readDataset<{ path_id: string; ffs_evidence: string | null }>(runDir, 'stepwise', [
        'path_id',
        'ffs_evidence',
      ]);
      const trusted = pe.filter(
        (r) => !r.final_answer_correct && ['arithmetic', 'node'].includes(r.ffs_evidence ?? ''),
      );
      expect(trusted.length).toBeGreaterThan(0);
      expect(new Set(sw.filter((r) => r.ffs_evidence !== null).map((r) => r.path_id))).toEqual(
        new Set(trusted.map((r) => r.id)),
      );
      const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
      const score = manifest.stages.find((s: { name: string }) => s.name === 'score').stats;
      // 240 data paths: consensus-labeled, or 'none' where the final answers tie.
      expect(score.by_label_source.gold).toBe(480);
      expect(score.by_label_source.consensus + (score.by_label_source.none ?? 0)).toBe(240);
      expect(score.FA_null).toBe(0);
    } finally {
      sim.kill('SIGTERM');
    }
  }, 180_000);
});

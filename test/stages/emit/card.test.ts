/**
 * Dataset cards and the snapshot's repository card: what they say (snapshot, parent, thresholds
 * in force, provenance), that each load snippet uses the path its YAML declares, and, with
 * Hugging Face `datasets` from the build virtualenv, that a snapshot folder of real Parquet parts
 * of every output loads per config, per folder and by each card's own snippet. Without that
 * Python the last part skips with a message; TRACEPIPE_REQUIRE_PYTHON=1 makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PARTS, datasetCard, repoCard, type CardInfo, type RepoCardInfo } from '../../../stages/emit/card.ts';
import { emit, type Dataset } from '../../../stages/emit/emit.ts';
import { sft, stepPreference, stepwise } from '../../../schemas/outputs.ts';
import type { Problem } from '../../../schemas/index.ts';
import { Store, writeFileAtomic } from '../../../pipeline/io/store.ts';
import { repoRoot } from '../../shared.ts';
import { NODES, PATHS } from '../report/fixture.ts';

const python = process.env.TRACEPIPE_PYTHON ?? join(repoRoot, 'build', 'venv', 'bin', 'python');
const hasPython = existsSync(python);
if (!hasPython) {
  const msg = `${python} not found: loading the cards with Hugging Face datasets is SKIPPED (make test builds build/venv)`;
  if (process.env.TRACEPIPE_REQUIRE_PYTHON === '1')
    throw new Error(`${msg} (TRACEPIPE_REQUIRE_PYTHON=1 makes this a failure)`);
  console.warn(`\n*** ${msg} ***\n`);
}

const CONFIGURED = { tau_pc: 0.8, tau_gc: 0.6, tau_fa: 0.25, tau_pc_low: 0.5, tau_gc_low: 0.3 };
const REPO: RepoCardInfo = {
  run: 'nightly',
  runId: 'nightly-20260101',
  model: 'Qwen/Qwen2.5-7B-Instruct',
  simulated: false,
  snapshot: { id: '20260102T030405-ab12', parent: '20260101T030405-cd34' },
  // Calibration moved math and physics away from the configured thresholds.
  thresholds: {
    global: { ...CONFIGURED, tau_pc: 0.7, tau_gc: 0.45, tau_fa: 0.3 },
    domains: {
      physics: { ...CONFIGURED, tau_pc: 0.65, tau_gc: 0.4, tau_fa: 0.35 },
      math: { ...CONFIGURED, tau_pc: 0.75, tau_gc: 0.5 },
    },
  },
};
const INFO: CardInfo = {
  ...REPO,
  title: 'SFT conversations',
  summary: 'Reliable-correct paths.',
  rows: 3,
  dropped: { 'category uncertain': 5 },
  candidates: 8,
  settings: { sft_per_problem: 2, thresholds: CONFIGURED },
  trl: 'TRL conversational',
};

/** The YAML header of a card and its `path:` entries. */
const yamlPaths = (card: string) => [...card.split('\n---\n')[0]!.matchAll(/^ {4}path: (.+)$/gm)].map((m) => m[1]);
/** The python code blocks of a card. */
const snippets = (card: string) => [...card.matchAll(/```python\n([^]*?)```/g)].map((m) => m[1]!);

describe('dataset card', () => {
  it('names its snapshot and parent, and shows the thresholds in force per domain, not the configured ones', () => {
    const card = datasetCard(sft, INFO);
    expect(card).toContain('- snapshot: `20260102T030405-ab12`, parent: `20260101T030405-cd34`');
    expect(card).toContain('- run: nightly (`nightly-20260101`), model: `Qwen/Qwen2.5-7B-Instruct`');
    expect(card).toContain(`| domain | τ_pc | τ_gc | τ_fa | τ_pc low | τ_gc low |
| --- | ---: | ---: | ---: | ---: | ---: |
| all | 0.7 | 0.45 | 0.3 | 0.5 | 0.3 |
| math | 0.75 | 0.5 | 0.25 | 0.5 | 0.3 |
| physics | 0.65 | 0.4 | 0.35 | 0.5 | 0.3 |`);
    expect(card).toContain('## Settings (as configured)');
    expect(card).not.toContain('SIMULATION');
  });

  it('loads, in its snippet, exactly the path its YAML declares', () => {
    const card = datasetCard(stepwise, INFO);
    expect(yamlPaths(card)).toEqual([PARTS]);
    const [code] = snippets(card);
    expect(code).toContain(`data_files="${PARTS}"`);
    expect(card).toContain('load_dataset("<snapshot folder>", "stepwise", split="train")');
  });

  it('says when there is no snapshot or no parent, and SIMULATION when simulated', () => {
    expect(datasetCard(sft, { ...INFO, snapshot: null })).toContain(
      '- snapshot: none (published in place, not as a snapshot)',
    );
    const first = datasetCard(sft, { ...INFO, snapshot: { id: 's1', parent: null }, simulated: true });
    expect(first).toContain('- snapshot: `s1`, parent: none (the first snapshot)');
    expect(first).toContain('> **SIMULATION.**');
    expect(first).toContain('- simulated-model');
  });

  it('lists the trace columns the table actually has', () => {
    expect(datasetCard(sft, INFO)).toContain(
      'Every row carries `problem_id`, `path_id`, `domain`, `PC`, `GC`, `FA`, `region`, `model`, `run_id`,',
    );
  });
});

describe('repository card', () => {
  const tables = [
    { name: 'sft', table: sft as never, rows: 3 },
    { name: 'step_preference', table: stepPreference as never, rows: 0 },
    { name: 'stepwise', table: stepwise as never, rows: 2 },
  ];

  it('has one config per dataset with its own path and features, and names the snapshot, parent, run and model', () => {
    const card = repoCard(tables, REPO);
    expect(card.split('\n---\n')[0]).toContain(`configs:
- config_name: sft
  data_files:
  - split: train
    path: sft/${PARTS}
- config_name: stepwise
  data_files:
  - split: train
    path: stepwise/${PARTS}
dataset_info:
- config_name: sft
  features:
  - name: messages
    list:`);
    expect(card).toContain(`- config_name: stepwise
  features:
  - name: prompt
    dtype: string
  - name: completions
    sequence: string
  - name: labels
    sequence: bool`);
    expect(card).toContain('  splits:\n  - name: train\n    num_examples: 2');
    expect(card).toContain('- snapshot: `20260102T030405-ab12`, parent: `20260101T030405-cd34`');
    expect(card).toContain('- run: nightly (`nightly-20260101`), model: `Qwen/Qwen2.5-7B-Instruct`');
    expect(card).toContain('| physics | 0.65 | 0.4 | 0.35 | 0.5 | 0.3 |');
    expect(card).not.toContain('SIMULATION');
    expect(snippets(card)[0]).toContain(`data_files="sft/${PARTS}"`);
    const sim = repoCard(tables, { ...REPO, simulated: true });
    expect(sim).toContain('> **SIMULATION.**');
    expect(sim).toContain('model: `Qwen/Qwen2.5-7B-Instruct` (SIMULATION)');
  });

  it('gives an empty dataset no config (datasets cannot load an empty split) and says so', () => {
    const card = repoCard(tables, REPO);
    expect(card).not.toContain('config_name: step_preference');
    expect(card).toContain('| step_preference | 0 | `step_preference/part-*.parquet` |');
    expect(card).toContain(
      'step_preference has no rows in this snapshot, hence no config: Hugging Face `datasets` cannot load an empty split.',
    );
    expect(datasetCard(stepPreference, { ...INFO, rows: 0 })).toContain('This snapshot has no rows of it');
    expect(repoCard([tables[1]!], REPO)).toContain('No dataset of this snapshot has rows.');
  });
});

describe.skipIf(!hasPython)('cards in Hugging Face datasets', () => {
  let root = '';
  let datasets: Dataset[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-cards-'));
    const problems: Problem[] = ['p1', 'p2'].map((id, i) => ({
      problem_id: id,
      domain: i ? 'physics' : 'math',
      question: `Question of ${id}?`,
      images: [],
      choices: [],
      answer: '4',
      answer_spec: { kind: 'number', tolerance: null, unit: null },
      role: 'data',
      source: 'in.jsonl',
      content_hash: id,
    }));
    // p1/a answers Q1, where p1/c first fails, at its step 0: a step pair, so every output has rows.
    const scored = PATHS.map((p) =>
      p.path_id === 'p1/a'
        ? {
            ...p,
            verdicts: [{ node_id: 'Q1', answer: '2', reference: '2', verdict: 'ok' as const, agreement: 0.8, step: 0 }],
          }
        : p.path_id === 'p1/c'
          ? { ...p, steps: ['Q1: 3', 'Final answer: 5'], ffs_evidence: 'node' as const }
          : p,
    );
    datasets = emit(
      { problems, nodes: NODES, scored },
      { sft_per_problem: 2, pairs_per_problem: 4, keep_after_ffs: false },
    );
    const store = await Store.open(':memory:', join(root, '.scratch'));
    try {
      // As emit publishes a text-only run: every output table, `images` dropped, then its card.
      for (const d of datasets) {
        await store.replace(d.table, d.built.rows as never[]);
        const published = d.table.columns.includes('images') ? d.table.without('images') : d.table;
        await store.publishParquet(
          `SELECT ${published.columns.map((c) => `"${c}"`).join(', ')} FROM "${d.name}"`,
          join(root, d.name),
          {
            rowsPerPart: 2,
          },
        );
        await writeFileAtomic(
          join(root, d.name, 'README.md'),
          datasetCard(published, {
            ...INFO,
            title: d.title,
            summary: d.summary,
            rows: d.built.rows.length,
            trl: d.trl,
          }),
        );
        d.table = published as never;
      }
      await writeFileAtomic(
        join(root, 'README.md'),
        repoCard(
          datasets.map((d) => ({ name: d.name, table: d.table, rows: d.built.rows.length })),
          { ...REPO, simulated: true },
        ),
      );
    } finally {
      store.close();
    }
    await rm(join(root, '.scratch'), { recursive: true, force: true });
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('load_dataset(<snapshot>, name) works for every dataset, and so do each folder and each card snippet', async () => {
    const cards: Record<string, string> = {};
    for (const d of datasets) cards[d.name] = snippets(await readFile(join(root, d.name, 'README.md'), 'utf8'))[0]!;
    const repoSnippet = snippets(await readFile(join(root, 'README.md'), 'utf8'))[0]!.replace('<this folder>', root);
    // Each snippet is run as written, from the folder that holds its card.
    const script = `
import json, os, sys
from datasets import load_dataset
root, cards, repo_snippet = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
out = {}
for name, snippet in cards.items():
    ds = load_dataset(root, name, split="train")
    folder = load_dataset(os.path.join(root, name), split="train")
    os.chdir(os.path.join(root, name))
    scope = {}
    exec(snippet, scope)
    os.chdir(root)
    out[name] = {"rows": ds.num_rows, "columns": ds.column_names, "folder": folder.num_rows, "snippet": scope["ds"].num_rows}
os.chdir(root)
scope = {}
exec(repo_snippet, scope)
out["repo_snippet"] = scope["ds"].num_rows
print(json.dumps(out))
`;
    const hf = join(root, '.hf');
    const { stdout } = await promisify(execFile)(python, ['-c', script, root, JSON.stringify(cards), repoSnippet], {
      env: {
        ...process.env,
        HF_HOME: hf,
        HF_DATASETS_OFFLINE: '1',
        HF_HUB_OFFLINE: '1',
        HF_DATASETS_CACHE: join(hf, 'd'),
      },
      maxBuffer: 16 << 20,
    });
    const got = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const want: Record<string, unknown> = {};
    for (const d of datasets) {
      const n = d.built.rows.length;
      want[d.name] = { rows: n, columns: d.table.columns, folder: n, snippet: n };
    }
    want.repo_snippet = datasets.find((d) => d.name === 'sft')!.built.rows.length;
    expect(got).toEqual(want);
    expect(datasets.map((d) => d.name)).toEqual(['sft', 'preference', 'step_preference', 'stepwise', 'process_eval']);
    expect(datasets.every((d) => d.built.rows.length > 0)).toBe(true);
  });
});

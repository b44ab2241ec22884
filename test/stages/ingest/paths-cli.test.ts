/**
 * A user's own paths through the built CLI: `tracepipe run` on a problems file and a paths-jsonl
 * file, with no model configured, scores the imported paths and publishes datasets.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../shared.ts';
import { Store } from '../../../pipeline/io/store.ts';
import { RunState } from '../../../pipeline/io/state.ts';

const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const run = promisify(execFile);

const problems = [
  {
    problem_id: 'p1',
    domain: 'math',
    question: 'Tom has 3 apples and buys 2 more. How many apples does he have?',
    answer: '5',
    ars: [{ node_id: 'Q1', question: 'How many apples did he buy?', answer: '2' }],
  },
  // No gold answer: the paths' own `correct` labels it.
  {
    problem_id: 'p2',
    domain: 'math',
    question: 'A box holds 4 rows of 6 eggs. How many eggs?',
    ars: [{ node_id: 'Q1', question: 'How many rows?', answer: '4' }],
  },
];
const paths = [
  { problem_id: 'p1', text: 'Step 1: He buys 2 apples.\nStep 2: 3 + 2 = 5\nFinal answer: 5' },
  { problem_id: 'p1', steps: ['He buys 2 apples.', '3 + 2 = 6'], final_answer: '6', model: 'batch-7b' },
  { problem_id: 'p2', steps: ['There are 4 rows.', '4 * 6 = 24'], final_answer: '24', correct: true },
  { problem_id: 'p9', steps: ['x'] },
];

describe('tracepipe run with paths-jsonl (no model)', () => {
  let dir: string;
  let stdout: string;
  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
    dir = await mkdtemp(join(tmpdir(), 'tp-paths-cli-'));
    await writeFile(join(dir, 'problems.jsonl'), problems.map((p) => JSON.stringify(p)).join('\n'));
    await writeFile(join(dir, 'paths.jsonl'), paths.map((p) => JSON.stringify(p)).join('\n'));
    const config = {
      name: 'mine',
      runs_dir: 'runs',
      inputs: [{ path: 'problems.jsonl' }, { path: 'paths.jsonl', format: 'paths-jsonl' }],
    };
    await writeFile(join(dir, 'run.json'), JSON.stringify(config));
    ({ stdout } = await run(process.execPath, [cli, 'run', '--config', join(dir, 'run.json')]));
  }, 120_000);

  it('scores the imported paths, with their labels, and rejects the one whose problem is unknown', async () => {
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'done', exit_code: 0 });
    const runDir = join(dir, 'runs', 'mine');
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.stages[0]).toMatchObject({
      name: 'ingest',
      totals: { problems: 2, imported_paths: 3 },
      rejects: { invalid_reference: 1 },
    });
    const scored = (
      await new RunState(join(runDir, 'state')).allRows<{
        problem_id: string;
        path_id: string;
        model: string;
        mode: string;
        final_correct: boolean;
        label_source: string;
      }>('score', 'scores')
    )
      .map(({ path_id, model, mode, final_correct, label_source }) => ({
        path_id,
        model,
        mode,
        final_correct,
        label_source,
      }))
      .sort((a, b) => a.path_id.localeCompare(b.path_id));
    expect(scored).toEqual([
      { path_id: 'p1/0', model: 'imported', mode: 'free', final_correct: true, label_source: 'gold' },
      { path_id: 'p1/1', model: 'batch-7b', mode: 'free', final_correct: false, label_source: 'gold' },
      { path_id: 'p2/0', model: 'imported', mode: 'free', final_correct: true, label_source: 'given' },
    ]);
    const store = await Store.open(':memory:');
    try {
      const rejects = await store.query(
        `SELECT source, item, code, message FROM read_parquet('${join(runDir, 'latest', 'rejects.parquet')}')`,
      );
      expect(rejects).toEqual([
        {
          source: 'paths.jsonl',
          item: 'line 4',
          code: 'invalid_reference',
          message: 'line 4: path p9/0 refers to problem p9, which was not ingested',
        },
      ]);
    } finally {
      store.close();
    }
  });
});

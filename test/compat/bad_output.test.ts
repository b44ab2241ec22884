/**
 * `test/compat/train_step.py` must fail, naming the dataset and the column, when an output does
 * not have the types TRL needs; and pass on the same outputs written correctly (so a failure is
 * the bad column's doing). Needs the training virtualenv that `make compat` builds
 * (build/venv-train); without it the test skips with a message, and TRACEPIPE_REQUIRE_TRAIN=1
 * (set by `make compat`) makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Store, sqlString } from '../../pipeline/io/store.ts';
import { repoRoot } from '../shared.ts';

const python = process.env.TRACEPIPE_TRAIN_PYTHON ?? join(repoRoot, 'build', 'venv-train', 'bin', 'python');
const hasPython = existsSync(python);
if (!hasPython) {
  const msg = `${python} not found: the training compat tests are SKIPPED (make compat builds it)`;
  if (process.env.TRACEPIPE_REQUIRE_TRAIN === '1')
    throw new Error(`${msg} (TRACEPIPE_REQUIRE_TRAIN=1 makes this a failure)`);
  console.warn(`\n*** ${msg} ***\n`);
}

const TRACE = `'p1' AS problem_id, 'p1/a' AS path_id, 'math' AS domain, 0.5::DOUBLE AS "PC", 0.5::DOUBLE AS "GC", 'uncertain' AS region, 'm' AS model, 'r' AS run_id`;
const MSG = (role: string, content: string) => `{'role': '${role}', 'content': '${content}'}`;
const Q = 'What is (1+1)*2?';
/** Two rows per output, written the way emit writes them. */
const GOOD: Record<string, string> = {
  sft: `SELECT [${MSG('user', Q)}, ${MSG('assistant', 'Q1: 1+1 = 2\nFinal answer: 4')}] AS messages, []::VARCHAR[] AS images, ${TRACE}`,
  preference: `SELECT [${MSG('user', Q)}] AS prompt, [${MSG('assistant', 'Final answer: 4')}] AS chosen, [${MSG('assistant', 'Final answer: 5')}] AS rejected, []::VARCHAR[] AS images, ${TRACE}`,
  step_preference: `SELECT '${Q}' AS prompt, 'Q1: 1+1 = 2' AS initial_reason_steps, 'Q2: 2*2 = 4' AS chosen, 'Q2: 2*2 = 5' AS rejected, 'Q1: 1+1 = 2\nQ2: 2*2 = 4' AS full_chosen, 'Q1: 1+1 = 2\nQ2: 2*2 = 5' AS full_rejected, 'rectified' AS chosen_source, ${TRACE}`,
  stepwise: `SELECT '${Q}' AS prompt, ['Q1: 1+1 = 2', 'Q2: 2*2 = 5'] AS completions, [true, false] AS labels, ${TRACE}`,
  process_eval: `SELECT 'p1/a' AS id, '${Q}' AS problem, ['Q1: 1+1 = 2', 'Q2: 2*2 = 5'] AS steps, 1::INTEGER AS label, false AS final_answer_correct, ${TRACE}`,
};
const twice = (sql: string) => `${sql} UNION ALL ${sql}`;

const dir = join(repoRoot, 'build', 'test-runs', 'compat-bad');
let store: Store;

/** Writes a run whose outputs are GOOD except for `bad`, then runs train_step.py on it. */
async function check(
  name: string,
  bad: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = join(dir, name);
  await rm(run, { recursive: true, force: true });
  for (const [dataset, sql] of Object.entries({ ...GOOD, ...bad })) {
    await mkdir(join(run, 'latest', dataset), { recursive: true });
    await store.run(
      `COPY (${twice(sql)}) TO ${sqlString(join(run, 'latest', dataset, 'part-0.parquet'))} (FORMAT parquet)`,
    );
  }
  return new Promise((ok) => {
    execFile(
      python,
      [join(repoRoot, 'test', 'compat', 'train_step.py'), run, '--rows', '2'],
      {
        env: {
          ...process.env,
          HF_HUB_OFFLINE: '1',
          HF_DATASETS_OFFLINE: '1',
          HF_HOME: join(repoRoot, 'build', 'hf-home'),
        },
        timeout: 240_000,
      },
      (err, stdout, stderr) => ok({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!hasPython)('train_step.py on badly typed outputs', () => {
  beforeAll(async () => {
    store = await Store.open(':memory:');
  });
  afterAll(() => store?.close());

  it.each([
    [
      'sft messages written as a JSON string',
      { sft: `SELECT '[{"role": "user", "content": "hi"}]' AS messages, []::VARCHAR[] AS images, ${TRACE}` },
      'compat FAILED: sft: column messages should be list<item: struct<role: string, content: string>>, got string',
    ],
    [
      'stepwise labels written as strings',
      {
        stepwise: `SELECT '${Q}' AS prompt, ['Q1: 1+1 = 2', 'Q2: 2*2 = 5'] AS completions, ['true', 'false'] AS labels, ${TRACE}`,
      },
      'compat FAILED: stepwise: column labels should be list<item: bool>, got list<item: string>',
    ],
    [
      'preference without its rejected column',
      {
        preference: `SELECT [${MSG('user', Q)}] AS prompt, [${MSG('assistant', '4')}] AS chosen, []::VARCHAR[] AS images, ${TRACE}`,
      },
      'compat FAILED: preference: column rejected is missing (columns: prompt, chosen, images, problem_id, path_id, domain, PC, GC, region, model, run_id)',
    ],
    [
      'step_preference without its chosen_source column',
      {
        step_preference: `SELECT '${Q}' AS prompt, 'Q1: 1+1 = 2' AS initial_reason_steps, 'Q2: 2*2 = 4' AS chosen, 'Q2: 2*2 = 5' AS rejected, 'Q2: 2*2 = 4' AS full_chosen, 'Q2: 2*2 = 5' AS full_rejected, ${TRACE}`,
      },
      'compat FAILED: step_preference: column chosen_source is missing (columns: prompt, initial_reason_steps, chosen, rejected, full_chosen, full_rejected, problem_id, path_id, domain, PC, GC, region, model, run_id)',
    ],
    [
      'process_eval label as a double',
      {
        process_eval: `SELECT 'p1/a' AS id, '${Q}' AS problem, ['a'] AS steps, 1.0::DOUBLE AS label, false AS final_answer_correct, ${TRACE}`,
      },
      'compat FAILED: process_eval: column label should be int32, got double',
    ],
  ])('fails on %s, naming the dataset and column', async (_case, bad, message) => {
    const r = await check(_case.replaceAll(' ', '-'), bad);
    expect([r.code, r.stderr.trim().split('\n').at(-1)]).toEqual([1, message]);
  });

  it('passes on the same outputs written correctly: one SFT, two DPO and one PRM step', async () => {
    const r = await check('good', {});
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { dataset: string; rows: number; trainer_loss?: number });
    expect(rows.map((x) => [x.dataset, x.rows, typeof x.trainer_loss])).toEqual([
      ['sft', 2, 'number'],
      ['preference', 2, 'number'],
      ['step_preference', 2, 'number'],
      ['stepwise', 2, 'number'],
      ['process_eval', 2, 'undefined'],
    ]);
    expect(r.stdout).toMatch(
      /\ncompat: OK \(5 outputs loaded with datasets; one step each of SFT, DPO x2, PRM; vocab \d+; [\d.]+ s\)\n$/,
    );
  }, 240_000);
});

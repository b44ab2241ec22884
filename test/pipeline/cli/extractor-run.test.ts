/**
 * The align stage's extractor mode inside a whole run: imported GSM8K-format paths (literal rows
 * written here), an extractor model on a local OpenAI-compatible fake over HTTP, the run's
 * durable cache, stage fingerprints, and the key kept out of every file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../schemas/config.ts';
import { runPipeline } from '../../../pipeline/engine/run.ts';
import { RunState } from '../../../pipeline/io/state.ts';
import { startFake, type Fake, type FakeRequest } from '../../generate/fake.ts';

const KEY_ENV = 'TRACEPIPE_TEST_EXTRACTOR_KEY';
const CANARY = 'sk-extractor-CANARY-run-7f3a';

const socratic = [
  {
    question: 'Mia has 4 boxes with 6 pens in each. She gives away 5 pens. How many pens does she have left?',
    answer:
      'How many pens does Mia have? ** Mia has 4 * 6 = <<4*6=24>>24 pens.\nHow many pens are left? ** She has 24 - 5 = <<24-5=19>>19 pens left.\n#### 19',
  },
  {
    question: 'A bus carries 30 people. At a stop 12 get off and 7 get on. How many people are on the bus now?',
    answer:
      'How many people stay on? ** 30 - 12 = <<30-12=18>>18 people stay.\nHow many are on the bus now? ** 18 + 7 = <<18+7=25>>25 people.\n#### 25',
  },
];
const sol = (s: string, ok: boolean) => ({ is_correct: ok, solution: s });
const solutions = [
  {
    question: socratic[0]!.question,
    '6b_finetuning': sol('Mia has 4 * 6 = <<4*6=24>>24 pens.\nShe has 24 - 5 = <<24-5=19>>19 left.\nA: 19', true),
    '6b_verification': sol('Mia has 4 * 6 = <<4*6=24>>24 pens.\nShe has 24 - 5 = <<24-5=19>>19 left.\nA: 19', true),
    '175b_finetuning': sol('Mia has 4 + 6 = <<4+6=10>>10 pens.\nShe has 10 - 5 = <<10-5=5>>5 left.\nA: 5', false),
    '175b_verification': sol('Mia has 4 * 6 = <<4*6=24>>24 pens.\nShe has 24 - 5 = <<24-5=19>>19 left.\nA: 19', true),
  },
  {
    question: socratic[1]!.question,
    '6b_finetuning': sol('18 stay: 30 - 12 = <<30-12=18>>18.\nNow 18 + 7 = <<18+7=25>>25.\nA: 25', true),
    '6b_verification': sol('30 - 12 = <<30-12=18>>18.\n18 + 7 = <<18+7=25>>25.\nA: 25', true),
    '175b_finetuning': sol('30 + 12 = <<30+12=42>>42.\n42 + 7 = <<42+7=49>>49.\nA: 49', false),
    '175b_verification': sol('30 - 12 = <<30-12=18>>18.\n18 + 7 = <<18+7=25>>25.\nA: 25', true),
  },
];

/** The extractor: each sub-question is answered by the step with the same index, with the last number that step writes. */
function reply(req: FakeRequest): { content: string } {
  const user = String(req.body.messages.at(-1)!.content);
  const steps = user
    .split('Solution steps:\n')[1]!
    .split('\n\n')[0]!
    .split('\n')
    .map((l) => l.replace(/^\[\d+\]\s*/, ''));
  const ids = user
    .split('(answer every one, in this order):\n')[1]!
    .split('\n\n')[0]!
    .split('\n')
    .map((l) => l.split(':')[0]!);
  return {
    content: JSON.stringify({
      nodes: ids.map((node_id, i) => {
        const step = Math.min(i, steps.length - 1);
        const last = steps[step]!.match(/\d+(?:\.\d+)?/g)?.at(-1) ?? null;
        return { node_id, step: last === null ? null : step, answer: last };
      }),
    }),
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('a run with align.mode "extractor"', () => {
  let fake: Fake;
  let dir: string;
  const config = (model: string) =>
    parseConfig(
      {
        name: 'x',
        runs_dir: join(dir, 'runs'),
        inputs: [
          { path: 'test_socratic.jsonl', format: 'gsm8k-socratic' },
          { path: 'example_model_solutions.jsonl', format: 'gsm8k-solutions' },
        ],
        align: { mode: 'extractor', extractor: { base_url: fake.url, model, api_key_env: KEY_ENV } },
        calibrate: { enabled: false },
      },
      'test config',
      dir,
    );
  const logs: string[] = [];
  const log = (s: string) => logs.push(s);

  beforeAll(async () => {
    fake = await startFake({ reply });
    dir = await mkdtemp(join(tmpdir(), 'tp-extractor-run-'));
    await writeFile(join(dir, 'test_socratic.jsonl'), socratic.map((r) => JSON.stringify(r)).join('\n'));
    await writeFile(join(dir, 'example_model_solutions.jsonl'), solutions.map((r) => JSON.stringify(r)).join('\n'));
    process.env[KEY_ENV] = CANARY;
  });
  afterAll(async () => {
    delete process.env[KEY_ENV];
    await fake.close();
  });

  it('aligns every free path through the model, scores them, and writes the outputs', async () => {
    const r = await runPipeline(config('extractor-a'), { log });
    expect(r.status).toBe('done');
    const align = r.stages.find((s) => s.name === 'align')!;
    expect(align.status).toBe('done');
    expect(align.stats).toMatchObject({
      mode: 'extractor',
      paths: 8,
      extracted: 8,
      fell_back: 0,
      requests: 8,
      cache_hits: 0,
    });
    expect(fake.requests).toHaveLength(8);
    expect(
      fake.requests.every((q) => q.headers.authorization === `Bearer ${CANARY}` && q.body.model === 'extractor-a'),
    ).toBe(true);
    // The extractor's answers are the ones scored: the wrong path of problem 1 answers Q1 with 10 at step 0.
    const rows = await new RunState(join(r.runDir, 'state')).allRows<{
      problem_id: string;
      path_id: string;
      PC: number;
      ffs_step: number | null;
      final_correct: boolean;
    }>('score', 'scores');
    expect(rows).toHaveLength(8);
    const wrong = rows.filter((x) => !x.final_correct);
    expect(wrong).toHaveLength(2);
    for (const w of wrong) expect(w).toMatchObject({ PC: 0, ffs_step: 0 });
    expect(rows.filter((x) => x.final_correct).every((x) => x.PC === 1 && x.ffs_step === -1)).toBe(true);
    expect(JSON.parse(await readFile(join(r.runDir, 'latest', 'stepwise', 'stats.json'), 'utf8')).rows).toBeGreaterThan(
      0,
    );
  }, 60_000);

  it('skips every stage on a re-run, sending nothing; another extractor model re-aligns and re-scores', async () => {
    const again = await runPipeline(config('extractor-a'), { log });
    expect(again.stages.every((s) => s.status === 'skipped')).toBe(true);
    expect(fake.requests).toHaveLength(8);
    const other = await runPipeline(config('extractor-b'), { log });
    // The other model gives the same answers: the merged counts do not change, so calibration is reused; the
    // report is written again, for it names the new snapshot the re-emitted rows go to.
    expect(other.stages.filter((s) => s.status === 'done').map((s) => s.name)).toEqual([
      'align',
      'score',
      'filter',
      'rectify',
      'emit',
      'report',
    ]);
    expect(other.stages.find((s) => s.name === 'align')!.problems).toMatchObject({ computed: 2, total: 2 });
    expect(fake.requests).toHaveLength(16);
    expect(fake.requests.slice(8).every((q) => q.body.model === 'extractor-b')).toBe(true);
  }, 60_000);

  it('keeps the key out of every file of the run and every log line', async () => {
    const files = await filesUnder(join(dir, 'runs'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect((await readFile(f)).includes(CANARY), f).toBe(false);
    expect(logs.join('\n')).not.toContain(CANARY);
  });
});

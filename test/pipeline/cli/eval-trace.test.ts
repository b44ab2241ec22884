/**
 * `tracepipe eval trace`: the pipeline run on GSM8K-format inputs and graded on what it emits.
 * Literal rows (written here) for the no-leak check through the built CLI; the shared GSM8K
 * files for the measured numbers.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { evalTrace, inCalibrationHalf, parseHideGold } from '../../../pipeline/cli/commands/eval-trace.ts';
import { describeShared, repoRoot, sharedData } from '../../shared.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');

/**
 * Ten GSM8K-style problems (`gsm8k-test-<line>`): two independent sub-questions and their sum.
 * `shift` changes the held-out half's gold answers (and only there: the final one, and with
 * `nodes` the sub-questions' too) without changing the ARS's structure: what a leak would show.
 */
function socratic(shift: number, nodes = true): { question: string; answer: string }[] {
  return Array.from({ length: 10 }, (_, i) => {
    const [a, b, c, d] = [3 + i, 20 + 2 * i, 2 + (i % 3), 51 + 7 * i];
    const s = inCalibrationHalf(`gsm8k-test-${i}`) ? 0 : shift;
    const [q1, q2] = nodes ? [a + b + s, c * d + s] : [a + b, c * d];
    return {
      question: `Ann has ${a} red pens and ${b} blue pens, and ${c} boxes of ${d} pencils. How many pens and pencils does she have?`,
      answer: `How many pens does Ann have? ** Ann has ${a} + ${b} = <<${a}+${b}=${q1}>>${q1} pens.\nHow many pencils does Ann have? ** She has ${c} * ${d} = <<${c}*${d}=${q2}>>${q2} pencils.\n#### ${a + b + c * d + s}`,
    };
  });
}

/** Four solutions per problem: right ones, and on every third problem two that add wrongly. */
function solutions(): Record<string, unknown>[] {
  return socratic(0).map((p, i) => {
    const [a, b, c, d] = [3 + i, 20 + 2 * i, 2 + (i % 3), 51 + 7 * i];
    const right = `Ann has ${a} + ${b} = <<${a}+${b}=${a + b}>>${a + b} pens.\nShe has ${c} * ${d} = <<${c}*${d}=${c * d}>>${c * d} pencils.\nTogether ${a + b} + ${c * d} = <<${a + b}+${c * d}=${a + b + c * d}>>${a + b + c * d}.\nA: ${a + b + c * d}`;
    const wrong = `Ann has ${a} + ${b} = <<${a}+${b}=${a + b + 1}>>${a + b + 1} pens.\nShe has ${c} * ${d} = <<${c}*${d}=${c * d}>>${c * d} pencils.\nTogether ${a + b + 1} + ${c * d} = <<${a + b + 1}+${c * d}=${a + b + 1 + c * d}>>${a + b + 1 + c * d}.\nA: ${a + b + 1 + c * d}`;
    const sol = (k: number) => {
      const bad = i % 3 === 0 && k >= 2;
      return { solution: bad ? wrong : right, is_correct: !bad };
    };
    return {
      question: p.question,
      '6b_finetuning': sol(0),
      '6b_verification': sol(1),
      '175b_finetuning': sol(2),
      '175b_verification': sol(3),
    };
  });
}

async function writeData(dir: string, shift: number, nodes = true): Promise<{ problems: string; paths: string }> {
  const problems = join(dir, 'test_socratic.jsonl');
  const paths = join(dir, 'example_model_solutions.jsonl');
  await writeFile(
    problems,
    `${socratic(shift, nodes)
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`,
  );
  await writeFile(
    paths,
    `${solutions()
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`,
  );
  return { problems, paths };
}

/** Every data file a run published (the datasets' Parquet parts and calibration), by path relative to the run folder. */
async function published(runDir: string): Promise<Map<string, Buffer>> {
  // latest/ also holds the cards and snapshot.json, which name the snapshot (a moment): not data.
  const latest = join(runDir, 'latest');
  const files = (await readdir(latest, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name));
  const out = new Map<string, Buffer>();
  for (const f of [...files, join(runDir, 'calibration.json')]) out.set(relative(runDir, f), await readFile(f));
  return out;
}

async function cliTrace(data: { problems: string; paths: string }, work: string, flags: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
  const { stdout } = await run(process.execPath, [
    cli,
    'eval',
    'trace',
    '--problems',
    data.problems,
    '--paths',
    data.paths,
    '--work-dir',
    work,
    '--json',
    ...flags,
  ]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & {
    sft: { n: number; precision: number | null };
    held_out: { problems: number; paths: number; correct: number };
  };
}

describe('tracepipe eval trace --hide-gold (built CLI, literal GSM8K-format rows)', () => {
  it.each([[['--hide-gold']], [['--hide-gold', 'final']]])(
    'no stage reads the hidden answers: other hidden gold, byte-identical outputs (%j)',
    async (flags) => {
      const root = await mkdtemp(join(tmpdir(), 'tp-evaltrace-'));
      const [a, b] = [join(root, 'a'), join(root, 'b')];
      // `--hide-gold final` keeps the node answers in view: only the final ones change then.
      const nodes = flags[1] !== 'final';
      const ra = await cliTrace(await writeData(await mkdtemp(join(root, 'da-')), 0, nodes), a, flags);
      const rb = await cliTrace(await writeData(await mkdtemp(join(root, 'db-')), 1000, nodes), b, flags);
      const [fa, fb] = [await published(join(a, 'runs', 'eval-trace')), await published(join(b, 'runs', 'eval-trace'))];
      expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
      expect([...fa.keys()].filter((k) => k.endsWith('.parquet')).length).toBeGreaterThanOrEqual(5);
      for (const [k, v] of fa) expect(v.equals(fb.get(k)!), k).toBe(true);
      // The hidden gold is used, by the grading only: with every held-out answer moved, no emitted row is right.
      expect(ra.hide_gold).toBe(flags[1] ?? 'all');
      expect(ra.sft.n).toBeGreaterThan(0);
      expect(rb.sft.n).toBe(ra.sft.n);
      expect(ra.sft.precision).toBeGreaterThan(0.5);
      expect(rb.sft.precision).toBe(0);
      expect(rb.held_out).toMatchObject({ problems: ra.held_out.problems, correct: 0 });
      // The check can fail: the inputs the pipeline read differ once the hidden gold is shown.
      const rc = await cliTrace(await writeData(await mkdtemp(join(root, 'dc-')), 1000, nodes), join(root, 'c'), []);
      const fc = await published(join(root, 'c', 'runs', 'eval-trace'));
      expect([...fa].some(([k, v]) => !v.equals(fc.get(k) ?? Buffer.alloc(0)))).toBe(true);
      expect(rc.hide_gold).toBe('none');
    },
    120_000,
  );
});

describe('parseHideGold', () => {
  it.each([
    [undefined, undefined],
    ['', 'all'],
    ['all', 'all'],
    ['final', 'final'],
  ])('%j → %j', (flag, want) => expect(parseHideGold(flag)).toBe(want));
  it('names what it expected and what came', () =>
    expect(() => parseHideGold('nodes')).toThrow(
      'eval trace: --hide-gold should be "all" or "final" (or given alone, meaning all), got "nodes"',
    ));
});

describeShared('eval trace on GSM8K (the pipeline, no model)', () => {
  const data = {
    problems: sharedData('gsm8k', 'test_socratic.jsonl'),
    paths: sharedData('gsm8k', 'example_model_solutions.jsonl'),
  };

  // Issue 12 target, with gold: held-out reliable precision >= 0.97 at coverage >= 0.6. Measured:
  // 0.9811 at 0.5996 (623 of the 1039 truly correct held-out paths; 624 would make 0.6).
  it('with gold: reliable precision and coverage on the held-out half, from the emitted rows', async () => {
    const r = await evalTrace(data);
    expect(r).toMatchObject({ problems: 1319, paths: 5276, label_disagreements: 0, hide_gold: 'none' });
    expect(r.held_out).toEqual({ problems: 681, paths: 2724, correct: 1039 });
    expect(r.calibration).toMatchObject({
      met_target: true,
      tau_pc: 1,
      tau_gc: 0.3,
      tau_fa: 0.65,
      labels: { gold: 2552, given: 0, consensus: 0 },
    });
    expect(r.calibration.rule).toContain('Wilson 95% lower bound');
    expect(r.reliable_precision!).toBeCloseTo(0.9811, 3);
    expect(r.reliable_coverage!).toBeCloseTo(0.5996, 3);
    expect(r.reliable.n).toBe(635);
    expect(r.majority_precision!).toBeCloseTo(0.76, 3);
    expect(r.reliable_correct).toBeNull();
  }, 240_000);

  // Issue 12 target, no gold: sft precision >= 0.97 and reliable-correct coverage >= 0.5. Measured
  // with the calibration half as a labeled calibration input: sft 0.9691 (194 rows), reliable-correct
  // 0.9716 at coverage 0.329; majority voting on the same paths 0.760 at 0.823.
  it('--hide-gold: sft and reliable-correct graded against the hidden gold, beside majority voting', async () => {
    const r = await evalTrace({ ...data, hideGold: 'all' });
    expect(r).toMatchObject({ hide_gold: 'all', calibration_set: 'half', sft_rows: 194 });
    expect(r.calibration.labels).toMatchObject({ gold: 2552, consensus: 0 });
    expect(r.sft_precision!).toBeCloseTo(0.9691, 3);
    expect(r.reliable_correct_precision!).toBeCloseTo(0.9716, 3);
    expect(r.reliable_correct_coverage!).toBeCloseTo(0.3292, 3);
    expect(r.majority_precision!).toBeCloseTo(0.76, 3);
    expect(r.majority_coverage!).toBeCloseTo(0.8229, 3);
    expect(r.sft.precision_ci[0]).toBeLessThan(r.sft_precision!);
  }, 240_000);
});

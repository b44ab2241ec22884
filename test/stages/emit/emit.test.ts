import { describe, it, expect } from 'vitest';
import {
  buildPreference,
  buildProcessEval,
  buildSft,
  buildStepPreference,
  buildStepwise,
} from '../../../stages/emit/build.ts';
import type { ArsNode, Problem, ScoredPath, Verdict } from '../../../schemas/index.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const problem: Problem = {
  problem_id: 'p',
  domain: 'math',
  question: 'What is (1+1)*2?',
  images: [],
  choices: [],
  answer: '4',
  answer_spec: spec,
  source: 't',
  content_hash: 'h',
  role: 'data',
};
const node = (node_id: string, position: number, depends_on: string[], is_final = false): ArsNode => ({
  problem_id: 'p',
  node_id,
  position,
  question: node_id,
  depends_on,
  answer: null,
  answer_spec: spec,
  uses_image: false,
  is_final,
});
const nodes = [node('Q1', 0, []), node('Q2', 1, ['Q1']), node('F', 2, ['Q2'], true)];
const scored = (
  path_id: string,
  o: Omit<Partial<ScoredPath>, 'verdicts'> & { answers: (string | null)[]; verdicts: Verdict[] },
): ScoredPath => ({
  problem_id: 'p',
  path_id,
  domain: 'math',
  PC: 1,
  GC: 1,
  FA: 1,
  region: 'reliable',
  model: 'm',
  run_id: 'r',
  mode: 'ars-guided',
  category: 'reliable-correct',
  final_answer: o.answers[2] ?? null,
  final_correct: true,
  label_source: 'gold',
  ffs_node: null,
  ffs_step: -1,
  ffs_evidence: null,
  silent_failure_node: null,
  role: 'data',
  steps: [`Q1: 1+1 = ${o.answers[0]}`, `Q2: ${o.answers[0]}*2 = ${o.answers[1]}`, `Final answer: ${o.answers[2]}`],
  ...o,
  verdicts: ['Q1', 'Q2', 'F'].map((id, i) => ({
    node_id: id,
    answer: o.answers[i] ?? null,
    reference: null,
    verdict: o.verdicts[i]!,
    agreement: 1,
    step: i,
  })),
});
const good1 = scored('p/a', { answers: ['2', '4', '4'], verdicts: ['ok', 'ok', 'ok'] });
const good2 = scored('p/b', { answers: ['2', '4', '4'], verdicts: ['ok', 'ok', 'ok'] }); // same text as good1
const badQ2 = scored('p/c', {
  answers: ['2', '5', '5'],
  verdicts: ['ok', 'fail', 'fail'],
  PC: 0.5,
  GC: 0.5,
  region: 'uncertain',
  category: 'uncertain',
  final_correct: false,
  ffs_node: 'Q2',
  ffs_step: 1,
  ffs_evidence: 'node',
  FA: 0,
});
const silent = scored('p/d', {
  answers: ['3', '4', '4'],
  verdicts: ['fail', 'ok', 'ok'],
  PC: 0.5,
  region: 'uncertain',
  category: 'uncertain',
  silent_failure_node: 'Q1',
});
const input = { problems: [problem], nodes, scored: [good1, good2, badQ2, silent] };
const opts = { sft_per_problem: 2, pairs_per_problem: 4, keep_after_ffs: false };

describe('emit builders', () => {
  it('SFT keeps reliable-correct paths once per distinct text, as TRL messages', () => {
    const b = buildSft(input, opts);
    expect(b.rows.map((r) => r.path_id)).toEqual(['p/a']);
    expect(b.rows[0]!.messages).toEqual([
      { role: 'user', content: 'Problem:\nWhat is (1+1)*2?' },
      { role: 'assistant', content: 'Q1: 1+1 = 2\nQ2: 2*2 = 4\nFinal answer: 4' },
    ]);
    expect(b.dropped).toEqual({ 'duplicate text': 1, 'category uncertain': 2 });
  });

  it('every row carries the trace columns, FA included', () => {
    expect(buildSft(input, opts).rows[0]).toMatchObject({
      problem_id: 'p',
      path_id: 'p/a',
      PC: 1,
      GC: 1,
      FA: 1,
      region: 'reliable',
    });
    expect(buildProcessEval(input).rows.map((r) => r.FA)).toEqual([1, 1, 0]);
  });

  it('outcome pairs take a reliable-correct chosen and a rejected path with an FFS', () => {
    const b = buildPreference(input, opts);
    expect(b.rows.map((r) => [r.chosen_path_id, r.path_id, r.ffs_node, r.ffs_step, r.ffs_evidence])).toEqual([
      ['p/a', 'p/c', 'Q2', 1, 'node'],
    ]);
    expect([b.rows[0]!.FA, b.rows[0]!.chosen_FA]).toEqual([0, 1]);
    expect(b.rows[0]!.rejected).toEqual([{ role: 'assistant', content: 'Q1: 1+1 = 2\nQ2: 2*2 = 5\nFinal answer: 5' }]);
  });

  it('step pairs cut at the FFS, with a donor that agrees on the prefix', () => {
    const b = buildStepPreference(input, opts);
    expect(b.rows).toHaveLength(1);
    expect(b.rows[0]).toMatchObject({
      initial_reason_steps: 'Q1: 1+1 = 2',
      chosen: 'Q2: 2*2 = 4',
      rejected: 'Q2: 2*2 = 5',
      full_chosen: 'Q2: 2*2 = 4\nFinal answer: 4',
      full_rejected: 'Q2: 2*2 = 5\nFinal answer: 5',
      chosen_path_id: 'p/a',
      ffs_node: 'Q2',
      ffs_step: 1,
      ffs_evidence: 'node',
    });
  });

  it('cuts only at the evidence kinds of cut_evidence: step pairs and stepwise rows, not outcome pairs', () => {
    const finalOnly = { ...input, scored: [good1, good2, { ...badQ2, ffs_evidence: 'final' as const }, silent] };
    const why = 'ffs_evidence final not in emit.cut_evidence';
    const sp = buildStepPreference(finalOnly, opts);
    expect([sp.rows.length, sp.dropped]).toEqual([0, { [why]: 1 }]);
    const sw = buildStepwise(finalOnly, opts);
    expect(sw.rows.map((r) => r.path_id)).toEqual(['p/a', 'p/b']);
    expect(sw.dropped).toEqual({ 'silent failure': 1, [why]: 1 });
    expect(buildPreference(finalOnly, opts).rows).toHaveLength(1);
    // Trusting `final` too brings them back.
    const all = { ...opts, cut_evidence: ['arithmetic', 'node', 'final'] as const };
    expect(buildStepPreference(finalOnly, all).rows.map((r) => r.ffs_evidence)).toEqual(['final']);
    expect(buildStepwise(finalOnly, all).rows.at(-1)).toMatchObject({
      path_id: 'p/c',
      labels: [true, false],
      ffs_evidence: 'final',
    });
    // And `node` alone drops an `arithmetic` cut.
    const arith = { ...input, scored: [good1, { ...badQ2, ffs_evidence: 'arithmetic' as const }] };
    expect(buildStepPreference(arith, { ...opts, cut_evidence: ['node'] }).rows).toHaveLength(0);
  });

  it('emits nothing from the problems of a calibration input', () => {
    const cal = { ...input, problems: [{ ...problem, role: 'calibration' as const }] };
    for (const b of [
      buildSft(cal, opts),
      buildPreference(cal, opts),
      buildStepPreference(cal, opts),
      buildStepwise(cal, opts),
      buildProcessEval(cal),
    ])
      expect([b.rows.length, b.candidates]).toEqual([0, 0]);
    // A scored row that says its problem calibrates is left out whatever the problems table says.
    expect(buildSft({ ...input, scored: [{ ...good1, role: 'calibration' }] }, opts).rows).toEqual([]);
  });

  it('step pairs need a donor whose prefix agrees', () => {
    const onlySilentDonor = { ...input, scored: [silent, badQ2] }; // silent has Q1 = 3, badQ2 has Q1 = 2
    const b = buildStepPreference(onlySilentDonor, opts);
    expect(b.rows).toEqual([]);
    expect(b.dropped).toEqual({ 'no path answers the FFS node correctly after the same prefix': 1 });
  });

  it('stepwise labels are true before the FFS and false at it; silent failures are left out', () => {
    const b = buildStepwise(input, opts);
    expect(b.rows.map((r) => [r.path_id, r.labels, r.ffs_evidence])).toEqual([
      ['p/a', [true, true, true], null],
      ['p/b', [true, true, true], null],
      ['p/c', [true, false], 'node'],
    ]);
    expect(b.dropped).toEqual({ 'silent failure': 1 });
    expect(buildStepwise(input, { ...opts, keep_after_ffs: true }).rows[2]!.labels).toEqual([true, false, false]);
  });

  it('process eval rows use ProcessBench columns with label = ffs_step', () => {
    const b = buildProcessEval(input);
    expect(b.rows.map((r) => [r.id, r.label, r.final_answer_correct, r.ffs_evidence])).toEqual([
      ['p/a', -1, true, null],
      ['p/b', -1, true, null],
      ['p/c', 1, false, 'node'],
    ]);
  });
});

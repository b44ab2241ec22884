import { describe, expect, it } from 'vitest';
import type { ScoredPath } from '../../../schemas/index.ts';
import { ceiling, finalAgreement } from '../../../pipeline/cli/commands/eval-trace.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
type V = ScoredPath['verdicts'][number]['verdict'];
const path = (
  id: string,
  PC: number,
  GC: number,
  final_correct: boolean,
  verdicts: V[],
  final_answer = '1',
  problem_id = 'p',
): ScoredPath =>
  ({
    problem_id,
    path_id: id,
    domain: 'math',
    PC,
    GC,
    final_correct,
    final_answer,
    verdicts: [
      ...verdicts.map((verdict, i) => ({ node_id: `Q${i + 1}`, verdict })),
      { node_id: 'F', verdict: final_correct ? 'ok' : 'fail' },
    ],
  }) as unknown as ScoredPath;

describe('eval trace ceiling', () => {
  it('counts reliable wrong paths whose every intermediate node is ok (the error is in F)', () => {
    const held = [
      path('a', 1, 1, false, ['ok', 'ok']), // reliable, wrong, all ok: error in F
      path('b', 1, 0.7, false, ['ok', 'ok']), // same
      path('c', 0.8, 0.7, false, ['ok', 'ok', 'ok', 'ok', 'fail']), // reliable, wrong, one node failed
      path('d', 1, 1, true, ['ok', 'ok']), // correct: not counted
      path('e', 0.4, 1, false, ['fail', 'fail']), // unreliable: not counted
      path('f', 1, 0.5, false, ['ok']), // GC under tau_gc 0.6: uncertain, not counted
    ];
    const c = ceiling(held, held, 0.8, 0.6);
    expect(c.reliable_incorrect).toBe(3);
    expect(c.all_nodes_ok).toBe(2);
    // Fewer than 50 reliable paths at every grid pair: no maximum is reported.
    expect(c.max_precision).toBeNull();
  });

  it('finds the grid pair with the best precision among pairs leaving at least 50 paths reliable', () => {
    // 60 paths at GC 1 (54 correct), 60 at GC 0.7 (30 correct): GC >= 0.75 keeps only the first 60.
    const all = [
      ...Array.from({ length: 60 }, (_, i) => path(`h${i}`, 1, 1, i < 54, ['ok'])),
      ...Array.from({ length: 60 }, (_, i) => path(`m${i}`, 1, 0.7, i < 30, ['ok'])),
    ];
    const c = ceiling(all, [], 0.8, 0.6);
    expect(c.max_precision).toMatchObject({ precision: 0.9, n_reliable: 60, coverage: 54 / 84 });
    expect(c.max_precision!.tau_gc).toBeGreaterThan(0.7);
  });
});

describe('finalAgreement', () => {
  it('says whether another path of the same problem gives an equivalent final answer', () => {
    const scored = [
      path('p/0', 1, 1, true, [], '12', 'p'),
      path('p/1', 1, 1, true, [], '12.0', 'p'),
      path('p/2', 1, 1, false, [], '13', 'p'),
      path('q/0', 1, 1, true, [], '12', 'q'),
    ];
    const nodes = [
      { problem_id: 'p', is_final: true, answer_spec: spec },
      { problem_id: 'q', is_final: true, answer_spec: spec },
    ];
    const a = finalAgreement(scored, nodes);
    expect(Object.fromEntries(a)).toEqual({ 'p/0': true, 'p/1': true, 'p/2': false, 'q/0': false });
  });
});

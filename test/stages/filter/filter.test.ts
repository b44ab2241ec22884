import { describe, expect, it } from 'vitest';
import { filter } from '../../../stages/filter/filter.ts';
import type { ScoredPath } from '../../../schemas/index.ts';

const path = (path_id: string, o: Partial<ScoredPath>): ScoredPath =>
  ({
    problem_id: 'p',
    path_id,
    domain: 'math',
    PC: 1,
    GC: 1,
    FA: 1,
    region: 'reliable',
    category: 'reliable-correct',
    final_correct: true,
    ...o,
  }) as ScoredPath;
const th = { tau_pc: 0.4, tau_gc: 0.4, tau_fa: 0.5, tau_pc_low: 0.1, tau_gc_low: 0.1 };

describe('filter', () => {
  it('re-regions paths under the thresholds in force for their domain, FA gate included', () => {
    const paths = [
      path('a', {}),
      path('b', { PC: 0.5, GC: 0.5, region: 'uncertain', category: 'uncertain', final_correct: false }),
      path('c', { FA: 0.4 }), // under tau_fa 0.5: no longer reliable
      path('d', { FA: null, domain: 'physics' }), // K = 1: FA left out of the test
    ];
    const out = filter(paths, (d) => (d === 'physics' ? { ...th, tau_pc: 1.1 } : th));
    expect(out.paths.map((p) => [p.path_id, p.region, p.category])).toEqual([
      ['a', 'reliable', 'reliable-correct'],
      ['b', 'reliable', 'reliable-incorrect'],
      ['c', 'uncertain', 'uncertain'],
      ['d', 'uncertain', 'uncertain'],
    ]);
    expect(out.moved).toBe(3);
    expect(out.categories).toEqual({ 'reliable-correct': 1, 'reliable-incorrect': 1, uncertain: 2 });
  });
});

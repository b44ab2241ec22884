import { describe, expect, it } from 'vitest';
import { equivalent } from '../../../../stages/lib/equivalence/index.ts';

const choices = ['x = 41', 'x = 42', 'x = 43', 'none of these'];

describe('multiple choice', () => {
  it.each([
    ['B', 'B', true],
    ['B', '(B)', true],
    ['B', 'B. x = 42', true],
    ['B', 'b', true],
    ['B', 'x = 42', true],
    ['(B)', '\\text{(B)}', true],
    ['x = 42', 'B', true],
    ['B', 'The answer is (B).', true],
    ['B', 'C', false],
    ['B', 'x = 43', false],
    ['D', 'None of these.', true],
    ['B', 'banana', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'choice', choices }).equal).toBe(want);
  });
  it('names the options in its reason', () => {
    expect(equivalent('B', 'C', { kind: 'choice', choices })).toEqual({
      equal: false,
      reason: 'gold names option B, prediction names option C',
    });
  });
});

describe('text', () => {
  it.each([
    ['The midpoints form a regular hexagon', 'the midpoints form a regular  hexagon.', true],
    ['\\text{Evelyn}', 'Evelyn', true],
    ['odd', 'Odd!', true],
    ['odd', 'even', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'text' }).equal).toBe(want);
  });
});

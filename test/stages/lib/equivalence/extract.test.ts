import { describe, expect, it } from 'vitest';
import { extractAnswer } from '../../../../stages/lib/equivalence/index.ts';

describe('extractAnswer', () => {
  it.each([
    ['so $x = \\boxed{\\frac{1}{2}}$.', '\\frac{1}{2}'],
    ['nested \\boxed{\\{1, \\{2\\}\\}} done', '\\{1, \\{2\\}\\}'],
    ['first \\boxed{3} then \\boxed{4}', '\\{3, 4\\}'],
    ['\\boxed{1} no no no no no \\boxed{2}', '2'],
    ['The final answer is $14{,}916$. I hope it is correct.', '14{,}916'],
    ['Final Answer: The largest $n$ is 34.', '34'],
    ['The answer is 42', '42'],
    ['We get $x=3$ and then $y = 5$', 'y = 5'],
    ['Thus \\(a+b\\) works', 'a+b'],
    ['the number is not 10 which is 1,000.99€', '1,000.99'],
    ['costs $1,234.50 in total', '1,234.50'],
    ['it rose by 50% overall', '50%'],
    ['a boxed \\boxed{255} earlier; Final Answer: The final answer is $10,455$.', '10,455'],
    ['AZYUK2A', null],
    ['no numbers here', null],
  ])('%s → %s', (text, want) => {
    expect(extractAnswer(text)).toBe(want);
  });
});

import { describe, expect, it } from 'vitest';
import { equivalent } from '../../../../stages/lib/equivalence/index.ts';

describe('LaTeX expressions', () => {
  it.each([
    ['\\left(x-2\\right)\\left(x+2\\right)', '(x-2)(x+2)', true],
    ['(x-2)(x+2)', 'x^2-4', true],
    ['(x-2)(x+2)', 'x^2+4', false],
    ['\\tan^2(y)+1', '\\sec^2(y)', true],
    ['10\\sqrt{3} + \\sqrt4', '10\\sqrt3 + 2', true],
    ['\\frac34i', '\\frac{3}{4}i', true],
    ['\\frac{\\pi r}{h+r}', '\\pi r / (r + h)', true],
    ['2\\sin b\\cos a', '\\sin(a+b) - \\sin(a-b)', true],
    ['e^{i\\pi}', '-1', true],
    ['\\frac{1}{3x^{2/3}}', '\\frac{1}{3\\sqrt[3]{x}^2}', true],
    ['x+2n+1', 'x+1', false],
    ['4', '4\\sqrt{2}', false],
    ['\\frac{1}{2} + \\frac{1}{72}', '\\frac{37}{72}', true],
    ['\\frac{1}{2} + \\frac{1}{72}', '\\frac{1}{2} + \\frac{2}{3}', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p, { kind: 'expression' }).equal).toBe(want);
  });
});

describe('equations and relations', () => {
  it.each([
    ['x = 5', '5', true],
    ['5', 'k=5', true],
    ['y = 2x + 1', '2x - y + 1 = 0', true],
    ['34x+45y-20z+100=0', '-34x-45y+20z-100=0', true],
    ['x^2/4 + y^2/3 = 1', 'x^2/16 + y^2/12 = 1/4', true],
    ['5x - 7y + 11z + 4 = 0', 'x + y - z + 2 = 0', false],
    ['x \\le 5', '5 \\ge x', true],
    ['x < 1', '-x > -1', true],
    ['x < 1', 'x > -1', false],
    ['x \\geq 5', 'x \\leq 5', false],
    ['7 = 11a+c', '11a+c', false],
    ['x = 5+5+1 = 11', '11', true],
    ['(p,q)=(3,2)', '(3,2)', true],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p).equal).toBe(want);
  });
});

describe('intervals, sets, tuples, matrices', () => {
  it.each([
    ['[0,1)', '[0,1)', true],
    ['[0,1)', '(0,1)', false],
    ['[0,9)', '[0,1)', false],
    ['(1, +\\infty)', '(1,\\infty)', true],
    ['[-1, -\\frac{1}{2}) \\cup (0, 1)', '(0,1) \\cup [-1, -0.5)', true],
    ['-793 < a < 10', '(-793, 10)', true],
    ['x \\in [-2,7]', '[-2, 7]', true],
    ['\\{1, 2, 3\\}', '\\{3, 2, 1\\}', true],
    ['\\{1, 2\\}', '\\{1, 2, 3\\}', false],
    ['10, 4, -2', '4, 10, -2', false],
    ['(1, \\frac{9}{2})', '(1, 4.5)', true],
    ['(1, 2)', '(2, 1)', false],
    ['(2,1),(1,2)', '(1,2),(2,1)', true],
    ['\\pm 2', '\\{-2, 2\\}', true],
    ['a = 4, -8, -10', '-10, -8, 4', true],
    ['a_3 = 2, a_{37} = 19', 'a_{37} = 19, a_3 = 2', true],
    [
      '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}',
      '\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 4\\end{array}\\right]',
      true,
    ],
    ['\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}', '\\begin{bmatrix}1 & 2 \\\\ 3 & 5\\end{bmatrix}', false],
    ['\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}', '\\begin{pmatrix}1 & 3 \\\\ 2 & 4\\end{pmatrix}', false],
  ])('%s vs %s → %s', (g, p, want) => {
    expect(equivalent(g, p).equal).toBe(want);
  });
});

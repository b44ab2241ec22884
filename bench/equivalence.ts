/**
 * @module bench/equivalence
 * Throughput of `equivalent` on one core for numbers, LaTeX expressions and quantities, each on
 * inputs generated here (distinct strings, so parse caches help only as they would in a run).
 */
import { equivalent } from '../stages/lib/equivalence/index.ts';

/** Seconds spent per category. */
const SECONDS = 1.5;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function numberPairs(n: number): [string, string][] {
  const r = lcg(1);
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const x = Math.floor(r() * 1e7) / 100;
    const sci = (x * 1e5).toExponential(3);
    const forms = [
      [`${x}`, `${x.toFixed(2)}`],
      [`${Math.round(x)}`, Math.round(x).toLocaleString('en-US')],
      [`\\frac{${(i % 97) + 1}}{7}`, `${(((i % 97) + 1) / 7).toFixed(6)}`],
      [`${x}`, `$${x}`],
      [sci, sci.replace(/e\+?(-?\d+)$/, ' \\times 10^{$1}')],
      [`${i % 100}%`, `${i % 100}`],
    ] as const;
    const f = forms[i % forms.length] as readonly [string, string];
    out.push([f[0], f[1]]);
  }
  return out;
}

function latexPairs(n: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const a = (i % 13) + 1,
      b = (i % 7) + 2;
    const forms: [string, string][] = [
      [`\\frac{${a}x+${b}}{${b}}`, `\\frac{${a}}{${b}}x+1`],
      [`(x+${a})^2`, `x^2+${2 * a}x+${a * a}`],
      [`${a}\\sqrt{${b * b * 3}}`, `${a * b}\\sqrt{3}`],
      [`\\sin^2(${a}t)+\\cos^2(${a}t)`, '1'],
      [`\\left(${a}, \\frac{${b}}{2}\\right)`, `(${a}, ${b / 2})`],
      [`[${-a}, ${b})`, `[${-a},${b})`],
      [`y = ${a}x + ${b}`, `${a}x - y + ${b} = 0`],
    ];
    out.push(forms[i % forms.length] as [string, string]);
  }
  return out;
}

function quantityPairs(n: number): [string, string][] {
  const out: [string, string][] = [];
  const units: [string, string, number][] = [
    ['m/s^2', 'cm/s^2', 100],
    ['kJ', 'J', 1000],
    ['\\mathrm{kJ} \\mathrm{mol}^{-1}', 'J/mol', 1000],
    ['atm', 'kPa', 101.325],
    ['nm', 'm', 1e-9],
    ['g', 'kg', 1e-3],
  ];
  for (let i = 0; i < n; i++) {
    const [u, v, k] = units[i % units.length] as [string, string, number];
    const x = 1 + (i % 1000) / 10;
    out.push([`${x} ${u}`, `${x * k} ${v}`]);
  }
  return out;
}

function rate(pairs: [string, string][], kind: 'number' | 'expression' | 'quantity'): number {
  let done = 0,
    i = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    for (let k = 0; k < 200; k++) {
      const p = pairs[i++ % pairs.length] as [string, string];
      if (equivalent(p[0], p[1], { kind }).equal !== true)
        throw new Error(`bench pair ${JSON.stringify(p)} should be equal as ${kind}`);
      done++;
    }
  }
  return Math.round(done / ((performance.now() - start) / 1000));
}

/** Comparisons per second for numbers, LaTeX expressions and quantities, each measured for `SECONDS`. */
export async function benchEquivalence(): Promise<{
  bench: 'equivalence';
  numbers_per_s: number;
  latex_per_s: number;
  quantities_per_s: number;
}> {
  return {
    bench: 'equivalence',
    numbers_per_s: rate(numberPairs(50_000), 'number'),
    latex_per_s: rate(latexPairs(50_000), 'expression'),
    quantities_per_s: rate(quantityPairs(50_000), 'quantity'),
  };
}

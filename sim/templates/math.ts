/** @module sim/templates/math  Math templates: rates, percentages, areas, sequences, interest, triangles. */
import { s } from '../rng.ts';
import { template } from './types.ts';

const TRIPLES = [
  [3, 4],
  [5, 12],
  [8, 15],
  [7, 24],
  [20, 21],
  [9, 40],
  [12, 35],
  [11, 60],
  [28, 45],
  [33, 56],
] as const;

export const mathTemplates = [
  template({
    name: 'pipes',
    domain: 'math',
    givens: (r) => {
      const a = r.int(2, 8);
      const b = a + r.int(1, 6);
      return { a, b, V: a * b * r.int(5, 20) };
    },
    question: (g) =>
      s`Pipe A alone fills a ${g.V}-liter tank in ${g.a} hours and pipe B alone fills it in ${g.b} hours. How many hours do both pipes working together take to fill the empty tank?`,
    nodes: [
      ['the rate of pipe A', 'L/h', [], (v) => v.V / v.a, (v) => s`${v.V} / ${v.a}`],
      ['the rate of pipe B', 'L/h', [], (v) => v.V / v.b, (v) => s`${v.V} / ${v.b}`],
      ['the combined rate of both pipes', 'L/h', ['Q1', 'Q2'], (v) => v.Q1 + v.Q2, (v) => s`${v.Q1} + ${v.Q2}`],
    ],
    final: ['the time to fill the tank together', 'h', ['Q3'], (v) => v.V / v.Q3, (v) => s`${v.V} / ${v.Q3}`],
  }),
  template({
    name: 'discount-tax',
    domain: 'math',
    givens: (r) => ({ p: r.int(20, 500), d: r.pick([5, 10, 15, 20, 25, 30, 40]), t: r.pick([5, 6, 7, 8, 10, 12]) }),
    question: (g) =>
      s`A jacket costs ${g.p} dollars. It is discounted by ${g.d}%, and then a ${g.t}% sales tax is added to the discounted price. What is the final price in dollars?`,
    nodes: [
      ['the discount in dollars', null, [], (v) => (v.p * v.d) / 100, (v) => s`${v.p} × ${v.d} / 100`],
      ['the discounted price in dollars', null, ['Q1'], (v) => v.p - v.Q1, (v) => s`${v.p} - ${v.Q1}`],
      ['the sales tax in dollars', null, ['Q2'], (v) => (v.Q2 * v.t) / 100, (v) => s`${v.Q2} × ${v.t} / 100`],
    ],
    final: ['the final price in dollars', null, ['Q2', 'Q3'], (v) => v.Q2 + v.Q3, (v) => s`${v.Q2} + ${v.Q3}`],
  }),
  template({
    name: 'garden-path',
    domain: 'math',
    givens: (r) => ({ L: r.int(5, 40), W: r.int(3, 25), w: r.int(1, 4) }),
    question: (g) =>
      s`A rectangular garden is ${g.L} m long and ${g.W} m wide. A path ${g.w} m wide runs all around the outside of the garden. What is the area of the path in square meters?`,
    nodes: [
      ['the outer length including the path', 'm', [], (v) => v.L + 2 * v.w, (v) => s`${v.L} + 2 × ${v.w}`],
      ['the outer width including the path', 'm', [], (v) => v.W + 2 * v.w, (v) => s`${v.W} + 2 × ${v.w}`],
      ['the outer area', 'm^2', ['Q1', 'Q2'], (v) => v.Q1 * v.Q2, (v) => s`${v.Q1} × ${v.Q2}`],
      ['the area of the garden', 'm^2', [], (v) => v.L * v.W, (v) => s`${v.L} × ${v.W}`],
    ],
    final: ['the area of the path', 'm^2', ['Q3', 'Q4'], (v) => v.Q3 - v.Q4, (v) => s`${v.Q3} - ${v.Q4}`],
  }),
  template({
    name: 'theater-seats',
    domain: 'math',
    givens: (r) => {
      const n = r.int(8, 30);
      const a = r.int(10, 30);
      const d = r.int(1, 5);
      const total = (n * (2 * a + (n - 1) * d)) / 2;
      return { n, a, d, sold: Math.floor(total * (0.4 + 0.55 * r.next())), price: r.int(5, 40) };
    },
    question: (g) =>
      s`A theater has ${g.n} rows. The first row has ${g.a} seats and each row has ${g.d} more seats than the row before. ${g.sold} tickets at ${g.price} dollars each were sold for a show. How many dollars of ticket sales were lost on the unsold seats?`,
    nodes: [
      [
        'the number of seats in the last row',
        null,
        [],
        (v) => v.a + (v.n - 1) * v.d,
        (v) => s`${v.a} + (${v.n} - 1) × ${v.d}`,
      ],
      [
        'the total number of seats',
        null,
        ['Q1'],
        (v) => (v.n * (v.a + v.Q1)) / 2,
        (v) => s`${v.n} × (${v.a} + ${v.Q1}) / 2`,
      ],
      ['the number of unsold seats', null, ['Q2'], (v) => v.Q2 - v.sold, (v) => s`${v.Q2} - ${v.sold}`],
    ],
    final: ['the lost ticket sales in dollars', null, ['Q3'], (v) => v.Q3 * v.price, (v) => s`${v.Q3} × ${v.price}`],
  }),
  template({
    name: 'cylinder-fill',
    domain: 'math',
    givens: (r) => ({ r: r.int(5, 40), h: r.int(10, 120), q: r.int(1, 6) }),
    question: (g) =>
      s`A cylindrical tank has an inner radius of ${g.r} cm and a height of ${g.h} cm. Water flows in at ${g.q} liters per minute. How many minutes does it take to fill the empty tank? Use pi = 3.1416.`,
    nodes: [
      ['the base area', 'cm^2', [], (v) => 3.1416 * v.r * v.r, (v) => s`3.1416 × ${v.r}^2`],
      ['the volume of the tank', 'cm^3', ['Q1'], (v) => v.Q1 * v.h, (v) => s`${v.Q1} × ${v.h}`],
      ['the volume of the tank', 'L', ['Q2'], (v) => v.Q2 / 1000, (v) => s`${v.Q2} / 1000`],
    ],
    final: ['the filling time', 'min', ['Q3'], (v) => v.Q3 / v.q, (v) => s`${v.Q3} / ${v.q}`],
  }),
  template({
    name: 'two-legs',
    domain: 'math',
    givens: (r) => ({ d1: r.int(20, 200), v1: r.int(3, 9) * 10, d2: r.int(20, 200), v2: r.int(3, 12) * 10 }),
    question: (g) =>
      s`A car drives ${g.d1} km at ${g.v1} km/h and then ${g.d2} km at ${g.v2} km/h. What is its average speed for the whole trip in km/h?`,
    nodes: [
      ['the time for the first part', 'h', [], (v) => v.d1 / v.v1, (v) => s`${v.d1} / ${v.v1}`],
      ['the time for the second part', 'h', [], (v) => v.d2 / v.v2, (v) => s`${v.d2} / ${v.v2}`],
      ['the total distance', 'km', [], (v) => v.d1 + v.d2, (v) => s`${v.d1} + ${v.d2}`],
      ['the total time', 'h', ['Q1', 'Q2'], (v) => v.Q1 + v.Q2, (v) => s`${v.Q1} + ${v.Q2}`],
    ],
    final: ['the average speed', 'km/h', ['Q3', 'Q4'], (v) => v.Q3 / v.Q4, (v) => s`${v.Q3} / ${v.Q4}`],
  }),
  template({
    name: 'compound-interest',
    domain: 'math',
    givens: (r) => ({ P: r.int(5, 100) * 100, rate: r.int(2, 9), n: r.int(2, 6) }),
    question: (g) =>
      s`${g.P} dollars is invested at ${g.rate}% interest per year, compounded yearly. How many dollars of interest has it earned after ${g.n} years?`,
    nodes: [
      ['the yearly growth factor', null, [], (v) => 1 + v.rate / 100, (v) => s`1 + ${v.rate} / 100`],
      ['the growth factor over all the years', null, ['Q1'], (v) => v.Q1 ** v.n, (v) => s`${v.Q1}^${v.n}`],
      ['the balance at the end in dollars', null, ['Q2'], (v) => v.P * v.Q2, (v) => s`${v.P} × ${v.Q2}`],
    ],
    final: ['the interest earned in dollars', null, ['Q3'], (v) => v.Q3 - v.P, (v) => s`${v.Q3} - ${v.P}`],
  }),
  template({
    name: 'inscribed-circle',
    domain: 'math',
    givens: (r) => {
      const [a, b] = r.pick(TRIPLES);
      const k = r.int(1, 12);
      return { a: a * k, b: b * k };
    },
    question: (g) =>
      s`A right triangle has legs of ${g.a} cm and ${g.b} cm. What is the radius of its inscribed circle in cm?`,
    nodes: [
      ['the hypotenuse', 'cm', [], (v) => Math.hypot(v.a, v.b), (v) => s`sqrt(${v.a}^2 + ${v.b}^2)`],
      ['the perimeter', 'cm', ['Q1'], (v) => v.a + v.b + v.Q1, (v) => s`${v.a} + ${v.b} + ${v.Q1}`],
      ['the area of the triangle', 'cm^2', [], (v) => (v.a * v.b) / 2, (v) => s`${v.a} × ${v.b} / 2`],
      ['the semiperimeter', 'cm', ['Q2'], (v) => v.Q2 / 2, (v) => s`${v.Q2} / 2`],
    ],
    final: ['the inradius', 'cm', ['Q3', 'Q4'], (v) => v.Q3 / v.Q4, (v) => s`${v.Q3} / ${v.Q4}`],
  }),
];

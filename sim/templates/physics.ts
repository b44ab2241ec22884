/** @module sim/templates/physics  Physics templates: kinematics, circuits, energy, momentum, projectiles, heat, braking. */
import { s } from '../rng.ts';
import { template } from './types.ts';

export const physicsTemplates = [
  template({
    name: 'car-work',
    domain: 'physics',
    givens: (r) => ({ m: r.int(16, 40) * 50, u: r.int(0, 20), a: r.int(1, 5), t: r.int(3, 12) }),
    question: (g) =>
      s`A car of mass ${g.m} kg moving at ${g.u} m/s accelerates uniformly at ${g.a} m/s^2 for ${g.t} s. How much work in joules does the net force do during this time?`,
    nodes: [
      ['the final speed', 'm/s', [], (v) => v.u + v.a * v.t, (v) => s`${v.u} + ${v.a} × ${v.t}`],
      ['the average speed', 'm/s', ['Q1'], (v) => (v.u + v.Q1) / 2, (v) => s`(${v.u} + ${v.Q1}) / 2`],
      ['the distance travelled', 'm', ['Q2'], (v) => v.Q2 * v.t, (v) => s`${v.Q2} × ${v.t}`],
      ['the net force', 'N', [], (v) => v.m * v.a, (v) => s`${v.m} × ${v.a}`],
    ],
    final: ['the work done by the net force', 'J', ['Q3', 'Q4'], (v) => v.Q4 * v.Q3, (v) => s`${v.Q4} × ${v.Q3}`],
  }),
  template({
    name: 'series-circuit',
    domain: 'physics',
    givens: (r) => ({ V: r.int(6, 24), R1: r.int(2, 20), R2: r.int(2, 20), t: r.int(1, 12) * 10 }),
    question: (g) =>
      s`Two resistors of ${g.R1} ohm and ${g.R2} ohm are connected in series to a ${g.V} V battery. How much energy in joules do the two resistors dissipate together in ${g.t} s?`,
    nodes: [
      ['the equivalent resistance', 'ohm', [], (v) => v.R1 + v.R2, (v) => s`${v.R1} + ${v.R2}`],
      ['the current', 'A', ['Q1'], (v) => v.V / v.Q1, (v) => s`${v.V} / ${v.Q1}`],
      ['the power in the first resistor', 'W', ['Q2'], (v) => v.Q2 * v.Q2 * v.R1, (v) => s`${v.Q2}^2 × ${v.R1}`],
      ['the power in the second resistor', 'W', ['Q2'], (v) => v.Q2 * v.Q2 * v.R2, (v) => s`${v.Q2}^2 × ${v.R2}`],
    ],
    final: [
      'the energy dissipated',
      'J',
      ['Q3', 'Q4'],
      (v) => (v.Q3 + v.Q4) * v.t,
      (v) => s`(${v.Q3} + ${v.Q4}) × ${v.t}`,
    ],
  }),
  template({
    name: 'parallel-circuit',
    domain: 'physics',
    givens: (r) => ({ V: r.int(3, 24), R1: r.int(2, 30), R2: r.int(2, 30) }),
    question: (g) =>
      s`Resistors of ${g.R1} ohm and ${g.R2} ohm are connected in parallel across a ${g.V} V source. What total power in watts does the source deliver?`,
    nodes: [
      ['the current through the first resistor', 'A', [], (v) => v.V / v.R1, (v) => s`${v.V} / ${v.R1}`],
      ['the current through the second resistor', 'A', [], (v) => v.V / v.R2, (v) => s`${v.V} / ${v.R2}`],
      ['the total current', 'A', ['Q1', 'Q2'], (v) => v.Q1 + v.Q2, (v) => s`${v.Q1} + ${v.Q2}`],
    ],
    final: ['the total power', 'W', ['Q3'], (v) => v.V * v.Q3, (v) => s`${v.V} × ${v.Q3}`],
  }),
  template({
    name: 'slide-energy',
    domain: 'physics',
    givens: (r) => ({ m: r.int(1, 20), h: r.int(2, 30), loss: r.int(1, 8) * 5 }),
    question: (g) =>
      s`A block of mass ${g.m} kg slides down from a height of ${g.h} m. Friction removes ${g.loss}% of its potential energy on the way down. What is its speed at the bottom in m/s? Use g = 9.8 m/s^2.`,
    nodes: [
      ['the potential energy at the top', 'J', [], (v) => v.m * 9.8 * v.h, (v) => s`${v.m} × 9.8 × ${v.h}`],
      ['the energy lost to friction', 'J', ['Q1'], (v) => (v.Q1 * v.loss) / 100, (v) => s`${v.Q1} × ${v.loss} / 100`],
      ['the kinetic energy at the bottom', 'J', ['Q1', 'Q2'], (v) => v.Q1 - v.Q2, (v) => s`${v.Q1} - ${v.Q2}`],
    ],
    final: [
      'the speed at the bottom',
      'm/s',
      ['Q3'],
      (v) => Math.sqrt((2 * v.Q3) / v.m),
      (v) => s`sqrt(2 × ${v.Q3} / ${v.m})`,
    ],
  }),
  template({
    name: 'sticky-collision',
    domain: 'physics',
    givens: (r) => ({ m1: r.int(1, 10), v1: r.int(4, 20), m2: r.int(1, 10), v2: r.int(0, 3) }),
    question: (g) =>
      s`A cart of mass ${g.m1} kg moving at ${g.v1} m/s collides with a ${g.m2} kg cart moving at ${g.v2} m/s in the same direction, and they stick together. What is their common speed after the collision in m/s?`,
    nodes: [
      ['the momentum of the first cart', 'kg*m/s', [], (v) => v.m1 * v.v1, (v) => s`${v.m1} × ${v.v1}`],
      ['the momentum of the second cart', 'kg*m/s', [], (v) => v.m2 * v.v2, (v) => s`${v.m2} × ${v.v2}`],
      ['the total momentum', 'kg*m/s', ['Q1', 'Q2'], (v) => v.Q1 + v.Q2, (v) => s`${v.Q1} + ${v.Q2}`],
      ['the total mass', 'kg', [], (v) => v.m1 + v.m2, (v) => s`${v.m1} + ${v.m2}`],
    ],
    final: ['the common speed', 'm/s', ['Q3', 'Q4'], (v) => v.Q3 / v.Q4, (v) => s`${v.Q3} / ${v.Q4}`],
  }),
  template({
    name: 'cliff-throw',
    domain: 'physics',
    givens: (r) => ({ h: r.int(5, 80), u: r.int(2, 30) }),
    question: (g) =>
      s`A ball is thrown horizontally at ${g.u} m/s from the top of a ${g.h} m high cliff. How far in meters is the landing point from the launch point, in a straight line? Use g = 9.8 m/s^2.`,
    nodes: [
      ['the time of flight', 's', [], (v) => Math.sqrt((2 * v.h) / 9.8), (v) => s`sqrt(2 × ${v.h} / 9.8)`],
      ['the horizontal distance', 'm', ['Q1'], (v) => v.u * v.Q1, (v) => s`${v.u} × ${v.Q1}`],
    ],
    final: [
      'the straight-line distance',
      'm',
      ['Q2'],
      (v) => Math.hypot(v.Q2, v.h),
      (v) => s`sqrt(${v.Q2}^2 + ${v.h}^2)`,
    ],
  }),
  template({
    name: 'kettle',
    domain: 'physics',
    givens: (r) => ({ m: r.int(1, 8) / 2, T1: r.int(10, 30), T2: r.int(50, 95), P: r.int(5, 30) * 100 }),
    question: (g) =>
      s`An electric kettle of ${g.P} W heats ${g.m} kg of water from ${g.T1} °C to ${g.T2} °C. Ignoring losses, how many minutes does it take? The specific heat of water is 4186 J/(kg·K).`,
    nodes: [
      ['the temperature rise', 'K', [], (v) => v.T2 - v.T1, (v) => s`${v.T2} - ${v.T1}`],
      ['the heat needed', 'J', ['Q1'], (v) => v.m * 4186 * v.Q1, (v) => s`${v.m} × 4186 × ${v.Q1}`],
      ['the heating time', 's', ['Q2'], (v) => v.Q2 / v.P, (v) => s`${v.Q2} / ${v.P}`],
    ],
    final: ['the heating time in minutes', 'min', ['Q3'], (v) => v.Q3 / 60, (v) => s`${v.Q3} / 60`],
  }),
  template({
    name: 'braking',
    domain: 'physics',
    givens: (r) => ({ m: r.int(16, 40) * 50, kmh: r.int(4, 13) * 10, mu: r.int(4, 9) / 10, tr: r.int(5, 15) / 10 }),
    question: (g) =>
      s`A car of mass ${g.m} kg travels at ${g.kmh} km/h. The driver reacts after ${g.tr} s and then brakes; the friction coefficient between tires and road is ${g.mu}. What is the total stopping distance in meters? Use g = 9.8 m/s^2.`,
    nodes: [
      ['the initial speed', 'm/s', [], (v) => v.kmh / 3.6, (v) => s`${v.kmh} / 3.6`],
      ['the friction force', 'N', [], (v) => v.mu * v.m * 9.8, (v) => s`${v.mu} × ${v.m} × 9.8`],
      ['the deceleration', 'm/s^2', ['Q2'], (v) => v.Q2 / v.m, (v) => s`${v.Q2} / ${v.m}`],
      ['the reaction distance', 'm', ['Q1'], (v) => v.Q1 * v.tr, (v) => s`${v.Q1} × ${v.tr}`],
      [
        'the braking distance',
        'm',
        ['Q1', 'Q3'],
        (v) => (v.Q1 * v.Q1) / (2 * v.Q3),
        (v) => s`${v.Q1}^2 / (2 × ${v.Q3})`,
      ],
    ],
    final: ['the total stopping distance', 'm', ['Q4', 'Q5'], (v) => v.Q4 + v.Q5, (v) => s`${v.Q4} + ${v.Q5}`],
  }),
];

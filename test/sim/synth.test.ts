import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { problemInput } from '../../schemas/problems.ts';
import { evalStep, synth, synthRow, writeSynth } from '../../sim/synth.ts';
import { fmt } from '../../sim/rng.ts';

const tmp = () => mkdtemp(join(tmpdir(), 'tp-synth-'));

describe('synth', () => {
  it('writes the same JSONL for the same seed and a different one for another seed', async () => {
    const dir = await tmp();
    expect(await writeSynth(join(dir, 'a.jsonl'), { n: 60, seed: 7 })).toBe(60);
    await writeSynth(join(dir, 'b.jsonl'), { n: 60, seed: 7 });
    await writeSynth(join(dir, 'c.jsonl'), { n: 60, seed: 8 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((f) => readFile(join(dir, `${f}.jsonl`), 'utf8')));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a!.trim().split('\n')).toHaveLength(60);
  });

  it('makes problem 1 of seed 1 exactly (the bank is pinned)', () => {
    expect(synthRow(synth({ n: 2, seed: 1 })[1]!)).toEqual({
      problem_id: 'synth-1-0001',
      domain: 'physics',
      images: [],
      choices: [],
      question:
        'Two resistors of 14 ohm and 2 ohm are connected in series to a 20 V battery. How much energy in joules do the two resistors dissipate together in 40 s?',
      answer: 1000,
      answer_spec: { kind: 'quantity', tolerance: 0.001, unit: 'J' },
      ars: [
        {
          node_id: 'Q1',
          question: 'What is the equivalent resistance in ohm?',
          depends_on: [],
          answer: 16,
          answer_spec: { kind: 'quantity', tolerance: 0.001, unit: 'ohm' },
          uses_image: false,
        },
        {
          node_id: 'Q2',
          question: 'What is the current in A?',
          depends_on: ['Q1'],
          answer: 1.25,
          answer_spec: { kind: 'quantity', tolerance: 0.001, unit: 'A' },
          uses_image: false,
        },
        {
          node_id: 'Q3',
          question: 'What is the power in the first resistor in W?',
          depends_on: ['Q2'],
          answer: 21.88,
          answer_spec: { kind: 'quantity', tolerance: 0.001, unit: 'W' },
          uses_image: false,
        },
        {
          node_id: 'Q4',
          question: 'What is the power in the second resistor in W?',
          depends_on: ['Q2'],
          answer: 3.125,
          answer_spec: { kind: 'quantity', tolerance: 0.001, unit: 'W' },
          uses_image: false,
        },
      ],
    });
  });

  const bank = synth({ n: 300, seed: 1 });

  it('makes 300 problems over 3 domains from at least 6 templates each, with unique ids and questions', () => {
    const count = (xs: string[]) =>
      Object.fromEntries([...new Set(xs)].sort().map((x) => [x, xs.filter((y) => y === x).length]));
    expect(count(bank.map((p) => p.input.domain))).toEqual({ chemistry: 100, math: 100, physics: 100 });
    for (const d of ['math', 'physics', 'chemistry']) {
      expect(new Set(bank.filter((p) => p.input.domain === d).map((p) => p.template)).size).toBeGreaterThanOrEqual(6);
    }
    expect(new Set(bank.map((p) => p.input.problem_id)).size).toBe(300);
    expect(new Set(bank.map((p) => p.input.question)).size).toBe(300);
  });

  it('gives every problem a DAG of 2-6 nodes, parents first, whose gold answers satisfy the formulas', () => {
    let joins = 0;
    let parallel = 0;
    for (const p of bank) {
      const ids = p.input.ars.map((a) => a.node_id);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      expect(ids.length).toBeLessThanOrEqual(6);
      const gold: Record<string, number> = {};
      for (const [i, a] of p.input.ars.entries()) {
        for (const d of a.depends_on)
          expect(ids.indexOf(d), `${p.input.problem_id} ${a.node_id} -> ${d}`).toBeLessThan(i);
        const step = p.steps[i]!;
        expect(a.answer).toBe(fmt(evalStep(step, p.givens, gold)));
        gold[a.node_id] = Number(a.answer);
        if (a.depends_on.length >= 2) joins++;
      }
      expect(p.input.answer).toBe(fmt(evalStep(p.final, p.givens, gold)));
      const sinks = ids.filter((id) => !p.input.ars.some((a) => a.depends_on.includes(id)));
      for (const s of sinks) expect(p.final.deps).toContain(s);
      if (p.input.ars.filter((a) => a.depends_on.length === 0).length >= 2) parallel++;
    }
    expect(joins).toBeGreaterThan(100);
    expect(parallel).toBeGreaterThan(100);
  });

  it('writes rows that validate as problem input and read back as the same problem', () => {
    for (const p of bank.slice(0, 30)) {
      const v = problemInput.validate(JSON.parse(JSON.stringify(synthRow(p))));
      expect(v).toEqual({ ok: true, value: p.input });
    }
  });

  it('makes a smaller bank a prefix of a larger one', () => {
    expect(synth({ n: 50, seed: 1 }).map((p) => p.input)).toEqual(bank.slice(0, 50).map((p) => p.input));
  });

  it.each([
    [{ n: -1, seed: 1 }, 'synth expected n to be a non-negative integer, got -1'],
    [{ n: 5, seed: 1.5 }, 'synth expected seed to be a non-negative integer, got 1.5'],
  ])('rejects %j', (opts, message) => {
    expect(() => synth(opts)).toThrow(message);
  });
});

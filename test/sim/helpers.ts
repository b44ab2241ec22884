/** @module test/sim/helpers  Shared pieces of the simulator tests: ARS rows of a synth problem, simulators closed after the file, the openai client. */
import { afterAll } from 'vitest';
import OpenAI from 'openai';
import type { ArsNode, Problem } from '../../schemas/problems.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/server.ts';
import type { SynthProblem } from '../../sim/synth.ts';

/** ARS node rows as the pipeline stores them: Q1..Qn in order, then F. */
export function nodes(p: SynthProblem): ArsNode[] {
  const { input } = p;
  return [
    ...input.ars.map((a, i) => ({ ...a, problem_id: input.problem_id, position: i, is_final: false })),
    {
      problem_id: input.problem_id,
      node_id: 'F',
      position: input.ars.length,
      question: input.question,
      depends_on: [],
      answer: input.answer,
      answer_spec: input.answer_spec,
      uses_image: false,
      is_final: true,
    },
  ];
}

/** The problem row of a synth problem. */
export function problemRow(p: SynthProblem): Problem {
  const { ars: _ars, ...fields } = p.input;
  return { ...fields, source: 'test', content_hash: p.input.problem_id, role: 'data' };
}

/** Starts simulators (seed 1, 60 problems unless told) that are closed after the test file. */
export function simulators(): (o?: SimulatorOptions) => Promise<Simulator> {
  const sims: Simulator[] = [];
  afterAll(() => Promise.all(sims.map((s) => s.close())));
  return async (o = {}) => {
    const s = await startSimulator({ seed: 1, n: 60, ...o });
    sims.push(s);
    return s;
  };
}

/** The real openai client against a simulator (or any URL), with no retries. */
export const client = (s: { url: string } | string) =>
  new OpenAI({ baseURL: `${typeof s === 'string' ? s : s.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });

export const withUnit = (x: string, unit: string | null) => (unit ? `${x} ${unit}` : x);

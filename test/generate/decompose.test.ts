import { describe, it, expect, afterEach } from 'vitest';
import { checkProposal, reveals } from '../../stages/decompose/decompose.ts';
import { runDecompose } from './helpers.ts';
import { startFake, type Fake } from './fake.ts';
import { ars, cfgFor, problem, tempStore } from './helpers.ts';

let fake: Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
const node = (node_id: string, question: string, depends_on: string[] = [], answer = '5') => ({
  node_id,
  question,
  depends_on,
  uses_image: false,
  answer,
});
const reply = (nodes: unknown[], final_answer = '42') => JSON.stringify({ nodes, final_answer });
const p42 = problem('p', { question: 'A box holds 6 rows of 7. How many?', answer: '42' });

describe('checkProposal', () => {
  it('builds the ARS in order with F last, answers not stored', () => {
    const r = checkProposal(
      p42,
      reply([
        node('Q1', 'How many rows?'),
        node('Q2', 'How many per row?'),
        node('Q3', 'Multiply Q1 by Q2?', ['Q1', 'Q2']),
      ]),
    );
    expect(r.ok && r.nodes.map((n) => [n.node_id, n.position, n.depends_on, n.answer])).toEqual([
      ['Q1', 0, [], null],
      ['Q2', 1, [], null],
      ['Q3', 2, ['Q1', 'Q2'], null],
      ['F', 3, ['Q3'], '42'],
    ]);
  });

  it.each([
    ['not json', '{"nodes": [', 'invalid_json', /^reply is not valid JSON/],
    ['no nodes', '{"final_answer": "1"}', 'schema', /^reply has no "nodes" list$/],
    [
      'leak',
      reply([node('Q1', 'Is the total 42 boxes?')]),
      'invalid_ars',
      /^node Q1 reveals the final answer "42" in its question$/,
    ],
    [
      'restates',
      reply([node('Q1', 'A box holds 6 rows of 7.  How many?')]),
      'invalid_ars',
      /^node Q1 restates the whole problem$/,
    ],
    [
      'long answer',
      reply([node('Q1', 'Rows?', [], 'there are six rows in the box as drawn')]),
      'invalid_ars',
      /^node Q1 answer should be short \(at most 40 characters, 6 words\), got "there are six rows in the box as drawn"$/,
    ],
    [
      'cycle',
      reply([node('Q1', 'a?', ['Q2']), node('Q2', 'b?', ['Q1'])]),
      'invalid_ars',
      /^ARS of problem p has a cycle: Q1 → Q2 → Q1$|^ARS of problem p has a cycle: Q2 → Q1 → Q2$/,
    ],
    [
      'dangling',
      reply([node('Q1', 'a?', ['Q7'])]),
      'invalid_ars',
      /^ARS node Q1 of problem p depends on Q7, which does not exist$/,
    ],
    ['bad id', reply([node('step1', 'a?')]), 'invalid_ars', /^node 0 should have a node_id like Q1, got "step1"$/],
  ])('%s', (_name, text, code, message) => {
    const r = checkProposal(p42, text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.messages[0]).toMatch(message);
    }
  });

  it('tests leaks on whole tokens only, and skips one-character answers', () => {
    expect(reveals('Is it 42?', '42')).toBe(true);
    expect(reveals('What is 420 / 10?', '42')).toBe(false);
    expect(reveals('What is 4.2 times 10?', '4.2')).toBe(true);
    expect(reveals('Which of (A) to (E)?', 'A')).toBe(false);
  });
});

describe('decompose', () => {
  it('keeps given ARSs, decomposes the rest, re-asks a leaking proposal, rejects one that stays invalid', async () => {
    fake = await startFake({
      reply: (r) => {
        const u = JSON.stringify(r.body.messages);
        const reask = u.includes('A previous decomposition could not be used');
        if (u.includes('p-leak'))
          return {
            content: reask
              ? reply([node('Q1', 'Rows?'), node('Q2', 'Product of Q1 and 7?', ['Q1'])])
              : reply([node('Q1', 'Is it 42?')]),
          };
        if (u.includes('p-cycle')) return { content: reply([node('Q1', 'a?', ['Q2']), node('Q2', 'b?', ['Q1'])]) };
        return { content: reply([node('Q1', 'Rows?')]) };
      },
    });
    const { store } = await tempStore();
    const problems = [problem('p-given'), problem('p-ok'), problem('p-leak', { answer: '42' }), problem('p-cycle')];
    const fOnly = (id: string) =>
      ars(id)
        .filter((n) => n.is_final)
        .map((n) => ({ ...n, position: 0, depends_on: [] }));
    const out = await runDecompose(
      { problems, nodes: [...ars('p-given'), ...fOnly('p-ok'), ...fOnly('p-leak'), ...fOnly('p-cycle')] },
      cfgFor(fake.url, { max_reasks: 1 }),
      { store },
    );
    expect(out.nodes.map((n) => `${n.problem_id}:${n.node_id}`)).toEqual([
      'p-given:Q1',
      'p-given:Q2',
      'p-given:F',
      'p-ok:Q1',
      'p-ok:F',
      'p-leak:Q1',
      'p-leak:Q2',
      'p-leak:F',
      'p-cycle:F',
    ]);
    expect(out.rejects.map((r) => [r.item, r.code, r.path])).toEqual([['p-cycle', 'invalid_ars', 'reply']]);
    expect(out.rejects[0]!.message).toMatch(
      /^problem p-cycle: ARS of problem p-cycle has a cycle: .* \(after 1 re-asks\)$/,
    );
    expect(out.stats).toMatchObject({ kept: 1, decomposed: 2, rejected: 1, reasks: 2, requests: 5 });
    expect(fake.requests.every((r) => (r.body.response_format as { type: string }).type === 'json_schema')).toBe(true);
    store.close();
  });
});

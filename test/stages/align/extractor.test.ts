import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ArsNode, PathRow } from '../../../schemas/index.ts';
import {
  alignWithExtractor,
  extractorSchema,
  parseExtractorReply,
  type ExtractorCall,
} from '../../../stages/align/extractor.ts';
import { startFake, type Fake } from '../../generate/fake.ts';

const spec = { kind: 'number' as const, tolerance: null, unit: null };
const node = (node_id: string, position: number, answer: string, depends_on: string[]): ArsNode => ({
  problem_id: 'p1',
  node_id,
  position,
  question: `q ${node_id}`,
  depends_on,
  answer,
  answer_spec: spec,
  uses_image: false,
  is_final: node_id === 'F',
});
const nodes = [node('Q1', 0, '9', []), node('F', 1, '18', ['Q1'])];
const steps = ['Janet sells 16 - 3 - 4 = 9 eggs.', 'She makes 9 * 2 = $18.'];
const path: PathRow = {
  run_id: 'r',
  problem_id: 'p1',
  path_id: 'p1/a',
  mode: 'free',
  sample_index: 0,
  model: 'm',
  steps,
  node_answers: [],
  final_answer: null,
  given_correct: null,
  finish_reason: null,
  tokens_in: 0,
  tokens_out: 0,
};

describe('parseExtractorReply', () => {
  it('accepts one entry per node and returns them in node order', () => {
    const r = parseExtractorReply(
      '{"nodes":[{"node_id":"F","step":1,"answer":"18"},{"node_id":"Q1","step":0,"answer":" 9 "}]}',
      nodes,
      2,
    );
    expect(r).toEqual({
      ok: true,
      answers: [
        { node_id: 'Q1', answer: '9', step: 0 },
        { node_id: 'F', answer: '18', step: 1 },
      ],
    });
  });

  it.each([
    ['{"nodes":[{"node_id":"Q1","step":0,"answer":"9"}', 'invalid_json', /^extractor reply is not valid JSON/],
    ['{"answers":[]}', 'invalid_type', /^extractor reply should have a "nodes" array, got \{"answers":\[\]\}$/],
    [
      '{"nodes":[{"node_id":"Q1","step":5,"answer":"9"},{"node_id":"F","step":1,"answer":"18"}]}',
      'out_of_range',
      /^extractor reply gives node Q1 step 5, expected an integer from 0 to 1 or null$/,
    ],
    [
      '{"nodes":[{"node_id":"Q7","step":0,"answer":"9"},{"node_id":"F","step":1,"answer":"18"}]}',
      'invalid_reference',
      /^extractor reply entry 0 names node "Q7", which is not one of Q1, F$/,
    ],
    [
      '{"nodes":[{"node_id":"Q1","step":null,"answer":"9"},{"node_id":"F","step":1,"answer":"18"}]}',
      'invalid_value',
      /^extractor reply gives node Q1 an answer but no step$/,
    ],
    ['{"nodes":[{"node_id":"F","step":1,"answer":"18"}]}', 'missing', /^extractor reply has no entry for node Q1$/],
    [
      '{"nodes":[{"node_id":"Q1","step":0,"answer":9},{"node_id":"F","step":1,"answer":"18"}]}',
      'invalid_type',
      /^extractor reply gives node Q1 answer 9, expected a string or null$/,
    ],
  ])('rejects %s with %s', (reply, code, message) => {
    const r = parseExtractorReply(reply, nodes, 2);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues[0]!.code).toBe(code);
      expect(r.issues[0]!.message).toMatch(message);
    }
  });
});

describe('extractorSchema', () => {
  it('asks for exactly one entry per node id', () => {
    const s = extractorSchema(nodes).schema as {
      properties: { nodes: { minItems: number; items: { properties: { node_id: { enum: string[] } } } } };
    };
    expect(s.properties.nodes.minItems).toBe(2);
    expect(s.properties.nodes.items.properties.node_id.enum).toEqual(['Q1', 'F']);
  });
});

describe('alignWithExtractor through the openai SDK and a local server', () => {
  let fake: Fake;
  let replies: string[];
  beforeAll(async () => {
    fake = await startFake({ reply: (_req, _i) => ({ content: replies.shift() ?? '{}' }) });
  });
  afterAll(async () => {
    await fake.close();
  });
  const call = (): ExtractorCall => {
    const sdk = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
    return async (req) => {
      const r = await sdk.chat.completions.create({
        model: 'extractor',
        messages: req.messages,
        max_tokens: req.max_tokens,
        ...(req.json_schema ? { response_format: { type: 'json_schema' as const, json_schema: req.json_schema } } : {}),
      });
      return {
        ok: true,
        content: r.choices[0]?.message.content ?? '',
        finish_reason: r.choices[0]?.finish_reason ?? null,
        tokens_in: 0,
        tokens_out: 0,
        cached: false,
      };
    };
  };

  it('re-asks after an invalid reply, then fills node answers and the final answer', async () => {
    replies = [
      '{"nodes":[{"node_id":"Q1","step":0,"answer":"9"}]}',
      '{"nodes":[{"node_id":"Q1","step":0,"answer":"9"},{"node_id":"F","step":1,"answer":"18"}]}',
    ];
    const before = fake.requests.length;
    const r = await alignWithExtractor(path, nodes, call());
    expect(r.issues).toEqual([]);
    expect(r.path.node_answers).toEqual([
      { node_id: 'Q1', answer: '9', step: 0 },
      { node_id: 'F', answer: '18', step: 1 },
    ]);
    expect(r.path.final_answer).toBe('18');
    const second = fake.requests[before + 1]!.body;
    expect(second.response_format?.type).toBe('json_schema');
    expect(JSON.stringify(second.messages.at(-1)!.content)).toContain('extractor reply has no entry for node F');
  });

  it('gives up after maxReasks invalid replies and returns the path unchanged with the issues', async () => {
    replies = ['not json', 'not json'];
    const r = await alignWithExtractor(path, nodes, call(), { maxReasks: 1 });
    expect(r.path).toBe(path);
    expect(r.issues[0]!.code).toBe('invalid_json');
  });
});

import { describe, it, expect } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  continuationMessages,
  continuationRequest,
  continueInstruction,
  parseContinuation,
} from '../../../stages/lib/continuation.ts';

const original: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a careful STEM solver. Solve the problem step by step.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Problem:\nA car covers 120 m in 4 s. What is its speed?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ],
  },
];
const prefix = ['Step 1: The distance is 120 m.', 'Step 2: The time is 4 s.'];

describe('continuationMessages', () => {
  it('starts with exactly the bytes of the original messages, then the prefix and the instruction', () => {
    const before = JSON.stringify(original);
    const m = continuationMessages(original, prefix);
    expect(JSON.stringify(original)).toBe(before);
    // the serialised request starts with the serialised original (its closing bracket aside): a prefix cache hits
    expect(JSON.stringify(m).startsWith(before.slice(0, -1))).toBe(true);
    expect(m.slice(2)).toEqual([
      { role: 'assistant', content: 'Step 1: The distance is 120 m.\nStep 2: The time is 4 s.' },
      {
        role: 'user',
        content:
          'Continue the solution above from the step after its last one; do not repeat the 2 steps already written. Write each remaining step on its own line starting with "Step k:", from "Step 3:". End with a line "Final answer: <answer>".',
      },
    ]);
  });

  it('omits the assistant turn for a prefix of zero steps and asks for the whole solution', () => {
    const m = continuationMessages(original, []);
    expect(m.slice(0, 2)).toEqual(original);
    expect(m.slice(2)).toEqual([{ role: 'user', content: continueInstruction(0) }]);
    expect(continueInstruction(0)).toMatch(/from "Step 1:"/);
    expect(continueInstruction(1)).toMatch(/the 1 step already written.*from "Step 2:"/);
  });

  it('makes a free-text request with the original token budget', () => {
    const r = continuationRequest(
      { messages: original, max_tokens: 700, json_schema: { name: 'x', schema: {} } },
      prefix,
    );
    expect(r).toEqual({ messages: continuationMessages(original, prefix), max_tokens: 700, json_schema: null });
  });
});

describe('parseContinuation', () => {
  it.each([
    [
      'Step 3: The speed is 120 / 4 = 30 m/s.\nStep 4: So it is 30 m/s.\nFinal answer: 30 m/s',
      ['Step 3: The speed is 120 / 4 = 30 m/s.', 'Step 4: So it is 30 m/s.', 'Final answer: 30 m/s'],
      '30 m/s',
    ],
    ['Step 3: The speed is\n30 m/s.', ['Step 3: The speed is\n30 m/s.'], null],
    ['', [], null],
  ])('cuts %j into steps and a final answer', (text, steps, final) => {
    expect(parseContinuation(text)).toEqual({ steps, final_answer: final });
  });
});

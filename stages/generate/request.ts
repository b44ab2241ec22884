/**
 * @module stages/generate/request
 * The requests generate sends and the first check of a free reply: the guided or free prompt with
 * the problem's images, a re-ask's note. Rectification rebuilds a path's request from here, so a
 * continuation starts with the original request's exact bytes.
 */
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ArsNode, Problem } from '../../schemas/index.ts';
import type { PathMode } from '../../schemas/paths.ts';
import type { ImagePart, SampleRequest } from '../lib/ports.ts';
import {
  freeMessages,
  guidedMessages,
  guidedSchema,
  parseFree,
  type ChatMessage,
  type ParseResult,
} from '../lib/prompts.ts';

/**
 * The request of a path of `mode`: the guided or free prompt, the problem's images on the user turn,
 * and the guided schema. Rectification rebuilds it so that a continuation starts with its exact bytes.
 */
export function pathRequest(
  p: Pick<Problem, 'question' | 'choices'>,
  mode: PathMode,
  nodes: readonly ArsNode[],
  images: ImagePart[],
  maxTokens: number,
): SampleRequest {
  return {
    messages: withImages(mode === 'ars-guided' ? guidedMessages(p, nodes) : freeMessages(p), images),
    max_tokens: maxTokens,
    json_schema: mode === 'ars-guided' ? guidedSchema(nodes) : null,
  };
}

/** A free reply is usable when it states a final answer; one without is re-asked like a schema miss. */
export function checkFree(text: string): ParseResult {
  const value = parseFree(text);
  return value.final_answer === null
    ? { ok: false, code: 'no_final_answer', message: 'reply has no line "Final answer: <answer>"' }
    : { ok: true, value };
}

/** The prompt's messages with the images appended to the user turn as image_url parts. */
function withImages(messages: ChatMessage[], images: ImagePart[]): ChatCompletionMessageParam[] {
  return messages.map((msg): ChatCompletionMessageParam => {
    if (msg.role !== 'user' || images.length === 0)
      return msg.role === 'system'
        ? { role: 'system', content: msg.content }
        : msg.role === 'user'
          ? { role: 'user', content: msg.content }
          : { role: 'assistant', content: msg.content };
    const parts: ChatCompletionContentPart[] = [{ type: 'text', text: msg.content }, ...images];
    return { role: 'user', content: parts };
  });
}

/** The messages with `note` appended to the last user turn (text part, images kept). */
export function withNote(messages: ChatCompletionMessageParam[], note: string): ChatCompletionMessageParam[] {
  const at = messages.map((m) => m.role).lastIndexOf('user');
  return messages.map((m, i) => {
    if (i !== at || m.role !== 'user') return m;
    if (typeof m.content === 'string') return { role: 'user', content: `${m.content}\n\n${note}` };
    return { role: 'user', content: [...m.content, { type: 'text', text: note }] };
  });
}

/**
 * @module stages/lib/continuation
 * The continuation protocol behind rectified step pairs (TRACE.md "Preference, step level"): the
 * request that asks a model to go on from the first steps of one of its paths, and the parser of
 * the reply. Pure, no I/O: the rectify stage sends it through the model port, and the simulator
 * answers it.
 *
 * A continuation request is the original request's messages, unchanged and first (so the new
 * prompt starts with exactly the bytes of the original and a server's prefix cache hits), then an
 * assistant turn holding the prefix steps one per line, then a user turn asking for the rest as
 * "Step k:" lines ending "Final answer: <answer>". With a prefix of zero steps the assistant turn
 * is omitted (an empty assistant turn is refused by some servers' message validation) and the user
 * turn asks for the whole solution from "Step 1:"; the original messages stay the exact prefix.
 * The reply is free text whatever the original was (guided or free): `json_schema` is null.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { SampleRequest } from './ports.ts';
import { parseFree } from './prompts.ts';

/** The user turn after a prefix of `done` steps. */
export function continueInstruction(done: number): string {
  if (done === 0)
    return 'Solve the problem again from its first step. Write each step on its own line starting with "Step k:", from "Step 1:". End with a line "Final answer: <answer>".';
  return `Continue the solution above from the step after its last one; do not repeat the ${done} step${done === 1 ? '' : 's'} already written. Write each remaining step on its own line starting with "Step k:", from "Step ${done + 1}:". End with a line "Final answer: <answer>".`;
}

/** The messages of a continuation: `original` unchanged, the prefix as an assistant turn (none for zero steps), the instruction. */
export function continuationMessages(
  original: readonly ChatCompletionMessageParam[],
  prefixSteps: readonly string[],
): ChatCompletionMessageParam[] {
  return [
    ...original,
    ...(prefixSteps.length ? [{ role: 'assistant' as const, content: prefixSteps.join('\n') }] : []),
    { role: 'user', content: continueInstruction(prefixSteps.length) },
  ];
}

/** The whole continuation request of `original` after `prefixSteps`: same token budget, free-text reply. */
export function continuationRequest(original: SampleRequest, prefixSteps: readonly string[]): SampleRequest {
  return {
    messages: continuationMessages(original.messages, prefixSteps),
    max_tokens: original.max_tokens,
    json_schema: null,
  };
}

/** A continuation reply cut into its steps (the "Final answer:" line is the last step, as in free paths) and its final answer. */
export function parseContinuation(text: string): { steps: string[]; final_answer: string | null } {
  const { steps, final_answer } = parseFree(text);
  return { steps, final_answer };
}

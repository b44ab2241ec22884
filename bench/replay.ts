/**
 * @module bench/replay
 * A REPLAY server for benchmarks: an OpenAI-compatible chat-completions endpoint on 127.0.0.1 that
 * answers a free prompt about a GSM8K problem with one of that problem's stored real solutions
 * (../shared/data/gsm8k/example_model_solutions.jsonl), not with a model. Sample `i` (one request
 * per sample, seed = base seed + i) gets the problem's solution `i` in file order, written as
 * "Step k:" lines and "Final answer:", so an adaptive draw takes the next stored solution. It counts
 * the requests it answers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { GSM8K_SOLUTION_KEYS, normaliseQuestion, splitSolution } from '../stages/ingest/gsm8k.ts';

export interface Replay {
  url: string;
  requests(): number;
  close(): Promise<void>;
}

/** The stored solutions of each problem, by normalised question, in file order. */
export async function storedSolutions(file: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as Record<string, { solution?: unknown } | string | undefined>;
    const sols = GSM8K_SOLUTION_KEYS.flatMap((k) => {
      const s = v[k];
      return typeof s === 'object' && typeof s.solution === 'string' ? [s.solution] : [];
    });
    out.set(normaliseQuestion(String(v.question)), sols);
  }
  return out;
}

/** A stored solution as a free reply: its lines as "Step k:" lines, then "Final answer: <its A: line>". */
export function asFreeReply(solution: string): string {
  const { steps, final_answer } = splitSolution(solution);
  return `${steps.map((s, i) => `Step ${i + 1}: ${s}`).join('\n')}\nFinal answer: ${final_answer ?? ''}`;
}

/** Starts the replay server; `baseSeed` is the run's `generate.seed`. */
export async function startReplay(solutionsFile: string, baseSeed: number): Promise<Replay> {
  const stored = await storedSolutions(solutionsFile);
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        messages?: { role: string; content: unknown }[];
        seed?: number;
        n?: number;
      };
      const user = String(body.messages?.find((m) => m.role === 'user')?.content ?? '');
      const question = user.split('Problem:\n')[1]?.split('\n\nSolve it step by step')[0] ?? '';
      const sols = stored.get(normaliseQuestion(question));
      const index = (body.seed ?? baseSeed) - baseSeed;
      const sol = sols?.[index];
      res.setHeader('content-type', 'application/json');
      if (!sol || (body.n ?? 1) !== 1) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            error: {
              message: `replay has no stored solution ${index} for this prompt (or n > 1)`,
              type: 'invalid_request_error',
              param: 'n',
              code: null,
            },
          }),
        );
        return;
      }
      requests++;
      const content = asFreeReply(sol);
      res.end(
        JSON.stringify({
          id: `replay-${requests}`,
          object: 'chat.completion',
          created: 0,
          model: 'gsm8k-replay',
          system_fingerprint: 'tracepipe-gsm8k-replay',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: Math.ceil(user.length / 4), completion_tokens: Math.ceil(content.length / 4) },
        }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

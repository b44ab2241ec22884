/**
 * @module test/generate/fake
 * A tiny OpenAI-compatible chat server for generate's tests: it answers guided prompts with
 * JSON built from the request's schema and free prompts with "Step k:" lines, deterministically
 * from the request (seed, messages), and can refuse `n`, fail, rate-limit or hang on demand.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeBody {
  model: string;
  messages: { role: string; content: unknown }[];
  n?: number;
  seed?: number;
  max_tokens?: number;
  response_format?: {
    type: string;
    json_schema?: { schema: { properties: { steps: { items: { properties: { node_id: { enum: string[] } } } } } } };
  };
}
export interface FakeRequest {
  body: FakeBody;
  headers: IncomingMessage['headers'];
}
/** Returns a reply override for a request (status, headers, body), or null for the normal answer. */
export type Fault = (
  req: FakeRequest,
  count: number,
) => { status: number; headers?: Record<string, string>; body?: string; hang?: boolean } | null;

export interface FakeOptions {
  refuseN?: boolean;
  fault?: Fault;
  latencyMs?: number;
  reply?: (req: FakeRequest, choice: number) => { content: string; finish_reason?: string };
}

export interface Fake {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

const h = (s: string) => createHash('sha256').update(s).digest('hex');

/** The default answer: guided JSON for every node in the schema, or free text; varies with seed and choice. */
export function defaultReply(req: FakeRequest, choice: number): { content: string; finish_reason?: string } {
  const salt = h(JSON.stringify(req.body.messages) + String(req.body.seed ?? '') + choice).slice(0, 6);
  const ids = req.body.response_format?.json_schema?.schema.properties.steps.items.properties.node_id.enum;
  if (ids)
    return {
      content: JSON.stringify({
        steps: ids.map((id, i) => ({ node_id: id, reasoning: `work ${salt}`, answer: String(i + 1) })),
        final: { reasoning: 'so', answer: String(parseInt(salt, 16) % 7) },
      }),
    };
  return { content: `Step 1: think ${salt}\nStep 2: compute\nFinal answer: ${parseInt(salt, 16) % 7}` };
}

/** Starts the fake on 127.0.0.1 at a free port. */
export async function startFake(opts: FakeOptions = {}): Promise<Fake> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeBody;
      const fr: FakeRequest = { body, headers: req.headers };
      requests.push(fr);
      const send = () => {
        const f = opts.fault?.(fr, requests.length);
        if (f?.hang) return;
        if (f) {
          res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
          res.end(f.body ?? JSON.stringify({ error: { message: `fault ${f.status}` } }));
          return;
        }
        const n = body.n ?? 1;
        if (n > 1 && opts.refuseN) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'n > 1 is not supported', param: 'n' } }));
          return;
        }
        const choices = Array.from({ length: n }, (_, i) => {
          const r = (opts.reply ?? defaultReply)(fr, i);
          return {
            index: i,
            message: { role: 'assistant', content: r.content },
            finish_reason: r.finish_reason ?? 'stop',
          };
        });
        const completion_tokens = choices.reduce((s, c) => s + Math.ceil(c.message.content.length / 4), 0);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: body.model,
            choices,
            usage: { prompt_tokens: 50, completion_tokens, total_tokens: 50 + completion_tokens },
          }),
        );
      };
      if (opts.latencyMs) setTimeout(send, opts.latencyMs);
      else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

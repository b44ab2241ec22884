/**
 * @module sim/server
 * The bundled model SIMULATOR: an OpenAI-compatible chat-completions server on 127.0.0.1 that
 * answers every prompt the pipeline sends (guided and free paths, decompositions, extractor
 * alignments, continuations) for synth problems from their formulas, with injected reasoning
 * errors and transport faults, and problems of any other file at random. It is a SIMULATION, not a
 * model: every response carries `system_fingerprint: "tracepipe-simulator"` and the header
 * `x-tracepipe-simulated: true` (random replies also `x-tracepipe-random: true`). Per-request work
 * is a map lookup and a few formula evaluations; nothing is logged per request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { synth, type SynthProblem } from './synth.ts';
import { rng } from './rng.ts';
import { requestFault } from './faults.ts';
import { checkRequest, completion, errorBody, FINGERPRINT } from './complete.ts';
import { resolveOptions, type SimulatorOptions } from './options.ts';
import { indexTargets, loadProblemsFile, targetKey, type ProblemBank, type RandomProblem } from './problems.ts';
import { copyStats, emptyStats, PrefixShare, SlidingWindow, statsJson, type Outcome, type SimStats } from './stats.ts';

export { OUTCOMES, statsJson, type Outcome, type SimStats } from './stats.ts';
export type { SimulatorOptions } from './options.ts';

export interface Simulator {
  url: string;
  port: number;
  /** The synth problems it knows. */
  bank: readonly SynthProblem[];
  /** The other problems of its problems file, answered at random. */
  others: readonly RandomProblem[];
  close(): Promise<void>;
  stats(): SimStats;
}

const HEADERS = { 'content-type': 'application/json', 'x-tracepipe-simulated': 'true' } as const;
const MAX_BODY = 8 << 20;

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const { em, faults, he, rpm } = resolveOptions(opts);
  const problems: ProblemBank = opts.problemsFile
    ? await loadProblemsFile(opts.problemsFile)
    : { synth: synth({ n: opts.n ?? 300, seed: opts.seed ?? 1 }), random: [] };
  const index = indexTargets(problems);
  const latencyMs = opts.latencyMs ?? 0;
  const sigma = opts.latencyJitter ?? 0.25;
  const mu = Math.log(Math.max(latencyMs, 1e-9)) - (sigma * sigma) / 2;
  const cap = opts.maxConcurrency && opts.maxConcurrency > 0 ? opts.maxConcurrency : Infinity;
  const retryAfterMs = opts.retryAfterMs ?? 1000;
  const hangMs = opts.hangMs ?? 60_000;
  const draw = opts.faultSeed === undefined ? Math.random : rng(opts.faultSeed).next;

  const stats: SimStats = emptyStats(rpm > 0 ? rpm : null);
  const minute = new SlidingWindow(60_000);
  const second = new SlidingWindow(1_000);
  const offered = new SlidingWindow(60_000);
  const shared = new PrefixShare();
  const timers = new Set<NodeJS.Timeout>();
  let active = 0;
  const waiting: Array<() => void> = [];
  let counter = 0;

  const later = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const latency = () => (latencyMs > 0 ? Math.exp(mu + sigma * gauss()) : 0);
  const acquire = () =>
    active < cap ? (active++, Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    outcome: Outcome,
    extra: Record<string, string> = {},
  ) => {
    stats.outcomes[outcome]++;
    if (res.destroyed) return;
    res.writeHead(status, { ...HEADERS, ...extra });
    res.end(JSON.stringify(body));
  };
  const tooMany = (res: ServerResponse, outcome: Outcome, why: string, waitMs = retryAfterMs, limit = cap) =>
    send(
      res,
      429,
      errorBody(
        `Rate limit reached (SIMULATED: ${why}). Please try again in ${waitMs} ms.`,
        'requests',
        null,
        'rate_limit_exceeded',
      ),
      outcome,
      {
        'retry-after': String(Math.ceil(waitMs / 1000)),
        'retry-after-ms': String(waitMs),
        'x-ratelimit-limit-requests': String(Number.isFinite(limit) ? limit : 10000),
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${waitMs}ms`,
      },
    );

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('the body is not a JSON object');
    } catch (e) {
      return send(
        res,
        400,
        errorBody(
          `We could not parse the JSON body of your request: ${(e as Error).message}`,
          'invalid_request_error',
          null,
          null,
        ),
        'bad_request',
      );
    }
    const now = performance.now();
    stats.maxRpmOffered = Math.max(stats.maxRpmOffered, offered.add(now));
    if (rpm > 0 && minute.count(now) >= rpm) {
      const wait = minute.msUntilFree(now);
      return tooMany(res, 'over_rpm', `more than ${rpm} requests in 60 s`, wait, rpm);
    }
    stats.maxRpmSeen = Math.max(stats.maxRpmSeen, minute.add(now));
    stats.maxRpsSeen = Math.max(stats.maxRpsSeen, second.add(now));
    const fault = requestFault(faults, draw());
    if (fault === '429') return tooMany(res, '429', 'injected fault');
    const checked = checkRequest(body, index, opts.refuseN ?? false);
    if (!checked.ok) return send(res, checked.status, checked.body, checked.outcome);
    if (fault === 'hang') {
      stats.outcomes.hang++;
      const t = setTimeout(() => {
        timers.delete(t);
        res.socket?.destroy();
      }, hangMs);
      timers.add(t);
      res.on('close', () => {
        clearTimeout(t);
        timers.delete(t);
      });
      return;
    }
    if (active >= cap && opts.overCapacity === '429')
      return tooMany(res, 'over_capacity', `more than ${cap} requests in flight`);
    await acquire();
    try {
      if (res.destroyed) return;
      await later(latency());
      if (fault === '5xx') {
        const [status, message] =
          draw() < 0.5
            ? [500, 'The server had an error while processing your request.']
            : [503, 'The engine is currently overloaded, please try again later.'];
        return send(res, status, errorBody(`${message} (SIMULATED fault)`, 'server_error', null, null), '5xx');
      }
      const id = `chatcmpl-sim-${++counter}`;
      const requestSeed = checked.req.seed ?? counter;
      const {
        body: out,
        choiceFaults,
        promptTokens,
        random,
      } = completion(checked.req, em, faults, requestSeed, id, he);
      stats.prompts[checked.req.kind]++;
      if (random) stats.prompts.random++;
      stats.promptTokens += promptTokens;
      stats.promptTokensShared += Math.min(
        promptTokens,
        Math.floor(shared.record(targetKey(checked.req.target), checked.req.prompt) / 4),
      );
      stats.choices.total += choiceFaults.length;
      for (const f of choiceFaults) if (f !== 'none') stats.choices[f]++;
      const outcome: Outcome = choiceFaults.includes('malformed')
        ? 'malformed'
        : choiceFaults.includes('truncated')
          ? 'truncated'
          : 'ok';
      send(res, 200, out, outcome, { 'x-request-id': id, ...(random ? { 'x-tracepipe-random': 'true' } : {}) });
    } finally {
      release();
    }
  }

  const server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && url === '/v1/sim/stats') {
      // monitoring: not counted as a request, so polling it changes no count
      res.writeHead(200, HEADERS);
      res.end(JSON.stringify(statsJson(stats)));
      return;
    }
    stats.requests++;
    stats.inFlight++;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    res.on('close', () => {
      stats.inFlight--;
    });
    if (req.method === 'POST' && url === '/v1/chat/completions') {
      chat(req, res).catch((e: unknown) =>
        send(res, 500, errorBody(`simulator bug: ${(e as Error).message}`, 'server_error', null, null), '5xx'),
      );
    } else if (req.method === 'GET' && url === '/v1/models') {
      send(
        res,
        200,
        {
          object: 'list',
          data: [
            { id: FINGERPRINT, object: 'model', created: 0, owned_by: 'tracepipe-simulator (SIMULATION, not a model)' },
          ],
        },
        'ok',
      );
    } else {
      req.resume();
      send(
        res,
        404,
        errorBody(
          `tracepipe simulator serves POST /v1/chat/completions, GET /v1/models and GET /v1/sim/stats, got ${req.method} ${url}`,
          'invalid_request_error',
          null,
          'unknown_url',
        ),
        'bad_request',
      );
    }
  });
  // idle keep-alive sockets stay open longer than clients keep them, so a client never reuses a closing socket
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    bank: problems.synth,
    others: problems.random,
    stats: () => copyStats(stats),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

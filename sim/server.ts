/**
 * @module sim/server
 * The bundled model SIMULATOR: an OpenAI-compatible chat-completions server on 127.0.0.1
 * that answers synth problems from their formulas with injected reasoning errors and
 * transport faults. It is a SIMULATION, not a model: every response carries
 * `system_fingerprint: "tracepipe-simulator"` and the header `x-tracepipe-simulated: true`.
 * Per-request work is a map lookup and a few formula evaluations; nothing is logged per request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSynthFile, synth, type SynthProblem } from './synth.ts';
import { rng } from './rng.ts';
import { DEFAULT_ERROR_MODEL, type ErrorModel } from './solve.ts';
import { NO_FAULTS, requestFault, type FaultRates } from './faults.ts';
import { checkRequest, completion, errorBody, FINGERPRINT, indexBank } from './complete.ts';

export interface SimulatorOptions extends Partial<ErrorModel>, Partial<FaultRates> {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Seed of the synth bank (and of the difficulty of each problem). */
  seed?: number;
  /** Size of the synth bank to rebuild (ignored with `problemsFile`). */
  n?: number;
  /** A synth JSONL file whose problems the simulator should know (its ids name their seed, so `seed` is not needed). */
  problemsFile?: string;
  /** Mean latency of a reply in ms (lognormal). */
  latencyMs?: number;
  /** Spread of the latency: the lognormal's sigma. */
  latencyJitter?: number;
  /** Requests served at once; more wait in line, or get 429 with `overCapacity: '429'`. 0 = no cap. */
  maxConcurrency?: number;
  overCapacity?: 'queue' | '429';
  /** Wait a 429 asks for (Retry-After, rounded up to seconds, and retry-after-ms). */
  retryAfterMs?: number;
  /** How long a hung request (`rateHang`; it holds no concurrency slot) keeps its socket before destroying it. */
  hangMs?: number;
  /** Answer 400 to n > 1, as servers without multi-sampling do. */
  refuseN?: boolean;
  /** Seeds the fault draws, so that the counts of each fault over N requests are reproducible. */
  faultSeed?: number;
}

export const OUTCOMES = [
  'ok',
  'malformed',
  'truncated',
  '429',
  'over_capacity',
  '5xx',
  'hang',
  'refused_n',
  'bad_request',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface SimStats {
  requests: number;
  /** Per request; `malformed` / `truncated` when at least one choice was. */
  outcomes: Record<Outcome, number>;
  /** Choices returned and how many of them were broken. */
  choices: { total: number; malformed: number; truncated: number };
  inFlight: number;
  maxInFlight: number;
}

export interface Simulator {
  url: string;
  port: number;
  /** The synth problems it knows. */
  bank: readonly SynthProblem[];
  close(): Promise<void>;
  stats(): SimStats;
}

const HEADERS = { 'content-type': 'application/json', 'x-tracepipe-simulated': 'true' } as const;
const MAX_BODY = 8 << 20;

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const seed = opts.seed ?? 1;
  const bank = opts.problemsFile ? await loadSynthFile(opts.problemsFile) : synth({ n: opts.n ?? 300, seed });
  const index = indexBank(bank);
  const em: ErrorModel = {
    pError: opts.pError ?? DEFAULT_ERROR_MODEL.pError,
    difficultySpread: opts.difficultySpread ?? DEFAULT_ERROR_MODEL.difficultySpread,
    pSilent: opts.pSilent ?? DEFAULT_ERROR_MODEL.pSilent,
    pLastStep: opts.pLastStep ?? DEFAULT_ERROR_MODEL.pLastStep,
    freeErrorScale: opts.freeErrorScale ?? DEFAULT_ERROR_MODEL.freeErrorScale,
  };
  const faults: FaultRates = {
    rate429: opts.rate429 ?? NO_FAULTS.rate429,
    rate5xx: opts.rate5xx ?? NO_FAULTS.rate5xx,
    rateHang: opts.rateHang ?? NO_FAULTS.rateHang,
    rateMalformed: opts.rateMalformed ?? NO_FAULTS.rateMalformed,
    rateTruncated: opts.rateTruncated ?? NO_FAULTS.rateTruncated,
  };
  for (const [k, v] of Object.entries({ ...em, ...faults })) {
    if (k === 'freeErrorScale') {
      if (!(v >= 0)) throw new Error(`simulator option ${k} should be a number >= 0, got ${v}`);
      continue;
    }
    if (k !== 'difficultySpread' && !(v >= 0 && v <= 1))
      throw new Error(`simulator option ${k} should be a probability in [0, 1], got ${v}`);
  }
  if (faults.rate429 + faults.rate5xx + faults.rateHang > 1)
    throw new Error(
      `simulator options rate429 + rate5xx + rateHang should add up to at most 1, got ${faults.rate429 + faults.rate5xx + faults.rateHang}`,
    );
  if (faults.rateMalformed + faults.rateTruncated > 1)
    throw new Error(
      `simulator options rateMalformed + rateTruncated should add up to at most 1, got ${faults.rateMalformed + faults.rateTruncated}`,
    );
  const latencyMs = opts.latencyMs ?? 0;
  const sigma = opts.latencyJitter ?? 0.25;
  const mu = Math.log(Math.max(latencyMs, 1e-9)) - (sigma * sigma) / 2;
  const cap = opts.maxConcurrency && opts.maxConcurrency > 0 ? opts.maxConcurrency : Infinity;
  const retryAfterMs = opts.retryAfterMs ?? 1000;
  const hangMs = opts.hangMs ?? 60_000;
  const draw = opts.faultSeed === undefined ? Math.random : rng(opts.faultSeed).next;

  const stats: SimStats = {
    requests: 0,
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    choices: { total: 0, malformed: 0, truncated: 0 },
    inFlight: 0,
    maxInFlight: 0,
  };
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
  const tooMany = (res: ServerResponse, outcome: Outcome, why: string) =>
    send(
      res,
      429,
      errorBody(
        `Rate limit reached (SIMULATED: ${why}). Please try again in ${retryAfterMs} ms.`,
        'requests',
        null,
        'rate_limit_exceeded',
      ),
      outcome,
      {
        'retry-after': String(Math.ceil(retryAfterMs / 1000)),
        'retry-after-ms': String(retryAfterMs),
        'x-ratelimit-limit-requests': String(Number.isFinite(cap) ? cap : 10000),
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${retryAfterMs}ms`,
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
      const { body: out, choiceFaults } = completion(checked.req, em, faults, requestSeed, id);
      stats.choices.total += choiceFaults.length;
      for (const f of choiceFaults) if (f !== 'none') stats.choices[f]++;
      const outcome: Outcome = choiceFaults.includes('malformed')
        ? 'malformed'
        : choiceFaults.includes('truncated')
          ? 'truncated'
          : 'ok';
      send(res, 200, out, outcome, { 'x-request-id': id });
    } finally {
      release();
    }
  }

  const server = createServer((req, res) => {
    stats.requests++;
    stats.inFlight++;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    res.on('close', () => {
      stats.inFlight--;
    });
    const url = (req.url ?? '').split('?')[0];
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
          `tracepipe simulator serves POST /v1/chat/completions and GET /v1/models, got ${req.method} ${url}`,
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
    bank,
    stats: () => ({ ...stats, outcomes: { ...stats.outcomes }, choices: { ...stats.choices } }),
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

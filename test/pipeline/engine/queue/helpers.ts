/**
 * @module test/pipeline/engine/queue/helpers
 * What the queue tests share: a throwaway redis-server per file (skipped, loudly, without Debian's
 * redis-server; TRACEPIPE_REQUIRE_REDIS=1, as in CI, makes that a failure), literal stages, and a
 * run folder on literal rows.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  hasRedisServer,
  REDIS_SERVER,
  startLocalRedis,
  type LocalRedis,
} from '../../../../pipeline/engine/queue/local-redis.ts';
import { parseConfig, type Config } from '../../../../schemas/config.ts';
import type { RawItem } from '../../../../schemas/state.ts';
import type { InputSource, ProblemStage, StageDef } from '../../../../stages/lib/stage.ts';

export const hasRedis = hasRedisServer();
if (!hasRedis) {
  const msg = `${REDIS_SERVER} not found: the queue tests are SKIPPED (install it with: apt-get update && apt-get install -y redis-server)`;
  if (process.env.TRACEPIPE_REQUIRE_REDIS === '1')
    throw new Error(`${msg} (TRACEPIPE_REQUIRE_REDIS=1 makes this a failure)`);
  console.warn(`\n*** ${msg} ***\n`);
}

/** `describe` that runs only where redis-server is installed. */
export const describeRedis: typeof describe.skip = (hasRedis ? describe : describe.skip) as typeof describe.skip;

/** A redis-server for the file's tests, started before them and stopped after; `client()` opens a client to it. */
export function useRedis(): { readonly url: string; client(): Redis } {
  let server: LocalRedis | null = null;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startLocalRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });
  return {
    get url() {
      return server!.url;
    },
    client() {
      const c = new Redis(server!.url, { maxRetriesPerRequest: null });
      clients.push(c);
      return c;
    },
  };
}

/** A source over literal rows `[problem_id, value]`. */
export const sourceOf = (rows: () => [string, string][]): InputSource => ({
  async *items() {
    for (const [i, [id, value]] of rows().entries())
      yield {
        problem_id: id,
        kind: 'problem',
        input: 0,
        source: 'lit',
        item: `line ${i + 1}`,
        value,
        calibration: false,
        defaults: false,
      } satisfies RawItem;
  },
});

export type Row = { problem_id: string; value: string };

/** What the literal stages saw: problems per call, and the most calls at once on one shard. */
export interface Seen {
  one: string[];
  two: string[];
  maxPerShard: number;
}

/**
 * Two literal stages: `one` (a model-stage stand-in: cpu false, so it runs as its own job) copies
 * raw values into `problems`, waiting `delayMs`; `two` (CPU) upper-cases them into `scores`.
 * `fail` makes `one` throw on that problem.
 */
export function literalStages(seen: Seen, o: { delayMs?: number; fail?: string } = {}): StageDef[] {
  const busy = new Map<string, number>();
  const one: ProblemStage = {
    kind: 'problem',
    name: 'one',
    describe: 'copy',
    version: 1,
    reads: ['raw'],
    writes: ['problems'],
    cpu: false,
    config: () => null,
    async run(bundles, ctx) {
      busy.set(ctx.shard, (busy.get(ctx.shard) ?? 0) + 1);
      seen.maxPerShard = Math.max(seen.maxPerShard, busy.get(ctx.shard)!);
      try {
        if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
        const raws = bundles.map((b) => b.rows.raw![0] as RawItem);
        if (o.fail && raws.some((r) => r.problem_id === o.fail)) throw new Error(`literal failure on ${o.fail}`);
        seen.one.push(...raws.map((r) => r.problem_id));
        return {
          rows: { problems: raws.map((r) => ({ problem_id: r.problem_id, value: r.value })) },
          rejects: [],
          stats: { n: raws.length },
        };
      } finally {
        busy.set(ctx.shard, busy.get(ctx.shard)! - 1);
      }
    },
  };
  const two: ProblemStage = {
    kind: 'problem',
    name: 'two',
    describe: 'upper',
    version: 1,
    reads: ['problems'],
    writes: ['scores'],
    cpu: true,
    config: () => null,
    async run(bundles) {
      seen.two.push(...bundles.map((b) => b.problem.problem_id));
      return {
        rows: {
          scores: bundles.map((b) => ({
            problem_id: b.problem.problem_id,
            value: (b.problem as unknown as Row).value.toUpperCase(),
          })),
        },
        rejects: [],
        stats: {},
      };
    },
  };
  return [one, two];
}

/** A fresh run folder's config with `shards` shards. */
export async function runConfig(shards = 4): Promise<{ dir: string; config: Config }> {
  const dir = await mkdtemp(join(tmpdir(), 'tp-queue-'));
  const config = parseConfig({ name: 'q', inputs: [{ path: join(dir, 'x.jsonl') }], engine: { shards } }, 'test', dir);
  return { dir, config };
}

/**
 * @module stages/align/extract-all
 * The align stage's extractor-model mode: every free path goes to the extractor through the
 * generation engine's client (limits, retries, the durable cache); a path the extractor cannot
 * align keeps numeric alignment and leaves a reject saying why.
 */
import type { ArsNode, PathRow, Reject } from '../../schemas/index.ts';
import type { Store } from '../../pipeline/io/store.ts';
import { RequestCache } from '../../pipeline/io/client/cache.ts';
import { ModelClient } from '../../pipeline/io/client/model.ts';
import { defaultGenerateConfig, type GenerateConfig, type ModelConfig } from '../../pipeline/io/client/config.ts';
import { alignWithExtractor } from './extractor.ts';
import { align } from './align.ts';

/** The extractor's generation settings: deterministic (temperature 0, a fixed seed), one reply per request. */
export function extractorGenerateConfig(concurrency = defaultGenerateConfig.concurrency): GenerateConfig {
  return { ...defaultGenerateConfig, temperature: 0, seed: 0, use_n: false, concurrency };
}

export interface ExtractAllStats {
  extracted: number;
  fell_back: number;
  requests: number;
  cache_hits: number;
  tokens_in: number;
  tokens_out: number;
}

/** Aligns free paths with the extractor model, the rest as `align` does. Never throws for one path. */
export async function alignAllWithExtractor(
  input: { paths: readonly PathRow[]; nodes: readonly ArsNode[] },
  cfg: { model: ModelConfig; generate: GenerateConfig },
  deps: { store: Store; signal?: AbortSignal; log?: (s: string) => void },
): Promise<{ paths: PathRow[]; rejects: Reject[]; stats: ExtractAllStats }> {
  const numeric = align(input).paths;
  const nodesOf = new Map<string, ArsNode[]>();
  for (const n of input.nodes) (nodesOf.get(n.problem_id) ?? nodesOf.set(n.problem_id, []).get(n.problem_id)!).push(n);
  const cache = await RequestCache.open(deps.store);
  const client = new ModelClient(cfg.model, cfg.generate, {
    cache,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  const rejects: Reject[] = [];
  let extracted = 0;
  try {
    const out = await Promise.all(
      input.paths.map(async (p, i) => {
        const nodes = nodesOf.get(p.problem_id) ?? [];
        if (p.mode !== 'free' || nodes.length <= 1) return numeric[i]!;
        const r = await alignWithExtractor(
          { ...p, node_answers: [] },
          nodes,
          async (req) => (await client.sample(req, [0]))[0]!,
          { maxReasks: cfg.generate.max_reasks },
        );
        if (r.issues.length === 0) {
          extracted++;
          return r.path;
        }
        rejects.push({
          stage: 'align',
          source: p.problem_id,
          item: p.path_id,
          code: r.issues[0]!.code,
          path: r.issues[0]!.path || 'reply',
          message: `path ${p.path_id}: extractor failed, numeric alignment kept: ${r.issues.map((x) => x.message).join('; ')}`,
          raw: null,
        });
        return numeric[i]!;
      }),
    );
    return {
      paths: out,
      rejects,
      stats: {
        extracted,
        fell_back: rejects.length,
        requests: client.stats.requests,
        cache_hits: client.stats.cache_hits,
        tokens_in: client.accounting.tokens_in,
        tokens_out: client.accounting.tokens_out,
      },
    };
  } finally {
    client.close();
    await cache.close();
  }
}

/**
 * @module stages/align/extract-all
 * The align stage's extractor-model mode: every free path (or a share of them, chosen by a stable
 * hash of the path id) goes to the extractor through the generation engine's client (limits,
 * retries, the durable cache); a path the extractor cannot align keeps numeric alignment and
 * leaves a reject saying why; the others are aligned numerically.
 */
import { createHash } from 'node:crypto';
import type { ArsNode, PathRow, Reject } from '../../schemas/index.ts';
import type { ModelPort } from '../lib/ports.ts';
import { alignWithExtractor } from './extractor.ts';
import { align } from './align.ts';
import { byProblemId } from '../lib/group.ts';

export interface ExtractAllStats {
  extracted: number;
  fell_back: number;
  requests: number;
  cache_hits: number;
  tokens_in: number;
  tokens_out: number;
}

/**
 * Whether a path goes to the extractor under `share` (0..1): a stable hash of its id, so the same
 * paths go every run, and a larger share keeps every path a smaller share sent.
 */
export function sentToExtractor(pathId: string, share: number): boolean {
  if (share >= 1) return true;
  const h = createHash('sha256').update(pathId).digest().readUInt32BE(0);
  return h / 2 ** 32 < share;
}

/** Aligns free paths with the extractor model, the rest as `align` does. Never throws for one path. */
export async function alignAllWithExtractor(
  input: { paths: readonly PathRow[]; nodes: readonly ArsNode[] },
  cfg: { max_reasks: number; share?: number },
  deps: { model: ModelPort },
): Promise<{ paths: PathRow[]; rejects: Reject[]; stats: ExtractAllStats; extractedIds: Set<string> }> {
  const numeric = align(input).paths;
  const nodesOf = byProblemId(input.nodes);
  const client = deps.model;
  const rejects: Reject[] = [];
  const extractedIds = new Set<string>();
  let extracted = 0;
  const out = await Promise.all(
    input.paths.map(async (p, i) => {
      const nodes = nodesOf.get(p.problem_id) ?? [];
      if (p.mode !== 'free' || nodes.length <= 1 || !sentToExtractor(p.path_id, cfg.share ?? 1)) return numeric[i]!;
      const r = await alignWithExtractor(
        { ...p, node_answers: [] },
        nodes,
        async (req) => (await client.sample(req, [0]))[0]!,
        { maxReasks: cfg.max_reasks },
      );
      if (r.issues.length === 0) {
        extracted++;
        extractedIds.add(p.path_id);
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
  const c = client.counters();
  return {
    paths: out,
    rejects,
    extractedIds,
    stats: {
      extracted,
      fell_back: rejects.length,
      requests: c.requests,
      cache_hits: c.cache_hits,
      tokens_in: c.tokens_in,
      tokens_out: c.tokens_out,
    },
  };
}

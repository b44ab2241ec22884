/**
 * @module pipeline/engine/chain
 * Runs consecutive CPU-bound stages on one shard, one after the other, handing each the rows the
 * previous one wrote (no re-read): the unit of work of the worker threads, and of the main thread
 * when it has none.
 */
import type { Config } from '../../schemas/config.ts';
import type { ProblemStage } from '../../stages/lib/stage.ts';
import type { RunState } from '../io/state.ts';
import { runJob, type JobResult, type Writers } from './job.ts';
import { nodeFiles } from '../io/files.ts';
import { clearTextMemos } from '../../stages/lib/memo.ts';

const files = nodeFiles();

export interface ChainRequest {
  stages: string[];
  shard: string;
  stateDir: string;
  config: Config;
  runId: string;
  globals: Record<string, unknown>;
  writers: [string, string][];
  force: boolean;
}

const noModel = () => {
  throw new Error('a CPU stage asked for a model; stages that call a model run in the main thread');
};

/** Runs the chain; stops at the first stage that fails. The stages' text caches hold one shard: cleared at the end. */
export async function runChain(
  req: ChainRequest,
  deps: { stages: ReadonlyMap<string, ProblemStage>; state: RunState; log: (line: string) => void },
): Promise<JobResult[]> {
  try {
    return await chainJobs(req, deps);
  } finally {
    clearTextMemos();
  }
}

async function chainJobs(
  req: ChainRequest,
  deps: { stages: ReadonlyMap<string, ProblemStage>; state: RunState; log: (line: string) => void },
): Promise<JobResult[]> {
  const memo: NonNullable<Parameters<typeof runJob>[0]['memo']> = new Map();
  const out: JobResult[] = [];
  const defs = req.stages.map((name) => {
    const stage = deps.stages.get(name);
    if (!stage) throw new Error(`no stage named ${name}`);
    return stage;
  });
  for (const [i, stage] of defs.entries()) {
    out.push(
      await runJob(
        {
          state: deps.state,
          config: req.config,
          runId: req.runId,
          globals: req.globals,
          writers: new Map(req.writers) as Writers,
          force: req.force,
          memo,
          ports: {
            model: noModel,
            images: async () => ({
              ok: false,
              path: 'images',
              message: 'images are read only by stages that call a model',
            }),
            files,
            log: deps.log,
          },
        },
        stage,
        req.shard,
      ),
    );
    // Keep in memory only what a later stage of the chain reads (every stage reads `problems`).
    const later = new Set<string>(['problems', ...defs.slice(i + 1).flatMap((d) => d.reads)]);
    for (const t of [...memo.keys()]) if (!later.has(t)) memo.delete(t);
  }
  return out;
}

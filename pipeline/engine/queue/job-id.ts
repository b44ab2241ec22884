/**
 * @module pipeline/engine/queue/job-id
 * What the coordinator works out before a shard job goes on the queue: each of its stages planned
 * against the records on disk, and the job's content address. A job whose every stage is up to date
 * is not enqueued: its results are the skipped ones (or `empty` on a shard without problems). When
 * a chain's first stages have nothing to do, the later ones see the inputs they were planned on, so
 * planning the chain stage by stage is exact. The id hashes everything the job's output depends on:
 * the run folder, its stages and shard, the whole config and run-stage results, and the records it
 * starts from (fingerprint and write time of its own stages' and their upstream writers' records).
 * So enqueueing the same job again finds the same id and does nothing; once the job has written,
 * the records differ and a new plan gets a new id.
 */
import { createHash } from 'node:crypto';
import type { ProblemStage } from '../../../stages/lib/stage.ts';
import type { RunState, ShardRecord } from '../../io/state.ts';
import { nodeFiles } from '../../io/files.ts';
import { planJob, type JobEnv, type JobResult, type Writers } from '../job.ts';
import type { ShardJob } from '../runner.ts';
import { shardFingerprint } from '../shards.ts';

/** Bumped when the meaning of a job's data changes, so that old jobs never match new ones. */
const JOB_FORMAT = 1;

const stamp = (r: ShardRecord | null | undefined) => (r ? [r.fingerprint, r.finished_at] : null);

/** Planning reads records only: it is handed no model. */
const planningPorts: JobEnv['ports'] = {
  model: () => {
    throw new Error('planning asks no model');
  },
  images: async () => ({ ok: false, path: 'images', message: 'no images while planning' }),
  files: nodeFiles(),
  log: () => {},
};

/** The content address of a job and, when it has nothing to do, its results. */
export interface JobPlan {
  id: string;
  upToDate: JobResult[] | null;
  /** Problems to compute in the job's first stage (for the log). */
  changed: number;
}

/** Plans every stage of `job` on its shard and names it by content. */
export async function planShardJob(
  job: ShardJob,
  stages: ReadonlyMap<string, ProblemStage>,
  state: RunState,
): Promise<JobPlan> {
  const env: JobEnv = {
    state,
    config: job.config,
    runId: job.runId,
    globals: job.globals,
    writers: new Map(job.writers) as Writers,
    force: job.force,
    ports: planningPorts,
  };
  const stamps: unknown[] = [];
  const skipped: JobResult[] = [];
  let changed = 0;
  for (const name of job.stages) {
    const stage = stages.get(name);
    if (!stage) throw new Error(`no problem stage named ${name}`);
    const plan = await planJob(env, stage, job.shard);
    if (stamps.length === 0) changed = plan.changed.length;
    stamps.push({
      stage: name,
      fps: shardFingerprint(plan.fps),
      prev: stamp(plan.prev),
      ups: [...plan.ups].sort(([a], [b]) => a.localeCompare(b)).map(([n, r]) => [n, stamp(r)]),
    });
    const problems = Object.keys(plan.fps).length;
    // Nothing changed, or a shard without problems and no record (where `runJob` would return `empty`).
    if (plan.changed.length === 0 && plan.removed.length === 0 && (plan.prev || problems === 0))
      skipped.push({
        stage: name,
        shard: job.shard,
        status: plan.prev ? 'skipped' : 'empty',
        problems,
        computed: 0,
        removed: 0,
        stats: {},
        seconds: 0,
        why: plan.why,
      });
  }
  const id = jobId(job, stamps);
  return { id, upToDate: skipped.length === job.stages.length ? skipped : null, changed };
}

/** `j-` and 32 hex digits of a hash of the job (its run id aside: any coordinator of the folder may attach to it). */
export function jobId(job: ShardJob, stamps: unknown): string {
  const { runId: _runId, io: _io, ...content } = job;
  const h = createHash('sha256').update(JSON.stringify([JOB_FORMAT, content, stamps]));
  return `j-${h.digest('hex').slice(0, 32)}`;
}

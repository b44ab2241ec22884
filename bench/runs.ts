/**
 * @module bench/runs
 * Whole pipeline runs for benchmarks: a config run through `runPipeline` against a server that
 * counts the requests it gets, and what the run emitted (rows per dataset, paths per category).
 */
import { parseConfig } from '../schemas/config.ts';
import { runPipeline, type RunResult } from '../pipeline/engine/run.ts';

/** What one benchmark run sent and emitted. */
export interface Measured {
  result: RunResult;
  requests: number;
  /** Rows per published dataset. */
  rows: Record<string, number>;
  /** Paths per category (filter's totals). */
  categories: Record<string, number>;
  /** Step pairs by where their chosen step came from (emit's totals). */
  pairs_by_source: Record<string, number>;
  wall_s: number;
}

/** Runs a raw config (checked as a user's would be) and counts the requests `server` saw meanwhile. */
export async function measuredRun(raw: Record<string, unknown>, dir: string, requests: () => Promise<number>) {
  const config = parseConfig(raw, `bench config ${String(raw.name)}`, dir);
  const before = await requests();
  const t0 = performance.now();
  const result = await runPipeline(config, { log: () => {}, command: 'tracepipe bench' });
  const wall_s = (performance.now() - t0) / 1000;
  if (result.status !== 'done') throw new Error(`bench run ${String(raw.name)} ${result.status}: ${result.reason}`);
  const totals = (name: string) => result.stages.find((s) => s.name === name)?.totals ?? {};
  const emit = totals('emit') as Record<string, { rows?: number; by_chosen_source?: Record<string, number> }>;
  return {
    result,
    requests: (await requests()) - before,
    rows: Object.fromEntries(Object.entries(emit).map(([d, v]) => [d, v.rows ?? 0])),
    categories: ((totals('filter') as { categories?: Record<string, number> }).categories ?? {}) as Record<
      string,
      number
    >,
    pairs_by_source: emit.step_preference?.by_chosen_source ?? {},
    wall_s,
  } satisfies Measured;
}

/** The simulator's live counts (GET /v1/sim/stats). */
export async function simStats(url: string): Promise<{
  requests: number;
  prompts: Record<string, number>;
  prompt_tokens: number;
  prompt_tokens_shared: number;
}> {
  return (await (await fetch(`${url}/v1/sim/stats`)).json()) as never;
}

export const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

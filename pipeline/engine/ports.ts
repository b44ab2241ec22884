/**
 * @module pipeline/engine/ports
 * The ports a stage's job gets: model clients on the job's shard cache, sharing per server one
 * limiter (concurrency, rpm, tpm, cool-downs) and per run one budget; images confined to the input
 * folders; one progress line per stage over all its shards. Every role's settings carry the user's
 * limits, timeouts, retries, budget and prices.
 */
import { dirname, resolve, join } from 'node:path';
import type { Config } from '../../schemas/config.ts';
import type { ModelRole, ProblemStage, StageContext } from '../../stages/lib/stage.ts';
import type { ModelCounters } from '../../stages/lib/ports.ts';
import { mergeSummaries } from '../../stages/lib/summary.ts';
import { Accounting } from '../io/client/accounting.ts';
import { extractorSettings, generateSettings, teacherSettings, type ModelSettings } from '../io/client/config.ts';
import { imagePort } from '../io/client/images.ts';
import { Limiter } from '../io/client/limits.ts';
import { ModelClient } from '../io/client/model.ts';
import { aggregateProgress } from '../io/client/progress.ts';
import { ShardCache } from '../io/shard-cache.ts';
import { nodeFiles } from '../io/files.ts';
import type { PortFactory } from './runner.ts';

/** Endpoint and settings of a role under a config (the user's limits, retries, budget and prices), or null when the config has none. */
export function roleSettings(c: Config, role: ModelRole): ModelSettings | null {
  if (role === 'generate') return c.generate ? generateSettings(c) : null;
  return role === 'teacher' ? teacherSettings(c) : extractorSettings(c);
}

/** Work units of one problem, for the progress line: samples for generate, one otherwise. */
const unitsOf = (stage: ProblemStage, c: Config) =>
  stage.progressUnits?.(c) ??
  (stage.models?.(c).includes('generate') && c.generate ? c.generate.k * c.generate.modes.length : 1);

export interface RunPortsOptions {
  runDir: string;
  env?: NodeJS.ProcessEnv;
  /** Aborts requests in flight at once (a second Ctrl-C). */
  abort: AbortSignal;
  /** No new request starts once it fires; requests in flight finish and are cached (the first Ctrl-C). */
  drain: AbortSignal;
  log: (line: string) => void;
  /** A writer name for this process's cache files (several processes may share a shard). */
  writer?: string;
  /** Admission control of a server (default: a `Limiter` in this process); queue workers share one in Redis. */
  limiter?: (s: ModelSettings) => Limiter;
  /** The run's budget (default: one in this process); queue workers share one in Redis. */
  budget?: Accounting;
}

/** The run's ports: clients per role, one limiter per server, one budget. */
export class RunPorts implements PortFactory {
  private readonly limiters = new Map<string, Limiter>();
  private readonly budget: Accounting;
  private readonly progress = new Map<string, ReturnType<typeof aggregateProgress>>();
  readonly counters: Partial<Record<ModelRole, ModelCounters>> = {};
  private readonly images: StageContext['images'];
  private readonly files = nodeFiles();

  constructor(
    private readonly config: Config,
    private readonly o: RunPortsOptions,
  ) {
    this.budget = o.budget ?? new Accounting(null, config.generate?.max_budget ?? null);
    this.images = imagePort([...new Set(config.inputs.map((i) => dirname(resolve(i.path))))]);
  }

  /** True once any reply came from the bundled simulator. */
  get simulated(): boolean {
    return Object.values(this.counters).some((c) => c?.simulated === true);
  }

  private limiterFor(s: ModelSettings): Limiter {
    const key = s.model.base_url;
    let l = this.limiters.get(key);
    if (!l) {
      l =
        this.o.limiter?.(s) ??
        new Limiter({ concurrency: s.generate.concurrency, rpm: s.generate.rpm, tpm: s.generate.tpm });
      this.limiters.set(key, l);
    }
    return l;
  }

  async open(stage: ProblemStage, shard: string, problems: number) {
    const clients = new Map<ModelRole, ModelClient>();
    const caches: ShardCache[] = [];
    const agg =
      this.progress.get(stage.name) ?? this.progress.set(stage.name, aggregateProgress(stage.name)).get(stage.name)!;
    const roles = stage.models?.(this.config) ?? [];
    const progress = roles.length ? agg.job(problems * unitsOf(stage, this.config)) : undefined;
    const cacheRoot = join(this.o.runDir, 'state', 'cache');
    const model = (role: ModelRole) => {
      let c = clients.get(role);
      if (c) return c;
      const s = roleSettings(this.config, role);
      if (!s) throw new Error(`stage ${stage.name} asked for the ${role} model, which the config does not set`);
      const cache = new ShardCache(cacheRoot, shard, this.o.writer ?? 'main');
      caches.push(cache);
      c = new ModelClient(s.model, s.generate, {
        cache,
        limiter: this.limiterFor(s),
        budget: this.budget,
        signal: this.o.abort,
        drain: this.o.drain,
        log: this.o.log,
        ...(this.o.env ? { env: this.o.env } : {}),
      });
      clients.set(role, c);
      return c;
    };
    return {
      ports: { model, images: this.images, files: this.files, log: this.o.log, ...(progress ? { progress } : {}) },
      close: async () => {
        for (const [role, c] of clients) {
          this.counters[role] = mergeSummaries([this.counters[role], c.counters()]) as ModelCounters;
          c.close();
        }
        for (const cache of caches) cache.close();
      },
    };
  }

  /** Ends every stage's progress line. */
  finishProgress(stage: string): void {
    this.progress.get(stage)?.done();
  }

  close(): void {
    for (const l of this.limiters.values()) l.close();
  }
}

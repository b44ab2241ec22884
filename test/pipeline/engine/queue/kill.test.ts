/**
 * Queue mode as users run it, through the built CLI in child processes: the simulator (with 429s
 * carrying Retry-After and 5xx faults) as its own process, a redis-server, three `tracepipe worker`
 * processes and a `tracepipe run --queue` coordinator. One worker is killed with SIGKILL in the
 * middle of a shard, twice (a fresh worker replaces each). The published datasets equal those of a
 * single-process run row for row (after sorting, `run_id` aside), every path is there exactly once,
 * the killed jobs went to other workers, no segment is left unlisted, and the API key reached
 * neither Redis nor any log.
 */
import { expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../../shared.ts';
import { Store } from '../../../../pipeline/io/store.ts';
import { RunState } from '../../../../pipeline/io/state.ts';
import { describeRedis, useRedis } from './helpers.ts';

const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
const DATASETS = ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval'];
const CANARY = 'sk-tracepipe-SECRET-queue-canary';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  child: ChildProcess;
  err: () => string;
  exit: Promise<number | null>;
}

/** Starts the built CLI with `args`; keeps its stderr. */
function tp(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRACEPIPE_LOG: 'json', TP_KEY: CANARY, ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, err: () => err, exit };
}

/** Rows of a run's latest dataset as sorted JSON lines, without `run_id`. */
async function rowsOf(store: Store, runDir: string, d: string): Promise<string[]> {
  const rows = await store.query<{ j: string }>(
    `SELECT to_json(t)::VARCHAR AS j FROM (SELECT * EXCLUDE (run_id) FROM read_parquet('${runDir}/latest/${d}/*.parquet')) t ORDER BY j`,
  );
  return rows.map((r) => r.j);
}

/** Segment files under state/tables that no record lists. */
async function unlisted(stateDir: string): Promise<string[]> {
  const listed = new Set<string>();
  for (const stage of await readdir(join(stateDir, 'records'))) {
    for (const f of (await readdir(join(stateDir, 'records', stage))).filter((x) => x.endsWith('.json'))) {
      const rec = JSON.parse(await readFile(join(stateDir, 'records', stage, f), 'utf8')) as {
        shard: string;
        tables: Record<string, { file: string }[]>;
      };
      for (const [t, segs] of Object.entries(rec.tables))
        for (const s of segs) listed.add(join(t === 'rejects' ? `rejects.${stage}` : t, rec.shard, s.file));
    }
  }
  const out: string[] = [];
  for (const t of await readdir(join(stateDir, 'tables')))
    for (const shard of await readdir(join(stateDir, 'tables', t)))
      for (const f of await readdir(join(stateDir, 'tables', t, shard)))
        if (!listed.has(join(t, shard, f))) out.push(join(t, shard, f));
  return out;
}

describeRedis('queue mode through the CLI', () => {
  const redis = useRedis();

  it('three workers and a coordinator, one worker killed mid-shard twice: the outputs equal a single-process run', async () => {
    expect(existsSync(cli), `${cli} is missing: run \`make build\` first (make test does)`).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'tp-kill-'));
    const problems = join(dir, 'p.jsonl');
    expect(await tp(['synth', '--out', problems, '--n', '48', '--seed', '3']).exit).toBe(0);
    const server = spawn(
      process.execPath,
      [
        cli,
        'sim',
        'serve',
        '--seed',
        '3',
        '--n',
        '48',
        '--latency-ms',
        '250',
        '--rate-429',
        '0.05',
        '--retry-after-ms',
        '300',
        '--rate-5xx',
        '0.05',
        '--fault-seed',
        '5',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const workers = new Map<string, Proc>();
    try {
      const url = await new Promise<string>((ok) =>
        createInterface({ input: server.stdout! }).on('line', (l) => {
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(l);
          if (m) ok(m[1]!);
        }),
      );
      const config = async (name: string) => {
        const file = join(dir, `${name}.json`);
        await writeFile(
          file,
          JSON.stringify({
            name,
            runs_dir: join(dir, 'runs'),
            inputs: [{ path: problems }],
            model: { base_url: `${url}/v1`, model: 'sim', simulated: true, api_key_env: 'TP_KEY' },
            generate: { k: 2, concurrency: 4, use_n: false, seed: 1, timeout_ms: 10_000 },
            engine: { shards: 8 },
          }),
        );
        return file;
      };
      const local = tp(['run', '--config', await config('local')]);
      expect(await local.exit, local.err()).toBe(0);

      const worker = (name: string) =>
        workers.set(
          name,
          tp(['worker', '--queue', redis.url, '--concurrency', '2', '--name', name, '--lock-ms', '3000']),
        );
      for (const w of ['w1', 'w2', 'w3']) worker(w);
      const coord = tp(['run', '--queue', redis.url, '--config', await config('queued')]);
      const state = join(dir, 'runs', 'queued', 'state');

      // Kill a worker whose replies for a shard are landing in the cache while the shard has no generate record.
      const killed: string[] = [];
      for (const replacement of ['w4', 'w5']) {
        let victim: string | null = null;
        for (let i = 0; i < 600 && !victim; i++) {
          await sleep(50);
          for (const shard of await readdir(join(state, 'cache')).catch(() => [] as string[])) {
            if (existsSync(join(state, 'records', 'generate', `${shard}.json`))) continue;
            for (const [name, w] of workers) {
              const f = join(state, 'cache', shard, `${name}.jsonl`);
              if (w.child.exitCode !== null || killed.includes(name) || !existsSync(f)) continue;
              if ((await readFile(f, 'utf8')).split('\n').filter(Boolean).length >= 2) victim ??= name;
            }
          }
        }
        expect(victim, 'a worker in the middle of a shard').not.toBeNull();
        workers.get(victim!)!.child.kill('SIGKILL');
        killed.push(victim!);
        worker(replacement);
      }
      expect(await coord.exit, coord.err().slice(-3000)).toBe(0);
      expect(killed).toHaveLength(2);
      // Each killed worker was running at least one job; BullMQ handed each to another worker.
      expect(
        coord.err().match(/stalled \(its worker stopped renewing its lock\)/g)?.length ?? 0,
      ).toBeGreaterThanOrEqual(2);

      const store = await Store.open(':memory:');
      try {
        for (const d of DATASETS) {
          const a = await rowsOf(store, join(dir, 'runs', 'local'), d);
          expect(a.length, `${d} rows`).toBeGreaterThan(0);
          expect(await rowsOf(store, join(dir, 'runs', 'queued'), d), d).toEqual(a);
        }
      } finally {
        store.close();
      }
      const ids = async (run: string) =>
        (
          await new RunState(join(dir, 'runs', run, 'state')).allRows<{ problem_id: string; path_id: string }>(
            'generate',
            'paths',
          )
        )
          .map((p) => p.path_id)
          .sort();
      const queuedPaths = await ids('queued');
      expect(new Set(queuedPaths).size).toBe(queuedPaths.length);
      expect(queuedPaths).toEqual(await ids('local'));
      expect(queuedPaths).toHaveLength(48 * 2 * 2);
      expect(await unlisted(state)).toEqual([]);

      // The key was read from each process's environment: it is in no job, no key of Redis, no log.
      const r = redis.client();
      const dump: string[] = [];
      for (const key of await r.keys('*')) {
        const type = await r.type(key);
        if (type === 'string') dump.push((await r.get(key)) ?? '');
        else if (type === 'hash') dump.push(JSON.stringify(await r.hgetall(key)));
        else if (type === 'list') dump.push(JSON.stringify(await r.lrange(key, 0, -1)));
        else if (type === 'set') dump.push(JSON.stringify(await r.smembers(key)));
        else if (type === 'zset') dump.push(JSON.stringify(await r.zrange(key, 0, -1)));
        else if (type === 'stream') dump.push(JSON.stringify(await r.xrange(key, '-', '+')));
      }
      // The jobs' configs are there (naming the key's variable), the key itself nowhere.
      expect(dump.filter((d) => d.includes('TP_KEY')).length).toBeGreaterThan(10);
      expect(dump.filter((d) => d.includes(CANARY))).toEqual([]);
      for (const p of [coord, ...workers.values()]) expect(p.err()).not.toContain(CANARY);
      expect(await readFile(join(dir, 'runs', 'queued', 'manifest.json'), 'utf8')).not.toContain(CANARY);
    } finally {
      for (const w of workers.values()) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.all([...workers.values()].map((w) => w.exit));
      server.kill('SIGTERM');
    }
  }, 300_000);
});

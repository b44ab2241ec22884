/**
 * The nightly refresh as a cron job runs it: the built CLI in child processes, the simulator in
 * its own. Edited, added and removed problems re-run only the shards they touch and send only the
 * requests never sent; settings that change no result re-run nothing; each changed output is a new
 * snapshot, the last N are kept; a second run of the same name exits 3; exit codes say what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync, readlinkSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { writeSynth } from '../../../sim/synth.ts';
import { publishedRows, requireBuilt, serveSim, summaryOf, tracepipe, type Sim } from './helpers.ts';

let dir: string;
let sim: Sim;
let lines: string[];
/** Line 4 of the bank with its question edited (the simulator answers it at random, as any problem it has no formula for). */
let edited: string;
const N = 48;

beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tp-nightly-'));
  await writeSynth(join(dir, 'bank.jsonl'), { n: N, seed: 5 });
  lines = (await readFile(join(dir, 'bank.jsonl'), 'utf8')).trim().split('\n');
  const p = JSON.parse(lines[3]!) as { question: string };
  p.question = `${p.question} Give the answer to 3 significant figures.`;
  edited = JSON.stringify(p);
  // --problems: the simulator answers the bank's problems from their formulas, the edited one at random.
  await writeFile(join(dir, 'sim.jsonl'), `${[...lines, edited].join('\n')}\n`);
  sim = await serveSim(['--problems', join(dir, 'sim.jsonl'), '--latency-ms', '2']);
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

/** A run config over `input`, in its own runs folder (against `server`, by default the shared simulator). */
async function config(
  name: string,
  input: string,
  extra: Record<string, unknown> = {},
  server: Sim = sim,
): Promise<string> {
  const file = join(dir, `${name}.config.json`);
  await writeFile(
    file,
    JSON.stringify({
      name,
      runs_dir: join(dir, 'runs'),
      inputs: [{ path: input }],
      model: { base_url: `${server.url}/v1`, model: 'sim', api_key_env: 'TP_NIGHTLY_KEY' },
      generate: { k: 2, seed: 1, concurrency: 16 },
      engine: { shards: 8, keep_snapshots: 3 },
      ...extra,
    }),
  );
  return file;
}

/** Requests a simulator has answered so far (its own count). */
const requestsOf = async (s: Sim) => (await s.stats()).requests;
const requestsNow = () => requestsOf(sim);
const idOf = (line: string) => (JSON.parse(line) as { problem_id: string }).problem_id;

describe('nightly refresh through the CLI', () => {
  it("sends only the new problems' requests, re-runs nothing on a setting that changes no result, edits one shard, drops removed rows, keeps N snapshots", async () => {
    // Its own simulator: every request it counts is this test's.
    const own = await serveSim(['--problems', join(dir, 'sim.jsonl'), '--latency-ms', '2']);
    const requestsNow = () => requestsOf(own);
    const input = join(dir, 'a.jsonl');
    const cfg = await config('a', input, {}, own);
    const runDir = join(dir, 'runs', 'a');

    // 1. the first night: 36 problems.
    await writeFile(input, `${lines.slice(0, 36).join('\n')}\n`);
    let before = await requestsNow();
    const r1 = await tracepipe(['run', '--config', cfg]);
    expect(r1.code, r1.stderr).toBe(0);
    const s1 = summaryOf(r1);
    expect(s1.snapshot!.parent).toBeNull();
    const perProblem = ((await requestsNow()) - before) / 36;
    expect(perProblem).toBe(2); // one request with n = 2 per mode

    // 2. ten lines appended: exactly their requests, and they are in the outputs.
    await writeFile(input, `${lines.slice(0, 46).join('\n')}\n`);
    before = await requestsNow();
    const r2 = await tracepipe(['run', '--config', cfg]);
    expect(r2.code, r2.stderr).toBe(0);
    expect((await requestsNow()) - before).toBe(10 * perProblem);
    const s2 = summaryOf(r2);
    expect(s2.stages.ingest!.problems_computed).toBe(10);
    expect(s2.snapshot!.parent).toBe(s1.snapshot!.id);
    const ids = new Set(
      (await publishedRows(join(runDir, 'latest'), 'process_eval', ['problem_id'])).map(
        (r) => JSON.parse(r).problem_id as string,
      ),
    );
    for (const l of lines.slice(36, 46)) expect(ids.has(idOf(l))).toBe(true);

    // 3. settings that change no result (concurrency, server address) re-run nothing and publish nothing.
    const r3 = await tracepipe(['run', '--config', cfg, '--concurrency', '32']);
    expect(r3.code, r3.stderr).toBe(0);
    const s3 = summaryOf(r3);
    expect(Object.values(s3.stages).every((s) => s.status === 'skipped')).toBe(true);
    expect(s3.snapshot).toBeNull();

    // 4. one problem's text edited: only its shard re-runs, with the requests of that one problem.
    const now = lines.slice(0, 46);
    now[3] = edited;
    await writeFile(input, `${now.join('\n')}\n`);
    before = await requestsNow();
    const r4 = await tracepipe(['run', '--config', cfg]);
    expect(r4.code, r4.stderr).toBe(0);
    expect((await requestsNow()) - before).toBe(perProblem);
    const s4 = summaryOf(r4);
    for (const st of ['ingest', 'generate', 'align', 'score', 'filter', 'emit']) {
      expect(s4.stages[st]!.shards_ran, st).toBe(1);
      expect(s4.stages[st]!.problems_computed, st).toBe(1);
    }

    // 5. removed problems leave the outputs.
    const removed = now.slice(40, 46).map(idOf);
    await writeFile(input, `${now.slice(0, 40).join('\n')}\n`);
    const r5 = await tracepipe(['run', '--config', cfg]);
    expect(r5.code, r5.stderr).toBe(0);
    const s5 = summaryOf(r5);
    expect(s5.snapshot!.datasets.process_eval!.removed).toBeGreaterThan(0);
    for (const d of ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval']) {
      const left = (await publishedRows(join(runDir, 'latest'), d, ['problem_id'])).map(
        (r) => JSON.parse(r).problem_id as string,
      );
      for (const id of removed) expect(left, d).not.toContain(id);
    }

    // 6. four snapshots were published; three are kept, latest is the newest.
    const snaps = (await readdir(join(runDir, 'snapshots'))).sort();
    expect(snaps).toHaveLength(3);
    expect(readlinkSync(join(runDir, 'latest'))).toBe(join('snapshots', s5.snapshot!.id));
    const list = await tracepipe(['snapshots', runDir, '--json']);
    const listed = JSON.parse(list.stdout) as { latest: string; snapshots: { id: string; parent: string | null }[] };
    expect(listed.latest).toBe(s5.snapshot!.id);
    expect(listed.snapshots.map((s) => s.id)).toEqual(snaps);
    // Each card names its snapshot and the parent.
    const card = await readFile(join(runDir, 'latest', 'README.md'), 'utf8');
    expect(card).toContain(s5.snapshot!.id);
    expect(card).toContain(s5.snapshot!.parent!);
    await own.stop();
  }, 300_000);

  it('--dry-run says which stages and shards would run, and why, and changes nothing', async () => {
    const input = join(dir, 'd.jsonl');
    const cfg = await config('d', input);
    await writeFile(input, `${lines.slice(0, 20).join('\n')}\n`);
    expect((await tracepipe(['run', '--config', cfg])).code).toBe(0);
    const runDir = join(dir, 'runs', 'd');
    const manifest = await readFile(join(runDir, 'manifest.json'), 'utf8');
    await writeFile(input, `${lines.slice(0, 24).join('\n')}\n`);
    const before = await requestsNow();
    const dry = await tracepipe(['run', '--config', cfg, '--dry-run'], { TRACEPIPE_LOG: 'text' });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/dry run \(nothing was changed\)/);
    expect(dry.stdout).toMatch(/^ingest +planned .*\(4 new problems\)/m);
    expect(dry.stdout).toMatch(/^generate +planned .*inputs changed upstream \(4 shards\)/m);
    expect(await requestsNow()).toBe(before);
    expect(await readFile(join(runDir, 'manifest.json'), 'utf8')).toBe(manifest);
    const run = await tracepipe(['run', '--config', cfg]);
    expect(summaryOf(run).stages.ingest!.problems_computed).toBe(4);
  }, 180_000);

  it("a second run of the same name exits 3 naming the holder, and the first one finishes intact; a dead holder's lock is taken over", async () => {
    const input = join(dir, 'l.jsonl');
    await writeFile(input, `${lines.join('\n')}\n`);
    const cfg = await config('l', input, { generate: { k: 4, seed: 2, concurrency: 2, use_n: false } });
    const runDir = join(dir, 'runs', 'l');
    const first = tracepipe(['run', '--config', cfg]);
    while (!existsSync(join(runDir, 'lock'))) await new Promise((r) => setTimeout(r, 20));
    const second = await tracepipe(['run', '--config', cfg]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(
      new RegExp(`tracepipe: run .* is busy: another tracepipe \\(PID ${first.child.pid} on ${hostname()}, started `),
    );
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(summaryOf(done).snapshot!.datasets.process_eval!.rows).toBeGreaterThan(0);
    expect(existsSync(join(runDir, 'lock'))).toBe(false);
    // A lock left by a process that no longer exists (same host) is taken over, with a line saying so.
    await writeFile(
      join(runDir, 'lock'),
      JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), started_at: '2026-01-01T00:00:00Z', command: 'x' }),
    );
    const again = await tracepipe(['run', '--config', cfg]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/taking over the stale lock of PID 4194321/);
  }, 300_000);

  it('exits 1 with the reason on the last line when every request fails, or when the input is empty', async () => {
    // Problems the simulator does not know: without --problems it answers 400 to every one.
    const strict = await serveSim(['--seed', '99', '--n', '3']);
    try {
      const input = join(dir, 'x.jsonl');
      await writeFile(input, `${lines.slice(0, 8).join('\n')}\n`);
      const cfg = join(dir, 'x.config.json');
      await writeFile(
        cfg,
        JSON.stringify({
          name: 'x',
          runs_dir: join(dir, 'runs'),
          inputs: [{ path: input }],
          model: { base_url: `${strict.url}/v1`, model: 'sim' },
          generate: { k: 2 },
        }),
      );
      const r = await tracepipe(['run', '--config', cfg], { TRACEPIPE_LOG: 'text' });
      expect(r.code).toBe(1);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(
        /^failed: generate: 32 of 32 items failed at the server \(100\.0% > generate\.max_failure_rate 0\.2\); http_400 32/,
      );
      const m = JSON.parse(await readFile(join(dir, 'runs', 'x', 'manifest.json'), 'utf8'));
      expect(m.status).toBe('failed');
    } finally {
      await strict.stop();
    }
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    const r = await tracepipe(['run', '--config', await config('e', empty)], { TRACEPIPE_LOG: 'text' });
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`failed: the inputs hold no rows (${empty})`);
  }, 180_000);
});

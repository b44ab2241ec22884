/**
 * State files no record lists (a killed run's segments, segments a re-run replaced) are deleted by
 * the next run that can have any: the built CLI in child processes, on imported paths (no model).
 * A run that replaced nothing and follows a finished run has nothing to collect and lists nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuilt, summaryOf, tracepipe } from './helpers.ts';

let dir: string;

const problem = (i: number, extra = '') =>
  JSON.stringify({ problem_id: `q${i}`, domain: 'math', question: `What is ${i} + 2?${extra}`, answer: String(i + 2) });
const path = (i: number, k: number) =>
  JSON.stringify({
    problem_id: `q${i}`,
    steps: [`${i} + 2 = ${i + 2 + (k === 2 ? 1 : 0)}`],
    final_answer: String(i + 2 + (k === 2 ? 1 : 0)),
  });

async function writeInputs(edit: number | null) {
  const ids = Array.from({ length: 24 }, (_, i) => i);
  await writeFile(
    join(dir, 'problems.jsonl'),
    `${ids.map((i) => problem(i, i === edit ? ' Be exact.' : '')).join('\n')}\n`,
  );
  await writeFile(join(dir, 'paths.jsonl'), `${ids.flatMap((i) => [0, 1, 2].map((k) => path(i, k))).join('\n')}\n`);
}

/** Files under state/tables that no record of any stage lists. */
async function unlisted(runDir: string): Promise<string[]> {
  const listed = new Set<string>();
  const records = join(runDir, 'state', 'records');
  for (const stage of await readdir(records))
    for (const f of await readdir(join(records, stage))) {
      const rec = JSON.parse(await readFile(join(records, stage, f), 'utf8')) as {
        shard: string;
        tables: Record<string, { file: string }[]>;
      };
      for (const [t, segs] of Object.entries(rec.tables))
        for (const s of segs) listed.add(join(t === 'rejects' ? `rejects.${stage}` : t, rec.shard, s.file));
    }
  const out: string[] = [];
  const tables = join(runDir, 'state', 'tables');
  for (const t of await readdir(tables))
    for (const shard of await readdir(join(tables, t)))
      for (const f of await readdir(join(tables, t, shard)))
        if (!listed.has(join(t, shard, f))) out.push(join(t, shard, f));
  return out;
}

beforeAll(async () => {
  requireBuilt();
  dir = await mkdtemp(join(tmpdir(), 'tp-garbage-'));
  await writeFile(
    join(dir, 'c.json'),
    JSON.stringify({
      name: 'gc',
      runs_dir: join(dir, 'runs'),
      inputs: [{ path: 'problems.jsonl' }, { path: 'paths.jsonl', format: 'paths-jsonl' }],
      engine: { shards: 4 },
    }),
  );
});

describe('garbage in the run state', () => {
  it('is collected after a run that did not finish and after a re-run that replaced segments', async () => {
    const runDir = join(dir, 'runs', 'gc');
    await writeInputs(null);
    const first = await tracepipe(['run', '--config', join(dir, 'c.json')]);
    expect(first.code, first.stderr).toBe(0);
    expect(summaryOf(first).status).toBe('done');
    expect(existsSync(join(runDir, 'state', '.unfinished'))).toBe(false);
    expect(await unlisted(runDir)).toEqual([]);

    // What a run killed mid-stage leaves: a segment no record lists, and its marker.
    const orphan = join(runDir, 'state', 'tables', 'scores', 's0', 'killed-run.jsonl');
    await mkdir(join(orphan, '..'), { recursive: true });
    await writeFile(orphan, '{"problem_id":"q1"}\n');
    await writeFile(join(runDir, 'state', '.unfinished'), 'killed\n');
    const after = await tracepipe(['run', '--config', join(dir, 'c.json')]);
    expect(after.code, after.stderr).toBe(0);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(join(runDir, 'state', '.unfinished'))).toBe(false);

    // An edited problem: its shard's segments are replaced, and the replaced ones deleted.
    await writeInputs(5);
    const edited = await tracepipe(['run', '--config', join(dir, 'c.json')]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(summaryOf(edited).read?.changed_shards).toBe(1);
    expect(await unlisted(runDir)).toEqual([]);
  }, 120_000);
});

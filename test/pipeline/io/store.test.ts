import { describe, it, expect } from 'vitest';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../pipeline/io/store.ts';
import { sft, paths } from '../../../schemas/index.ts';

const row = (i: number) => ({
  messages: [
    { role: 'user' as const, content: `q${i}` },
    { role: 'assistant' as const, content: `it's ${i}` },
  ],
  images: [],
  problem_id: `p${i}`,
  path_id: `p${i}/0`,
  domain: 'math' as const,
  PC: 1,
  GC: null,
  FA: null,
  region: 'reliable' as const,
  model: 'm',
  run_id: 'r',
  k_drawn: null,
});

describe('Store', () => {
  it('round-trips list-of-struct rows through DuckDB and Parquet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-store-'));
    const s = await Store.open(join(dir, 'state.duckdb'));
    await s.replace(sft, [row(1), row(2), row(3)]);
    expect(await s.read(sft, 'problem_id')).toEqual([row(1), row(2), row(3)]);
    const files = await s.publishParquet('sft', join(dir, 'out', 'sft'));
    expect(files.map((f) => f.split('/').pop())).toEqual(['part-0.parquet']);
    const d = await s.query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM '${dir}/out/sft/*.parquet'`,
    );
    expect(d.find((c) => c.column_name === 'messages')?.column_type).toBe(
      'STRUCT("role" VARCHAR, "content" VARCHAR)[]',
    );
    expect(await readdir(join(dir, 'out'))).toEqual(['sft']);
    s.close();
  });

  it('publishes an empty table as one part file with the schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-store-'));
    const s = await Store.open(join(dir, 'state.duckdb'));
    await s.replace(paths, []);
    await s.publishParquet('paths', join(dir, 'out', 'paths'));
    const d = await s.query<{ column_name: string }>(`DESCRIBE SELECT * FROM '${dir}/out/paths/*.parquet'`);
    expect(d.map((c) => c.column_name)).toEqual(paths.columns);
    s.close();
  });
});

/** How publish groups shards into Parquet parts: consecutive shards, up to a row count or 32 MB of their rows' JSON. */
import { describe, expect, it } from 'vitest';
import { partsOf, type ShardSegments } from '../../../pipeline/engine/publish.ts';

const shard = (i: number, rows: number, bytes: number): ShardSegments => ({
  shard: `s${i}`,
  rows,
  bytes,
  files: { full: [`f${i}`], partial: [] },
  problems: [`p${i}`],
});

describe('partsOf', () => {
  it('starts a part once the last one holds the row count, or 32 MB of JSON (large rows)', () => {
    const small = Array.from({ length: 10 }, (_, i) => shard(i, 30, 1 << 10));
    // Small rows: the row count decides (100 rows a part: 4 shards of 30 rows each reach it).
    expect(partsOf(small, 100).map((p) => p.problems)).toEqual([
      ['p0', 'p1', 'p2', 'p3'],
      ['p4', 'p5', 'p6', 'p7'],
      ['p8', 'p9'],
    ]);
    // Large rows: 12 MB a shard, so three shards (36 MB) make a part long before 100k rows.
    const large = Array.from({ length: 7 }, (_, i) => shard(i, 30, 12 << 20));
    const parts = partsOf(large, 100_000);
    expect(parts.map((p) => p.full)).toEqual([['f0', 'f1', 'f2'], ['f3', 'f4', 'f5'], ['f6']]);
    expect(parts.map((p) => p.bytes)).toEqual([36 << 20, 36 << 20, 12 << 20]);
  });
});

/** Tests of a shard's request cache on disk: what a reopened cache gives back, cut lines, several writers. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../../pipeline/io/client/cache.ts';
import { ShardCache } from '../../../pipeline/io/shard-cache.ts';

const entry = (key: string, content = `reply ${key}`): CacheEntry => ({
  key,
  model: 'm',
  content,
  finish_reason: 'stop',
  tokens_in: 3,
  tokens_out: 5,
});

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('ShardCache', () => {
  it('gives back every entry after a reopen, the last written of a key winning, and writes the key first', async () => {
    root = mkdtempSync(join(tmpdir(), 'tp-shard-cache-'));
    const a = new ShardCache(root, 's01');
    // An entry whose fields come in another order is still written key first.
    const { key, ...rest } = entry('k2');
    a.put(entry('k1'), { ...rest, key } as CacheEntry);
    a.put(entry('k1', 'newer'));
    a.close();
    const lines = readFileSync(join(root, 's01', 'main.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(lines.every((l) => l.startsWith('{"key":"'))).toBe(true);
    const b = new ShardCache(root, 's01');
    expect(b.size).toBe(2);
    expect(await b.get('k1')).toEqual(entry('k1', 'newer'));
    expect(await b.get('k2')).toEqual(entry('k2'));
    expect(await b.get('k3')).toBeUndefined();
    expect(b.skipped).toBe(0);
  });

  it('skips a line cut by a kill, keeps the rest, and starts the next write on a fresh line', async () => {
    root = mkdtempSync(join(tmpdir(), 'tp-shard-cache-'));
    const a = new ShardCache(root, 's01');
    a.put(entry('k1'));
    a.close();
    const file = join(root, 's01', 'main.jsonl');
    appendFileSync(file, JSON.stringify(entry('k2')).slice(0, 30));
    const b = new ShardCache(root, 's01');
    expect(await b.get('k2')).toBeUndefined();
    expect(await b.get('k1')).toEqual(entry('k1'));
    b.put(entry('k2'));
    b.close();
    const c = new ShardCache(root, 's01');
    expect(await c.get('k2')).toEqual(entry('k2'));
    expect(c.skipped).toBe(1);
  });

  it('reads the files of every writer of the shard, and a line of another shape is parsed whole', async () => {
    root = mkdtempSync(join(tmpdir(), 'tp-shard-cache-'));
    const w1 = new ShardCache(root, 's01', 'w1');
    w1.put(entry('k1'));
    w1.close();
    // Written by hand, key last: still found.
    writeFileSync(
      join(root, 's01', 'w2.jsonl'),
      `${JSON.stringify({ model: 'm', content: 'x', finish_reason: null, tokens_in: 1, tokens_out: 1, key: 'k9' })}\n`,
    );
    const all = new ShardCache(root, 's01', 'main');
    expect(all.size).toBe(2);
    expect((await all.get('k9'))?.content).toBe('x');
    expect((await all.get('k1'))?.content).toBe('reply k1');
  });
});

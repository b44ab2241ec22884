/** Tests of the run state's records: what `records` and `record` give back after another process or thread rewrote a record. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunState, type ShardRecord } from '../../../pipeline/io/state.ts';

const rec = (shard: string, fingerprint: string): ShardRecord => ({
  stage: 'align',
  shard,
  fingerprint,
  problems: { [`p-${shard}`]: fingerprint },
  tables: {},
  stats: {},
  run_id: 'r',
  finished_at: '',
});

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RunState.records', () => {
  it('parses each record once, and sees a record rewritten or dropped through another RunState (a worker thread)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tp-state-'));
    const main = new RunState(dir);
    const worker = new RunState(dir);
    await worker.writeRecord(rec('s00', 'a'));
    await worker.writeRecord(rec('s01', 'b'));
    const first = await main.records('align');
    expect([...first.values()].map((r) => r.fingerprint)).toEqual(['a', 'b']);
    // Unchanged files: the same parsed objects.
    const again = await main.records('align');
    expect(again.get('s00')).toBe(first.get('s00'));
    // Rewritten with the same size (an atomic write is a new file): the new content.
    await worker.writeRecord(rec('s00', 'c'));
    await worker.dropRecord('align', 's01');
    const after = await main.records('align');
    expect([...after.values()].map((r) => r.fingerprint)).toEqual(['c']);
    expect(after.get('s00')).not.toBe(first.get('s00'));
    // One record at a time goes through the same cache (a worker keeps one RunState for its life).
    expect(await main.record('align', 's00')).toBe(after.get('s00'));
    await worker.writeRecord(rec('s00', 'd'));
    expect((await main.record('align', 's00'))?.fingerprint).toBe('d');
    expect(await main.record('align', 's01')).toBeNull();
  });
});

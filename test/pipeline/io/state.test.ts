/** Tests of the run state's records: what `records` and `record` give back after another process or thread rewrote a record, or a write was cut short. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecord, recordText, RunState, type ShardRecord } from '../../../pipeline/io/state.ts';

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

/** Two states on one new folder: the main thread's and a worker thread's. */
const mainAndWorker = () => {
  dir = mkdtempSync(join(tmpdir(), 'tp-state-'));
  return { main: new RunState(dir), worker: new RunState(dir) };
};

describe('RunState.records', () => {
  it('parses each record once, and sees a record rewritten or dropped through another RunState (a worker thread)', async () => {
    const { main, worker } = mainAndWorker();
    await worker.writeRecord(rec('s00', 'a'));
    await worker.writeRecord(rec('s01', 'b'));
    const first = await main.records('align');
    expect([...first.values()].map((r) => r.fingerprint)).toEqual(['a', 'b']);
    // Unchanged files: the same parsed objects.
    const again = await main.records('align');
    expect(again.get('s00')).toBe(first.get('s00'));
    // Rewritten in place with the same size: the new content (the digest heading the file differs).
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

describe('RunState.trust (the holder of the run lock)', () => {
  it('takes its cached records as current without their files, until it forgets the ones a job elsewhere wrote; drops go from the cache', async () => {
    const { main, worker } = mainAndWorker();
    await main.writeRecord(rec('s00', 'a'));
    await worker.writeRecord(rec('s01', 'b'));
    main.trust();
    expect((await main.record('align', 's01'))?.fingerprint).toBe('b');
    // A job on a worker thread rewrites both: the trusting state answers from its cache...
    await worker.writeRecord(rec('s00', 'c'));
    await worker.writeRecord(rec('s01', 'd'));
    expect((await main.record('align', 's00'))?.fingerprint).toBe('a');
    expect((await main.record('align', 's01'))?.fingerprint).toBe('b');
    // ...until the runner forgets the job's records as it ends: then the files are read again.
    main.forget('align', 's00');
    expect((await main.record('align', 's00'))?.fingerprint).toBe('c');
    expect((await main.record('align', 's01'))?.fingerprint).toBe('b');
    main.forget('align', 's01');
    expect([...(await main.records('align')).values()].map((r) => r.fingerprint)).toEqual(['c', 'd']);
    // Its own writes and drops keep the cache true.
    await main.writeRecord(rec('s00', 'e'));
    expect((await main.record('align', 's00'))?.fingerprint).toBe('e');
    await main.dropRecord('align', 's00');
    expect(await main.record('align', 's00')).toBeNull();
    // A state that does not trust (a worker's) sees every write at once, as before.
    await main.writeRecord(rec('s01', 'f'));
    expect((await worker.record('align', 's01'))?.fingerprint).toBe('f');
  });
});

describe('RunState record files', () => {
  const file = (shard: string) => join(dir, 'records', 'align', `${shard}.json`);

  it('an overwrite cut short (the new bytes over the old, or without its end) reads as absent, never as a mix', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tp-state-'));
    const state = new RunState(dir);
    // Two records of the same shape and size: a prefix of one over the other is valid JSON.
    const old = rec('s00', 'aaaaaaaa');
    const next = rec('s00', 'bbbbbbbb');
    await state.writeRecord(old);
    const oldText = readFileSync(file('s00'), 'utf8');
    const newText = recordText(next);
    expect(newText.length).toBe(oldText.length);
    const cut = newText.indexOf('bbbbbbbb') + 8;
    const mix = newText.slice(0, cut) + oldText.slice(cut);
    // Without the digest the mix would be taken for a record that neither run wrote.
    expect(() => JSON.parse(mix)).not.toThrow();
    writeFileSync(file('s00'), mix);
    expect(await new RunState(dir).record('align', 's00')).toBeNull();
    writeFileSync(file('s00'), newText.slice(0, cut));
    expect(await new RunState(dir).record('align', 's00')).toBeNull();
    // A whole new record reads, and its file is still JSON for any other reader.
    writeFileSync(file('s00'), newText);
    expect((await new RunState(dir).record('align', 's00'))?.fingerprint).toBe('bbbbbbbb');
    expect(JSON.parse(readFileSync(file('s00'), 'utf8')).fingerprint).toBe('bbbbbbbb');
  });

  it('reads a record an earlier version wrote (plain JSON, no digest), and overwrites a longer one to its own length', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tp-state-'));
    const state = new RunState(dir);
    mkdirSync(join(dir, 'records', 'align'), { recursive: true });
    const legacy = { ...rec('s00', 'x'), stats: { pad: 'p'.repeat(500) } };
    writeFileSync(file('s00'), JSON.stringify(legacy));
    expect(await state.record('align', 's00')).toEqual(legacy);
    await state.writeRecord(rec('s00', 'y'));
    expect(readFileSync(file('s00'), 'utf8')).toBe(recordText(rec('s00', 'y')));
    expect(parseRecord(readFileSync(file('s00'), 'utf8'))?.fingerprint).toBe('y');
    expect((await new RunState(dir).record('align', 's00'))?.fingerprint).toBe('y');
  });
});

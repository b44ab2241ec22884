/**
 * The files port over the disk: lines as bytes (CRLF, BOM, invalid UTF-8, lines across chunks),
 * Parquet rows in batches, and one-line `InputError`s for files that cannot be read, also
 * through the built CLI.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, nodeFiles } from '../../../pipeline/io/files.ts';
import { ConfigError } from '../../../schemas/config.ts';
import { Store } from '../../../pipeline/io/store.ts';
import type { TextLine } from '../../../stages/lib/ports.ts';
import { repoRoot } from '../../shared.ts';

const files = nodeFiles();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tp-files-'));
});
const write = async (name: string, body: string | Buffer) => {
  const f = join(dir, name);
  await writeFile(f, body);
  return f;
};
const allLines = async (f: string) => {
  const out: TextLine[] = [];
  for await (const l of files.lines(f)) out.push(l);
  return out;
};
/** The error a read raises, or null. */
const failure = async (read: () => Promise<unknown>): Promise<unknown> => {
  try {
    await read();
    return null;
  } catch (e) {
    return e;
  }
};

describe('nodeFiles().lines', () => {
  it('splits on \\n, drops a \\r before it and a leading BOM, keeps blank lines numbered', async () => {
    const f = await write('crlf.txt', '\ufeffa\r\n\r\nb\nc');
    expect(await allLines(f)).toEqual([
      { line: 1, text: 'a', valid: true },
      { line: 2, text: '', valid: true },
      { line: 3, text: 'b', valid: true },
      { line: 4, text: 'c', valid: true },
    ]);
    expect(await allLines(await write('empty.txt', ''))).toEqual([]);
  });

  it('marks a line of invalid UTF-8 and only that line', async () => {
    const f = await write(
      'bad.txt',
      Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x61, 0xff, 0x62]), Buffer.from('\né\n')]),
    );
    expect(await allLines(f)).toEqual([
      { line: 1, text: 'ok', valid: true },
      { line: 2, text: 'a\ufffdb', valid: false },
      { line: 3, text: 'é', valid: true },
    ]);
  });

  it('joins a line read across chunks, also through a character cut in two', async () => {
    // 65,535 ASCII bytes put the two bytes of "é" across the 64 KiB chunk boundary.
    const long = `${'x'.repeat(65_535)}é${'y'.repeat(200_000)}`;
    const lines = await allLines(await write('long.txt', `${long}\nend\n`));
    expect(lines.map((l) => [l.line, l.text.length, l.valid])).toEqual([
      [1, long.length, true],
      [2, 3, true],
    ]);
    expect(lines[0]!.text).toBe(long);
  });

  it('refuses a UTF-16 file as a whole', async () => {
    const f = await write('utf16.txt', Buffer.from('\ufeffa\nb', 'utf16le'));
    const e = await failure(() => allLines(f));
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`input ${f} is UTF-16 (it starts with a UTF-16 byte order mark), expected UTF-8`);
  });
});

describe('files that cannot be read are one InputError (a ConfigError: one line, exit 2)', () => {
  it.each([
    ['a missing file', 'none.jsonl', 'does not exist'],
    ['a folder', '.', 'is a folder, expected a file'],
  ])('%s', async (_c, name, problem) => {
    const f = join(dir, name);
    for (const read of [
      () => allLines(f),
      () => files.text(f),
      async () => {
        for await (const _ of files.parquetRows(f));
      },
    ]) {
      const e = await failure(read);
      expect(e).toBeInstanceOf(InputError);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toBe(`input ${f} ${problem}`);
    }
  });

  it('a file that is not Parquet, without DuckDB’s SQL echo', async () => {
    const f = await write('corrupt.parquet', 'PAR1 this is not a parquet file');
    const e = await failure(async () => {
      for await (const _ of files.parquetRows(f));
    });
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(new RegExp(`^input ${f} is not a readable Parquet file: [^\\n]+$`));
    expect((e as Error).message).not.toMatch(/SELECT|read_parquet|LINE 1|Error:/);
  });

  it('text of invalid UTF-8', async () => {
    const f = await write('bad.json', Buffer.from([0x5b, 0xff, 0x5d]));
    expect(((await failure(() => files.text(f))) as Error).message).toBe(`input ${f} is not valid UTF-8`);
  });
});

describe('nodeFiles().realpath', () => {
  it('resolves symlinks and gives null for a missing file', async () => {
    const target = await write('target.png', 'png');
    await mkdir(join(dir, 'sub'));
    await symlink(target, join(dir, 'sub', 'link.png'));
    expect(await files.realpath(join(dir, 'sub', 'link.png'))).toBe(target);
    expect(await files.realpath(join(dir, 'sub', 'none.png'))).toBeNull();
  });
});

describe('nodeFiles().parquetRows', () => {
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'rows.parquet');
    const s = await Store.open(':memory:');
    await s.run(
      `COPY (SELECT range::INTEGER + 1 AS n, range * 10 AS big, CASE WHEN range = 0 THEN 9007199254740993 ELSE 1 END AS huge,
        [range::VARCHAR, 'b'] AS steps, {'kind': 'number', 'tolerance': NULL} AS spec, NULL::VARCHAR AS nothing
        FROM range(5000)) TO '${file}' (FORMAT parquet)`,
    );
    s.close();
  });

  it('yields every row numbered from 1, as plain JSON values', async () => {
    const rows: { row: number; value: Record<string, unknown> }[] = [];
    for await (const r of files.parquetRows(file)) rows.push(r);
    expect(rows).toHaveLength(5000);
    expect(rows.every((r, i) => r.row === i + 1 && r.value.n === i + 1)).toBe(true);
    expect(rows[0]!.value).toEqual({
      n: 1,
      big: 0,
      huge: '9007199254740993',
      steps: ['0', 'b'],
      spec: { kind: 'number', tolerance: null },
      nothing: null,
    });
    expect(rows[4999]!.value.big).toBe(49_990);
  });

  it('stops cleanly when the reader stops early', async () => {
    let n = 0;
    for await (const _ of files.parquetRows(file)) if (++n === 3) break;
    expect(n).toBe(3);
  });
});

describe('through the built CLI', () => {
  const cli = join(repoRoot, 'dist', 'pipeline', 'cli', 'main.js');
  const run = promisify(execFile);
  const ingestWith = async (input: { path: string; format: string }) => {
    const config = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(config, JSON.stringify({ name: 'files', runs_dir: join(dir, 'runs'), inputs: [input] }));
    try {
      await run(process.execPath, [cli, 'ingest', '--config', config]);
      return { code: 0, stderr: '' };
    } catch (e) {
      const x = e as { code: number; stderr: string };
      return { code: x.code, stderr: x.stderr };
    }
  };

  it.each([
    ['a missing input file', 'missing.jsonl', 'jsonl', 'does not exist'],
    ['a corrupt Parquet file', 'corrupt.parquet', 'parquet', 'is not a readable Parquet file: '],
  ])(
    '%s: one line naming the file, no stack, exit 2',
    async (_c, name, format, problem) => {
      if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` first (make test does)`);
      const f = join(dir, name);
      if (name.endsWith('.parquet')) await write(name, 'PAR1 not parquet');
      const { code, stderr } = await ingestWith({ path: f, format });
      expect(code).toBe(2);
      // The error is the last line, one line naming the file.
      const lines = stderr.trimEnd().split('\n');
      expect(lines.at(-1)!.startsWith(`tracepipe: input ${f} ${problem}`), stderr).toBe(true);
      expect(lines.filter((l) => l.startsWith('tracepipe:'))).toHaveLength(1);
      expect(stderr).not.toMatch(/SELECT|LINE 1|\n\s+at /);
    },
    60_000,
  );
});

/**
 * The files port's `lines` in byte ranges: every part of a file together gives each line once,
 * in order, with its number in the whole file, wherever the cuts fall (inside a line, on a
 * newline, on a `\r\n`, in a run of blank lines, in a last line without a newline).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFiles } from '../../../pipeline/io/files.ts';
import type { TextLine } from '../../../stages/lib/ports.ts';

async function all(it: AsyncIterable<TextLine>): Promise<TextLine[]> {
  const out: TextLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('lines of a file in parts', () => {
  it('gives every line once with its number, for any number of parts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracepipe-lines-'));
    const lines = ['{"a":1}', '', 'é ünïcödé', '{"b":2}\r', '', '', 'x'.repeat(300), 'short', '{"c":3}', 'last'];
    const files = nodeFiles();
    for (const [name, text] of [
      ['nl.jsonl', `${lines.join('\n')}\n`],
      ['no-final-nl.jsonl', lines.join('\n')],
      ['bom.jsonl', `\ufeff${lines.join('\n')}\n`],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, text);
      const whole = await all(files.lines(file));
      expect(whole.map((l) => l.line)).toEqual(lines.map((_, i) => i + 1));
      for (let of = 1; of <= 40; of++) {
        const parts: TextLine[] = [];
        for (let index = 0; index < of; index++) parts.push(...(await all(files.lines(file, { index, of }))));
        expect(parts, `${name} in ${of} parts`).toEqual(whole);
      }
    }
  });
});

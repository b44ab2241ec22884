/** JSON lines as bytes: the same bytes as joining the lines, whatever characters they hold. */
import { describe, it, expect } from 'vitest';
import { linesBuffer } from '../../../pipeline/io/lines.ts';

const joined = (lines: string[]) => Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');

describe('linesBuffer', () => {
  it('gives the bytes of the joined lines for ASCII, Latin-1, two-byte and astral characters', () => {
    const cases: string[][] = [
      [],
      [''],
      ['{"a":1}'],
      ['{"q":"Janet’s ducks"}', '{"q":"café"}', '{"q":"plain"}'],
      ['{"e":"𝑥 = 2 🙂"}', '', '{"e":"µ Å °C"}'],
      [JSON.stringify({ lone: '\ud800' })],
    ];
    for (const lines of cases) expect(linesBuffer(lines).equals(joined(lines))).toBe(true);
  });

  it('ends every line, the last one included, with one newline', () => {
    const buf = linesBuffer(['x', 'y']);
    expect(buf.toString('utf8')).toBe('x\ny\n');
    expect(buf.length).toBe(4);
  });
});

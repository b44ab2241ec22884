import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalEquivalence } from '../../../pipeline/cli/commands/eval-equivalence.ts';

function cases(lines: string[]): string {
  const f = join(mkdtempSync(join(tmpdir(), 'eq-')), 'cases.jsonl');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('evalEquivalence', () => {
  it('summarises agreement and logs each disagreement with its reason', async () => {
    const log: string[] = [];
    const s = await evalEquivalence({
      cases: cases([
        '{"gold": "1/2", "pred": "0.5", "expected": 1}',
        '{"gold": "5 kJ", "pred": "5 kW", "expected": 1, "kind": "quantity"}',
        '{"gold": "B", "pred": "(B)", "expected": 1, "kind": "choice"}',
        '{"gold": "x", "pred": "y", "result": 0}',
      ]),
      log: (l) => log.push(l),
    });
    expect(s).toEqual({ agreement: 0.75, total: 4, disagree: 1, unknown: 0 });
    expect(log).toEqual([
      'line 2: expected 1, got false (dimensions differ: gold kg m^2 s^-2, prediction kg m^2 s^-3); gold "5 kJ" pred …"5 kW"',
    ]);
  });

  it.each([
    ['not json', /^malformed line 1: expected JSON, got "not json"/],
    ['[1, 2]', /^malformed line 1: expected a JSON object, got \[1,2\]$/],
    [
      '{"gold": 1, "pred": "1", "expected": 1}',
      /^malformed line 1: expected string fields gold and pred, got number and string$/,
    ],
    ['{"gold": "1", "pred": "1", "expected": 2}', /^malformed line 1: expected field expected to be 1 or 0, got 2$/],
    [
      '{"gold": "1", "pred": "1", "expected": 1, "kind": "vector"}',
      /^malformed line 1: expected kind to be one of number, expression, choice, quantity, formula, text, got "vector"$/,
    ],
  ])('reports the malformed line %s by number and counts it as a disagreement', async (line, msg) => {
    const log: string[] = [];
    const s = await evalEquivalence({ cases: cases([line]), log: (l) => log.push(l) });
    expect(s).toEqual({ agreement: 0, total: 1, disagree: 1, unknown: 0 });
    expect(log[0]).toMatch(msg);
  });

  it('logs JSON lines with --json', async () => {
    const log: string[] = [];
    await evalEquivalence({
      cases: cases(['{"gold": "1", "pred": "2", "expected": 1}']),
      json: true,
      log: (l) => log.push(l),
    });
    expect(JSON.parse(log[0] ?? '')).toEqual({
      line: 1,
      expected: 1,
      got: false,
      reason: 'numbers differ: gold 1, prediction 2',
      gold: '1',
      pred: '2',
    });
  });
});

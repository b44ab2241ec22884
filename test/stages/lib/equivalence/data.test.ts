import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { sharedData, describeShared, hasShared } from '../../../shared.ts';
import { equivalent, parseNumber } from '../../../../stages/lib/equivalence/index.ts';
import { evalEquivalence } from '../../../../pipeline/cli/commands/eval-equivalence.ts';
import { parseUnit } from '../../../../stages/lib/equivalence/units.ts';

describeShared('labelled equivalence cases', () => {
  it('agrees with all 16 Hendrycks MATH cases', async () => {
    const s = await evalEquivalence({
      cases: sharedData('answer-equivalence', 'hendrycks_math_cases.jsonl'),
      log: () => {},
    });
    expect(s).toEqual({ agreement: 1, total: 16, disagree: 0, unknown: 0 });
  });
  it('agrees with at least 95% of the 268 Math-Verify cases', async () => {
    const s = await evalEquivalence({
      cases: sharedData('answer-equivalence', 'math_verify_cases.jsonl'),
      log: () => {},
    });
    expect(s.total).toBe(268);
    expect(s.agreement).toBeGreaterThanOrEqual(0.95);
  });
});

const DIMS = ['kg', 'm', 's', 'A', 'K', 'cd', 'mol', 'rad', 'bit'];
const SCIBENCH = ['atkins', 'calculus', 'chemmc', 'class', 'diff', 'fund', 'matter', 'quan', 'stat', 'thermo'];

describeShared('SciBench answers with their units', () => {
  // describe bodies run even when skipped: read the data only where it exists.
  const rows = !hasShared
    ? []
    : SCIBENCH.flatMap((book) =>
        (
          JSON.parse(readFileSync(sharedData('scibench', `${book}.json`), 'utf8')) as {
            answer_number: string;
            unit: string;
            problemid: string;
          }[]
        ).map((r) => ({ book, id: r.problemid, value: parseNumber(r.answer_number) ?? NaN, unit: r.unit.trim() })),
      );

  it('reads all 580 rows', () => {
    expect(rows.length).toBe(580);
    expect(rows.filter((r) => Number.isNaN(r.value))).toEqual([]);
  });

  it('equals every answer rewritten in SI base units, and differs from it scaled by 1.1', () => {
    const bad: string[] = [];
    for (const r of rows) {
      const info = parseUnit(r.unit);
      if (!info) {
        bad.push(`${r.book} ${r.id}: unit ${JSON.stringify(r.unit)} unread`);
        continue;
      }
      const gold = `${r.value} ${r.unit}`;
      const si = r.value * info.factor + info.offset;
      const siUnit = info.dims
        .map((e, k) => (e ? `${DIMS[k]}^${e}` : ''))
        .filter(Boolean)
        .join(' ');
      // A dimensionless answer is rewritten as a percentage; zero is moved to 1 since 1.1 × 0 is 0.
      const other = siUnit ? `${si} ${siUnit}` : `${si * 100} %`;
      const scaled = r.value === 0 ? `1 ${r.unit}` : `${r.value * 1.1} ${r.unit}`;
      const same = equivalent(gold, other, { kind: 'quantity' });
      const diff = equivalent(gold, scaled, { kind: 'quantity' });
      if (same.equal !== true) bad.push(`${r.book} ${r.id}: ${gold} vs ${other}: ${same.reason}`);
      if (diff.equal !== false) bad.push(`${r.book} ${r.id}: ${gold} vs ${scaled}: ${diff.reason}`);
    }
    expect(bad).toEqual([]);
  });
});

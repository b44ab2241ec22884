import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../schemas/config.ts';

const parse = (extra: Record<string, unknown>) =>
  parseConfig({ name: 't', inputs: [{ path: 'p.jsonl' }], ...extra }, 'config c.json', '/d');

describe('config: final agreement, cut evidence, calibration inputs', () => {
  it('defaults tau_fa to 0.25, cut_evidence to arithmetic and node, inputs to data', () => {
    const c = parse({});
    expect(c.thresholds.tau_fa).toBe(0.25);
    expect(c.emit.cut_evidence).toEqual(['arithmetic', 'node']);
    expect(c.inputs[0]!.calibration).toBe(false);
    const d = parse({ thresholds: { tau_pc: 0.9 }, emit: { sft_per_problem: 1 } });
    expect([d.thresholds.tau_fa, d.emit.cut_evidence]).toEqual([0.25, ['arithmetic', 'node']]);
  });

  it('reads what a user sets', () => {
    const c = parse({
      inputs: [{ path: 'cal.jsonl', calibration: true }, { path: 'p.jsonl' }],
      thresholds: { tau_fa: 0.5 },
      emit: { cut_evidence: ['arithmetic'] },
    });
    expect(c.inputs.map((i) => [i.path, i.calibration])).toEqual([
      ['/d/cal.jsonl', true],
      ['/d/p.jsonl', false],
    ]);
    expect([c.thresholds.tau_fa, c.emit.cut_evidence]).toEqual([0.5, ['arithmetic']]);
  });

  it.each([
    [{ thresholds: { tau_fa: 1.5 } }, 'config c.json: thresholds.tau_fa should be a number in [0, 1], got 1.5'],
    [{ thresholds: { tau_fa: -0.2 } }, 'config c.json: thresholds.tau_fa should be a number in [0, 1], got -0.2'],
    [
      { emit: { cut_evidence: ['node', 'guess'] } },
      'config c.json: emit.cut_evidence.1 should be one of arithmetic, node, final, got "guess"',
    ],
    [
      { inputs: [{ path: 'p.jsonl', calibration: 'yes' }] },
      'config c.json: inputs.0.calibration should be true or false, got "yes"',
    ],
  ])('refuses %j, naming the key, what was expected and what came', (extra, message) => {
    expect(() => parse(extra)).toThrow(ConfigError);
    expect(() => parse(extra)).toThrow(message);
  });
});

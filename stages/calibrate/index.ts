/**
 * @module stages/calibrate
 * The calibrate stage (run grain): thresholds per domain from the labeled paths of every shard,
 * merged from score's per-segment summaries; and the one rule for the thresholds in force.
 */
import type { Config } from '../../schemas/config.ts';
import type { Thresholds } from '../score/score.ts';
import type { RunStage } from '../lib/stage.ts';
import type { Labeled } from '../score/index.ts';
import type { Calibration } from './calibrate.ts';

/** What the calibrate stage keeps: the calibration, and whether the config lets it move thresholds. */
export type CalibrationResult = Calibration & { enabled: boolean };

/** Thresholds in force for a domain: the calibrated pair where calibration is on and met its target, else the configured ones. */
export function thresholdsInForce(
  config: Pick<Config, 'thresholds'>,
  cal: CalibrationResult | null | undefined,
  domain: string,
): Thresholds {
  const base = config.thresholds;
  if (!cal?.enabled) return base;
  const d = cal.domains[domain] ?? cal.global;
  return d.met_target ? { ...base, tau_pc: d.tau_pc, tau_gc: d.tau_gc } : base;
}

export const calibrateStage: RunStage = {
  kind: 'run',
  name: 'calibrate',
  describe: 'thresholds per domain from labeled paths; AUROC, precision, coverage',
  version: 1,
  needs: ['scores'],
  config: (c) => [c.calibrate, c.thresholds],
  async run({ config, summaries }) {
    const labeled = ((summaries.scores as { labeled?: Labeled[] } | undefined)?.labeled ?? []).filter(
      (p) => p.label_source === 'gold' || p.label_source === 'given' || p.label_source === 'consensus',
    );
    const c = config.calibrate;
    const { tau_pc_low, tau_gc_low } = config.thresholds;
    const { calibrate } = await import('./calibrate.ts');
    const cal = calibrate(labeled, {
      targetPrecision: c.target_precision,
      minDomainPaths: c.min_domain_paths,
      lows: { tau_pc_low, tau_gc_low },
    });
    const result: CalibrationResult = { enabled: c.enabled, ...cal };
    return {
      result,
      files: { 'calibration.json': `${JSON.stringify(result, null, 2)}\n` },
      stats: { enabled: c.enabled, global: cal.global, domains: cal.domains },
    };
  },
};

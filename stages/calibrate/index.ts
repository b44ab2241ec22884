/**
 * @module stages/calibrate
 * The calibrate stage (run grain): thresholds (tau_pc, tau_gc, tau_fa) per domain from the gold
 * and given labels of every shard, from score's mergeable per-segment counts (never from the
 * paths themselves); and the one rule for the thresholds in force.
 */
import type { Config } from '../../schemas/config.ts';
import type { Thresholds } from '../score/regions.ts';
import type { RunStage } from '../lib/stage.ts';
import { calibrateFromCounts, thresholdsFor, type Calibration, type DomainCalibration } from './calibrate.ts';
import type { CalibrationCounts } from './counts.ts';

/** What the calibrate stage keeps: the calibration, and whether the config lets it move thresholds. */
export type CalibrationResult = Calibration & { enabled: boolean };

/** Thresholds in force for a domain: the calibrated ones where calibration is on and met its target, else the configured ones. */
export function thresholdsInForce(
  config: Pick<Config, 'thresholds'>,
  cal: CalibrationResult | null | undefined,
  domain: string,
): Thresholds {
  return cal?.enabled ? thresholdsFor(cal, config.thresholds)(domain) : config.thresholds;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));

/** One line a person reads for a domain's calibration. */
function line(c: DomainCalibration): string {
  const ci = (x: readonly number[] | undefined) => (x ? ` [${x.map(f3).join(', ')}]` : '');
  return `${c.source} tau_pc ${f3(c.tau_pc)} tau_gc ${f3(c.tau_gc)} tau_fa ${f3(c.tau_fa)}; precision ${f3(c.precision)}${ci(c.precision_ci)} coverage ${f3(c.coverage)}${ci(c.coverage_ci)}; AUROC pc ${f3(c.auroc_pc)} gc ${f3(c.auroc_gc)} fa ${f3(c.auroc_fa)} mean ${f3(c.auroc_mean)}; labels gold ${c.labels?.gold ?? 0} given ${c.labels?.given ?? 0}${c.met_target ? '' : c.source === 'closest' ? ' (target not met: the point with the highest precision lower bound taken)' : ' (target not met: configured thresholds kept)'}`;
}

export const calibrateStage: RunStage = {
  kind: 'run',
  name: 'calibrate',
  describe:
    'thresholds per domain from gold and given labels; AUROC, precision, coverage (Wilson lower bound meets the target)',
  version: 2,
  needs: ['scores'],
  config: (c) => [c.calibrate, c.thresholds],
  async run({ config, summaries }) {
    const counts = (summaries.scores as { calibration?: CalibrationCounts } | undefined)?.calibration;
    const c = config.calibrate;
    const opts = {
      targetPrecision: c.target_precision,
      minDomainPaths: c.min_domain_paths,
      thresholds: config.thresholds,
      unmet: c.unmet,
    };
    const cal = counts ? calibrateFromCounts(counts, opts) : (await import('./calibrate.ts')).calibrate([], opts);
    const result: CalibrationResult = { enabled: c.enabled, ...cal };
    return {
      result,
      files: { 'calibration.json': `${JSON.stringify(result, null, 2)}\n` },
      stats: {
        enabled: c.enabled,
        rule: cal.rule,
        calibrated_on: cal.calibrated_on,
        global: line(cal.global),
        ...Object.fromEntries(Object.entries(cal.domains).map(([d, x]) => [d, line(x)])),
        notes: cal.notes.join('; '),
      },
    };
  },
};

/**
 * @module stages
 * The pipeline's stages, in order. The engine runs them by their descriptors and knows none by name.
 */
import type { InputSource, StageDef } from './lib/stage.ts';
import { ingestSource, ingestStage } from './ingest/index.ts';
import { decomposeStage } from './decompose/index.ts';
import { generateStage } from './generate/index.ts';
import { alignStage } from './align/index.ts';
import { scoreStage } from './score/index.ts';
import { calibrateStage } from './calibrate/index.ts';
import { filterStage } from './filter/index.ts';
import { rectifyStage } from './rectify/index.ts';
import { emitStage } from './emit/index.ts';
import { reportStage } from './report/index.ts';

export const STAGES: readonly StageDef[] = [
  ingestStage,
  decomposeStage,
  generateStage,
  alignStage,
  scoreStage,
  calibrateStage,
  filterStage,
  rectifyStage,
  emitStage,
  reportStage,
];

/** Where the first stage's rows come from. */
export const SOURCE: InputSource = ingestSource;

/** @module pipeline/engine/layout  Where a run's published outputs live; the one place that knows it. */
import { join } from 'node:path';

/** The folder of dataset `name` (e.g. `sft`) of the run in `runDir`. */
export function datasetDir(runDir: string, name: string): string {
  return join(runDir, 'latest', name);
}

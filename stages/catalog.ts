/**
 * @module stages/catalog
 * What the command line says about each stage (name, description, tables), without loading any
 * stage's code: `tracepipe --help` and `--version` stay fast. Kept equal to the stages'
 * descriptors in `STAGES` by test/stages/catalog.test.ts.
 */

/** One stage as `--help` lists it. */
export type StageEntry =
  | {
      kind: 'problem';
      name: string;
      describe: string;
      command?: boolean;
      reads: readonly string[];
      writes: readonly string[];
    }
  | { kind: 'run'; name: string; describe: string; command?: boolean; needs: readonly string[] };

/** The stages in order, as in `STAGES` (stages/index.ts). */
export const STAGE_CATALOG: readonly StageEntry[] = [
  {
    kind: 'problem',
    name: 'ingest',
    describe: 'read and validate problems, build each ARS',
    reads: ['raw'],
    writes: ['problems', 'given_ars', 'imported_paths'],
  },
  {
    kind: 'problem',
    name: 'decompose',
    describe: 'keep each given ARS; ask the teacher model for the missing ones',
    reads: ['given_ars'],
    writes: ['ars_nodes', 'decomposed'],
  },
  {
    kind: 'problem',
    name: 'generate',
    describe: 'sample K reasoning paths per problem from the model server',
    reads: ['ars_nodes'],
    writes: ['paths', 'draws'],
  },
  {
    kind: 'problem',
    name: 'align',
    describe: 'map each path to node answers (numeric alignment, or an extractor model, for free text)',
    reads: ['ars_nodes', 'imported_paths', 'paths'],
    writes: ['aligned'],
  },
  {
    kind: 'problem',
    name: 'score',
    describe: 'verdicts, PC, GC, FA, final correctness, regions, First Failure Step',
    reads: ['ars_nodes', 'imported_paths', 'paths', 'aligned', 'draws'],
    writes: ['scores'],
  },
  {
    kind: 'run',
    name: 'calibrate',
    describe:
      'thresholds per domain from gold and given labels; AUROC, precision, coverage (Wilson lower bound meets the target)',
    needs: ['scores'],
  },
  {
    kind: 'problem',
    name: 'filter',
    describe: 'place paths in regions under the thresholds in force',
    reads: ['scores', 'ars_nodes'],
    writes: ['filtered'],
  },
  {
    kind: 'problem',
    name: 'rectify',
    describe: 'continue each path with an FFS from the prefix before it; keep continuations that pass the check',
    reads: ['ars_nodes', 'imported_paths', 'paths', 'scores'],
    writes: ['rectified', 'rectify_stats'],
  },
  {
    kind: 'problem',
    name: 'emit',
    describe: 'build the five training datasets',
    reads: ['ars_nodes', 'imported_paths', 'paths', 'scores', 'filtered', 'rectified'],
    writes: ['sft', 'preference', 'step_preference', 'stepwise', 'process_eval', 'emit_stats'],
  },
  {
    kind: 'run',
    name: 'report',
    // `tracepipe report <run>` is its own command (it needs no config).
    command: false,
    describe: 'one self-contained HTML page with charts and tables (report/index.html)',
    needs: ['filtered'],
  },
];

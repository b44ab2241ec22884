/** @module schemas/rejects  Bad input rows and failed requests, kept with their reasons. */
import { t, table, type Row } from './define.ts';

export const rejects = table('rejects', {
  stage: t.string(),
  /** Where the item came from: a file, or a problem id for generated items. */
  source: t.string(),
  /** The item: `line 12`, `row 3`, or `problem_id/path_id`. */
  item: t.string(),
  code: t.string(),
  /** Field path, e.g. `ars.1.depends_on`. */
  path: t.string(),
  message: t.string(),
  /** The raw input or reply, cut to 4 kB. */
  raw: t.nullable(t.string()),
});
export type Reject = Row<typeof rejects>;

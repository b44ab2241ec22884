/**
 * @module stages/ingest/cross
 * The checks that need more than one row: problem ids and path ids that repeat, and paths whose
 * problem is unknown. Every row of a problem id lands in one shard, so one shard's rows suffice.
 */
import type { ArsNode, Problem, Reject } from '../../schemas/index.ts';
import { ingestReject } from './adapter.ts';
import type { ImportedPath } from './paths.ts';
import type { At } from './validate.ts';

/** A problem that passed `validateProblem`, with where it was read. */
export interface ProblemEntry extends At {
  problem: Problem;
  nodes: ArsNode[];
}

/** A path that passed `validatePath`, with where it was read. */
export interface PathEntry extends At {
  path: ImportedPath;
}

export interface CrossChecked {
  problems: Problem[];
  nodes: ArsNode[];
  paths: ImportedPath[];
  rejects: Reject[];
}

/**
 * Checks one shard's rows together, given in input order: the first of a repeated problem id or
 * path id wins, the others are rejects naming where the first was read; a path whose problem is
 * not among `problems` is a reject naming that problem. Linear in the rows.
 */
export function crossCheck(problems: readonly ProblemEntry[], paths: readonly PathEntry[]): CrossChecked {
  const out: CrossChecked = { problems: [], nodes: [], paths: [], rejects: [] };
  const firstProblem = new Map<string, string>();
  for (const e of problems) {
    const id = e.problem.problem_id;
    const first = firstProblem.get(id);
    if (first !== undefined) {
      out.rejects.push(
        ingestReject(
          e.source,
          e.item,
          'duplicate',
          'problem_id',
          `${e.item}: problem_id ${JSON.stringify(id)} repeats ${first}`,
          e.problem,
        ),
      );
      continue;
    }
    firstProblem.set(id, e.problem.source);
    out.problems.push(e.problem);
    for (const n of e.nodes) out.nodes.push(n);
  }
  const firstPath = new Map<string, string>();
  for (const e of paths) {
    const { path_id, problem_id } = e.path;
    const first = firstPath.get(path_id);
    if (!firstProblem.has(problem_id))
      out.rejects.push(
        ingestReject(
          e.source,
          e.item,
          'invalid_reference',
          'problem_id',
          `${e.item}: path ${path_id} refers to problem ${problem_id}, which was not ingested`,
          e.path,
        ),
      );
    else if (first !== undefined)
      out.rejects.push(
        ingestReject(
          e.source,
          e.item,
          'duplicate',
          'path_id',
          `${e.item}: path ${path_id} appears twice (first at ${first})`,
          e.path,
        ),
      );
    else {
      firstPath.set(path_id, `${e.source} ${e.item}`);
      out.paths.push(e.path);
    }
  }
  return out;
}

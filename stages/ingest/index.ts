/**
 * @module stages/ingest
 * The ingest stage: its source (every input file through its adapter, streamed as raw rows that
 * the engine buckets by problem id) and its work on one shard: validate each problem and path,
 * build each ARS, check the shard's rows together (repeated ids, paths of unknown problems), and
 * keep bad rows as rejects naming the item, the field, what was expected and what came.
 * Its output fingerprint of a problem is the content hash of the problem and its imported paths,
 * so moving a problem to another line re-runs ingest only, never the stages after it.
 */
import { dirname, resolve } from 'node:path';
import type { PathRow } from '../../schemas/index.ts';
import type { RawItem, StateReject } from '../../schemas/state.ts';
import { rowsOf, type InputSource, type ProblemStage, type StageOutput } from '../lib/stage.ts';
import { canReadInParts, openInput } from './ingest.ts';
import { validateProblem, contentHash, type IngestOptions } from './validate.ts';
import { validatePath, withPathDefaults } from './paths.ts';
import { crossCheck, type PathEntry, type ProblemEntry } from './cross.ts';

/** The problem id a raw row belongs to, or null when it has none to bucket it by. */
const problemIdOf = (v: unknown) => {
  const id = (v as { problem_id?: unknown } | null)?.problem_id;
  return typeof id === 'string' && id.trim() !== '' ? id : null;
};

/** Every input's rows, as read; a row without a problem id is a reject of the input itself. */
export const ingestSource: InputSource = {
  partable: (config, input) => config.inputs[input] !== undefined && canReadInParts(config.inputs[input]),
  async *items(config, files, _log, only, part) {
    const memo = new Map<string, Promise<unknown>>();
    for (const [input, spec] of config.inputs.entries()) {
      if (only !== undefined && input !== only) continue;
      const opened = openInput(spec, files, memo, part);
      for await (const it of opened.items) {
        if (it.kind === 'reject') {
          yield { reject: it.reject };
          continue;
        }
        const id = problemIdOf(it.value);
        if (id === null) {
          const got = (it.value as { problem_id?: unknown } | null)?.problem_id;
          yield {
            reject: {
              stage: 'ingest',
              source: opened.source,
              item: it.item,
              code: got === undefined || got === null ? 'missing' : 'invalid_type',
              path: 'problem_id',
              message: `${it.item}: problem_id is required (a non-empty string), got ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
              raw: JSON.stringify(it.value)?.slice(0, 4096) ?? null,
            },
          };
          continue;
        }
        yield {
          problem_id: id,
          kind: it.kind,
          input,
          source: opened.source,
          item: it.item,
          value: ('text' in it && it.text !== undefined ? it.text.trim() : undefined) ?? JSON.stringify(it.value),
          calibration: spec.calibration,
          defaults: it.kind === 'path' && it.defaults === true,
        } satisfies RawItem;
      }
    }
  },
};

/** Problems (with their given ARS) and imported paths of one shard, validated. */
export const ingestStage: ProblemStage & { source: InputSource } = {
  kind: 'problem',
  name: 'ingest',
  describe: 'read and validate problems, build each ARS',
  version: 2,
  reads: ['raw'],
  writes: ['problems', 'given_ars', 'imported_paths'],
  cpu: true,
  source: ingestSource,
  config: (c) => [c.inputs.map((i) => ({ format: i.format, calibration: i.calibration })), c.ingest],
  totals: (t) => ({
    problems: t.rows.problems ?? 0,
    ars_nodes: t.rows.given_ars ?? 0,
    imported_paths: t.rows.imported_paths ?? 0,
  }),
  flow: (t) => [
    { step: 'ingest: problems', outcome: 'kept', rows: t.rows.problems ?? 0 },
    ...Object.entries(t.rejects).map(([outcome, rows]) => ({ step: 'ingest: problems', outcome, rows })),
  ],
  async run(bundles, ctx): Promise<StageOutput> {
    const opts: IngestOptions = { maxQuestionBytes: ctx.config.ingest.max_question_bytes };
    const roots = ctx.config.inputs.map((i) => dirname(resolve(i.path)));
    const problems: ProblemEntry[] = [];
    const paths: PathEntry[] = [];
    const rejects: StateReject[] = [];
    const pathHash = new Map<string, string>();
    for (const b of bundles) {
      // A problem's rows come in input order (every part of an input in turn): counted per input, as one reader would.
      const seen = new Map<number, Map<string, number>>();
      for (const r of rowsOf<RawItem>(b, 'raw')) {
        let value = JSON.parse(r.value) as unknown;
        if (r.defaults) {
          let s = seen.get(r.input);
          if (!s) seen.set(r.input, (s = new Map()));
          value = withPathDefaults(value, s);
        }
        if (r.kind === 'problem') {
          const v = await validateProblem(
            value,
            { source: r.source, item: r.item, root: roots[r.input] ?? process.cwd() },
            opts,
            ctx.files,
          );
          if (v.ok)
            problems.push({
              source: r.source,
              item: r.item,
              problem: { ...v.problem, role: r.calibration ? 'calibration' : 'data' },
              nodes: v.nodes,
            });
          else for (const x of v.rejects) rejects.push({ ...x, problem_id: r.problem_id });
        } else {
          const v = validatePath(value, { source: r.source, item: r.item }, opts);
          if (v.ok) {
            paths.push({ source: r.source, item: r.item, path: v.path });
            pathHash.set(`${v.path.problem_id}\u0000${v.path.path_id}`, v.content_hash);
          } else for (const x of v.rejects) rejects.push({ ...x, problem_id: r.problem_id });
        }
      }
    }
    const checked = crossCheck(problems, paths);
    for (const x of checked.rejects) rejects.push({ ...x, problem_id: problemOfReject(x.item, bundles) });
    const imported: PathRow[] = checked.paths.map((p) => ({ ...p, run_id: ctx.runId }));
    // Downstream sees a problem change only when its content or its paths' content changes.
    const hashes = new Map<string, string[]>();
    for (const p of checked.paths)
      (hashes.get(p.problem_id) ?? hashes.set(p.problem_id, []).get(p.problem_id)!).push(
        pathHash.get(`${p.problem_id}\u0000${p.path_id}`) ?? '',
      );
    const fingerprints: Record<string, string> = {};
    for (const p of checked.problems)
      fingerprints[p.problem_id] = contentHash([p.content_hash, p.role, hashes.get(p.problem_id) ?? []]);
    const byDomain: Record<string, number> = {};
    for (const p of checked.problems) byDomain[p.domain] = (byDomain[p.domain] ?? 0) + 1;
    return {
      rows: { problems: checked.problems, given_ars: checked.nodes, imported_paths: imported },
      rejects,
      fingerprints,
      stats: {
        problems: checked.problems.length,
        imported_paths: imported.length,
        rejects: rejects.length,
        by_domain: byDomain,
        // Publish reads the problems of a shard only when some have images (TRL's vision datasets).
        with_images: checked.problems.filter((p) => p.images.length > 0).length,
      },
    };
  },
};

/** The problem a cross-check reject belongs to: the bundle whose raw rows hold that item. */
function problemOfReject(
  item: string,
  bundles: readonly { problem: { problem_id: string }; rows: { raw?: readonly unknown[] } }[],
): string {
  for (const b of bundles)
    if ((b.rows.raw as RawItem[] | undefined)?.some((r) => r.item === item)) return b.problem.problem_id;
  return bundles[0]?.problem.problem_id ?? '';
}

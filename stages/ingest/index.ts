/**
 * @module stages/ingest
 * The ingest stage: its source (every input file through its adapter, as raw rows the engine
 * buckets by problem) and its work on one shard: validate each problem and path, build each
 * ARS, and keep bad rows as rejects naming the item, the field, what was expected and what came.
 * Its output fingerprint of a problem is the content hash of the problem and its imported paths,
 * so moving a problem to another line re-runs ingest only, never the stages after it.
 */
import { basename, dirname, resolve } from 'node:path';
import { problemInput, type ArsNode, type PathRow, type Problem } from '../../schemas/index.ts';
import type { RawItem, StateReject } from '../../schemas/state.ts';
import { buildArs } from '../lib/ars.ts';
import { rowsOf, type InputSource, type ProblemStage, type StageOutput } from '../lib/stage.ts';
import { adapterFor, checkImage, contentHash, inferSpec } from './ingest.ts';

/** Every input's rows, as read: problems in the project's format, imported paths, rows that could not be read. */
export const ingestSource: InputSource = {
  async *items(config) {
    for (const [input, spec] of config.inputs.entries()) {
      const source = basename(spec.path);
      const adapted = await (await adapterFor(spec))(spec.path);
      for (const reject of adapted.rejects) yield { reject };
      const calibration = (spec as { calibration?: boolean }).calibration === true;
      for (const { item, value } of adapted.problems) {
        const id = (value as { problem_id?: unknown } | null)?.problem_id;
        if (typeof id !== 'string' || id.trim() === '') {
          yield {
            reject: {
              stage: 'ingest',
              source,
              item,
              code: id === undefined || id === null ? 'missing' : 'invalid_type',
              path: 'problem_id',
              message: `${item}: problem_id is required (a non-empty string), got ${id === undefined ? 'nothing' : JSON.stringify(id)}`,
              raw: JSON.stringify(value)?.slice(0, 4096) ?? null,
            },
          };
          continue;
        }
        yield { problem_id: id, kind: 'problem', input, source, item, value: JSON.stringify(value), calibration };
      }
      for (const path of adapted.paths) {
        yield {
          problem_id: path.problem_id,
          kind: 'path',
          input,
          source,
          item: path.path_id,
          value: JSON.stringify(path),
          calibration,
        };
      }
    }
  },
};

/** Validates one shard's raw rows: problems, their ARS, and the imported paths of known problems. */
function validateShard(raw: readonly RawItem[], roots: readonly string[], runId: string) {
  const problems: Problem[] = [];
  const nodes: ArsNode[] = [];
  const paths: PathRow[] = [];
  const rejects: StateReject[] = [];
  const seen = new Map<string, string>();
  for (const r of raw.filter((x) => x.kind === 'problem')) {
    const value = JSON.parse(r.value) as Record<string, unknown>;
    const reject = (code: string, path: string, message: string) =>
      rejects.push({
        problem_id: r.problem_id,
        stage: 'ingest',
        source: r.source,
        item: r.item,
        code,
        path,
        message: `${r.item}: ${message}`,
        raw: r.value.slice(0, 4096),
      });
    const v = problemInput.validate(value);
    if (!v.ok) {
      for (const i of v.issues) reject(i.code, i.path, i.message);
      continue;
    }
    const p = v.value;
    const where = `${r.source} ${r.item}`;
    const dup = seen.get(p.problem_id);
    if (dup) {
      reject('duplicate', 'problem_id', `problem_id ${JSON.stringify(p.problem_id)} repeats ${dup}`);
      continue;
    }
    const images = p.images.map((img, i) => checkImage(img, roots[r.input] ?? process.cwd(), `images.${i}`));
    const badImage = images.find((x) => 'issue' in x);
    if (badImage && 'issue' in badImage) {
      reject('invalid_path', badImage.path, badImage.issue);
      continue;
    }
    const answer_spec = inferSpec(p.answer, value, 'answer_spec');
    const ars = buildArs(
      p.problem_id,
      p.ars.map((n, i) => ({
        ...n,
        answer_spec: inferSpec(n.answer, (value.ars as unknown[] | undefined)?.[i], 'answer_spec'),
      })),
      { question: p.question, answer: p.answer, answer_spec },
    );
    if ('issues' in ars) {
      for (const i of ars.issues) reject(i.code, i.path, i.message);
      continue;
    }
    seen.set(p.problem_id, where);
    problems.push({
      problem_id: p.problem_id,
      domain: p.domain,
      question: p.question,
      images: images.map((x) => ('file' in x ? x.file : '')),
      choices: p.choices,
      answer: p.answer,
      answer_spec,
      source: where,
      content_hash: contentHash({ ...p, answer_spec }),
    });
    nodes.push(...ars.nodes);
  }
  const known = new Set(problems.map((p) => p.problem_id));
  const seenPaths = new Set<string>();
  for (const r of raw.filter((x) => x.kind === 'path')) {
    const path = JSON.parse(r.value) as Omit<PathRow, 'run_id'>;
    const bad = (code: string, field: string, message: string) =>
      rejects.push({
        problem_id: r.problem_id,
        stage: 'ingest',
        source: r.source,
        item: r.item,
        code,
        path: field,
        message,
        raw: null,
      });
    if (!known.has(path.problem_id))
      bad(
        'invalid_reference',
        'problem_id',
        `path ${r.item} refers to problem ${path.problem_id}, which was not ingested`,
      );
    else if (seenPaths.has(path.path_id)) bad('duplicate', 'path_id', `path ${r.item} appears twice`);
    else {
      seenPaths.add(path.path_id);
      paths.push({ ...path, run_id: runId });
    }
  }
  return { problems, nodes, paths, rejects };
}

/** Problems (with their given ARS) and imported paths of one shard, validated. */
export const ingestStage: ProblemStage & { source: InputSource } = {
  kind: 'problem',
  name: 'ingest',
  describe: 'read and validate problems, build each ARS',
  version: 1,
  reads: ['raw'],
  writes: ['problems', 'given_ars', 'imported_paths'],
  cpu: true,
  source: ingestSource,
  config: (c) => c.inputs.map((i) => ({ format: i.format })),
  totals: (t) => ({
    problems: t.rows.problems ?? 0,
    ars_nodes: t.rows.given_ars ?? 0,
    imported_paths: t.rows.imported_paths ?? 0,
    rejects: t.rejects,
  }),
  flow: (t) => [
    { step: 'ingest: problems', outcome: 'kept', rows: t.rows.problems ?? 0 },
    ...Object.entries(t.rejects).map(([outcome, rows]) => ({ step: 'ingest: problems', outcome, rows })),
  ],
  async run(bundles, ctx): Promise<StageOutput & { fingerprints: Record<string, string> }> {
    const raw = bundles.flatMap((b) => rowsOf<RawItem>(b, 'raw'));
    const roots = ctx.config.inputs.map((i) => dirname(resolve(i.path)));
    const v = validateShard(raw, roots, ctx.runId);
    const fingerprints: Record<string, string> = {};
    const pathsOf = new Map<string, string[]>();
    for (const p of v.paths)
      (pathsOf.get(p.problem_id) ?? pathsOf.set(p.problem_id, []).get(p.problem_id)!).push(
        contentHash({ ...p, run_id: null }),
      );
    for (const p of v.problems)
      fingerprints[p.problem_id] = contentHash([p.content_hash, pathsOf.get(p.problem_id) ?? []]);
    const byDomain: Record<string, number> = {};
    for (const p of v.problems) byDomain[p.domain] = (byDomain[p.domain] ?? 0) + 1;
    return {
      rows: { problems: v.problems, given_ars: v.nodes, imported_paths: v.paths },
      rejects: v.rejects,
      fingerprints,
      stats: {
        problems: v.problems.length,
        ars_nodes: v.nodes.length,
        imported_paths: v.paths.length,
        rejects: v.rejects.length,
        rejected_items: new Set(v.rejects.map((r) => `${r.source}\u0000${r.item}`)).size,
        by_domain: byDomain,
      },
    };
  },
};

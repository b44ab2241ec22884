/**
 * @module pipeline/engine/descriptors
 * The pipeline's stage descriptors, in order: each reads its input tables from the store,
 * calls its stage function (rows in, rows out), and writes its output tables back.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  alignedPaths,
  arsNodes,
  paths as pathsTable,
  problems as problemsTable,
  rejects,
  scoredPaths,
  type PathRow,
  type Reject,
  type ScoredPath,
} from '../../schemas/index.ts';
import { ingest } from '../../stages/ingest/ingest.ts';
import { generate } from '../../stages/generate/generate.ts';
import { decompose } from '../../stages/decompose/decompose.ts';
import { createProgress } from '../io/client/progress.ts';
import { defaultGenerateConfig, extractorGenerateConfig } from '../io/client/config.ts';
import { dirname } from 'node:path';
import { align } from '../../stages/align/align.ts';
import { alignAllWithExtractor } from '../../stages/align/extract-all.ts';
import { openModel } from '../io/client/open.ts';
import { imagePort } from '../io/client/images.ts';
import { score, type Thresholds } from '../../stages/score/score.ts';
import {
  calibrate,
  thresholdsFor as calibratedThresholds,
  type Calibration,
} from '../../stages/calibrate/calibrate.ts';
import { scoreStats } from '../../stages/score/stats.ts';
import { filter } from '../../stages/filter/filter.ts';
import { emit } from '../../stages/emit/emit.ts';
import { reportStage } from '../../stages/report/index.ts';
import { datasetCard } from '../../stages/emit/card.ts';
import { writeFileAtomic, type Store } from '../io/store.ts';
import type { Stage, StageContext } from './runner.ts';
import { ConfigError, type Config } from '../../schemas/config.ts';

export const importedPaths = pathsTable.as('imported_paths');
export const filteredPaths = scoredPaths.as('filtered_paths');

/** Replaces one stage's rows of the shared rejects table. */
async function putRejects(store: Store, stage: string, rows: readonly Reject[]): Promise<void> {
  await store.ensure(rejects);
  await store.run(`DELETE FROM rejects WHERE stage = '${stage}'`);
  await store.append(rejects, rows);
}

const countBy = <T>(rows: readonly T[], key: (r: T) => string) =>
  rows.reduce<Record<string, number>>((m, r) => ({ ...m, [key(r)]: (m[key(r)] ?? 0) + 1 }), {});

const ingestStage: Stage = {
  name: 'ingest',
  describe: 'read and validate problems, build each ARS',
  inputs: ['input files'],
  outputs: ['problems', 'ars_nodes', 'imported_paths', 'rejects'],
  configSlice: (c) => c.inputs,
  async run(ctx) {
    const out = await ingest(ctx.config.inputs, { runId: ctx.runId });
    await ctx.store.replace(problemsTable, out.problems);
    await ctx.store.replace(arsNodes, out.nodes);
    await ctx.store.replace(importedPaths, out.paths);
    await putRejects(ctx.store, 'ingest', out.rejects);
    for (const r of out.rejects.slice(0, 20)) ctx.log(`  rejected ${r.source} ${r.message}`);
    if (out.rejects.length > 20) ctx.log(`  … and ${out.rejects.length - 20} more rejects (see rejects.parquet)`);
    const rejectedItems = new Set(out.rejects.map((r) => `${r.source}\u0000${r.item}`)).size;
    return {
      problems: out.problems.length,
      ars_nodes: out.nodes.length,
      imported_paths: out.paths.length,
      rejected_items: rejectedItems,
      rejects: out.rejects.length,
      by_domain: countBy(out.problems, (p) => p.domain),
    };
  },
};

/** Images may be read only from the folders of the input files. */
const imageRoots = (c: Config) => [...new Set(c.inputs.map((i) => dirname(i.path)))];

const decomposeStage: Stage = {
  name: 'decompose',
  describe: 'keep each given ARS; ask the teacher model for the missing ones',
  inputs: ['problems', 'ars_nodes'],
  outputs: ['ars_nodes', 'rejects'],
  configSlice: (c) =>
    c.decompose && {
      model: c.decompose.model,
      temperature: c.decompose.temperature,
      max_tokens: c.decompose.max_tokens,
    },
  async run(ctx) {
    const nodes = await ctx.store.read(arsNodes);
    const problems = await ctx.store.read(problemsTable);
    const withArs = new Set(nodes.filter((n) => !n.is_final).map((n) => n.problem_id));
    const missing = problems.filter((p) => !withArs.has(p.problem_id)).length;
    const t = ctx.config.decompose;
    if (!t || missing === 0)
      return {
        kept: problems.length - missing,
        without_ars: missing,
        note: t ? 'every problem has an ARS' : 'no teacher model configured: problems without an ARS keep only F',
      };
    const gen = {
      ...defaultGenerateConfig,
      k: 1,
      temperature: t.temperature,
      max_tokens: t.max_tokens,
      seed: 0,
      use_n: false,
    };
    const m = await openModel(ctx.store, { base_url: t.base_url, model: t.model, api_key_env: t.api_key_env }, gen, {
      signal: ctx.signal,
      log: ctx.log,
    });
    let out: Awaited<ReturnType<typeof decompose>>;
    try {
      out = await decompose(
        { problems, nodes },
        { generate: gen },
        { model: m.port, images: imagePort(imageRoots(ctx.config)), log: ctx.log },
      );
    } finally {
      await m.close();
    }
    await ctx.store.replace(arsNodes, out.nodes);
    await putRejects(ctx.store, 'decompose', out.rejects);
    return { ...out.stats };
  },
};

const generateStage: Stage = {
  name: 'generate',
  describe: 'sample K reasoning paths per problem from the model server',
  inputs: ['problems', 'ars_nodes', 'imported_paths'],
  outputs: ['paths', 'rejects'],
  // The server's address is not part of the fingerprint: the same model elsewhere gives the same cached paths.
  configSlice: (c) => ({ model: c.model?.model ?? null, generate: c.generate }),
  async run(ctx) {
    const imported = await ctx.store.read(importedPaths);
    if (!ctx.config.generate || !ctx.config.model) {
      await ctx.store.replace(pathsTable, imported);
      return { imported: imported.length, generated: 0, note: 'no model configured: imported paths only' };
    }
    const g = ctx.config.generate;
    const problems = await ctx.store.read(problemsTable);
    const gen = { ...g, prices: Object.fromEntries(g.prices.map(({ model, ...p }) => [model, p])) };
    const m = await openModel(ctx.store, ctx.config.model, gen, { signal: ctx.signal, log: ctx.log });
    let out: Awaited<ReturnType<typeof generate>>;
    try {
      out = await generate(
        { problems, nodes: await ctx.store.read(arsNodes) },
        { generate: gen, runId: ctx.runId },
        {
          model: m.port,
          images: imagePort(imageRoots(ctx.config)),
          log: ctx.log,
          progress: createProgress('generate', problems.length * g.modes.length * g.k),
        },
      );
    } finally {
      await m.close();
    }
    await ctx.store.replace(pathsTable, [...imported, ...out.paths]);
    await putRejects(ctx.store, 'generate', out.rejects);
    return { ...out.stats, imported: imported.length, generated: out.paths.length, rejected_paths: out.rejects.length };
  },
};

const alignStage: Stage = {
  name: 'align',
  describe: 'map each path to node answers (numeric alignment, or an extractor model, for free text)',
  inputs: ['paths', 'ars_nodes'],
  outputs: ['aligned_paths', 'rejects'],
  configSlice: (c) =>
    c.align.mode === 'numeric' ? 'numeric' : { mode: c.align.mode, model: c.align.extractor?.model ?? null },
  async run(ctx) {
    const input = { paths: await ctx.store.read(pathsTable), nodes: await ctx.store.read(arsNodes) };
    const a = ctx.config.align;
    let extra: Record<string, unknown> = {};
    let out: { paths: PathRow[] };
    if (a.mode === 'extractor') {
      if (!a.extractor)
        throw new ConfigError('align.mode is "extractor" but align.extractor (base_url, model) is not set');
      const gen = extractorGenerateConfig(ctx.config.generate?.concurrency);
      const m = await openModel(ctx.store, a.extractor, gen, { signal: ctx.signal, log: ctx.log });
      let r: Awaited<ReturnType<typeof alignAllWithExtractor>>;
      try {
        r = await alignAllWithExtractor(input, gen, { model: m.port });
      } finally {
        await m.close();
      }
      await putRejects(ctx.store, 'align', r.rejects);
      out = r;
      extra = { ...r.stats };
    } else {
      out = align(input);
    }
    await ctx.store.replace(alignedPaths, out.paths);
    const answered = out.paths.flatMap((p) => p.node_answers.filter((x) => x.node_id !== 'F'));
    return {
      mode: a.mode,
      paths: out.paths.length,
      node_answers: answered.length,
      unaligned: answered.filter((x) => x.answer === null).length,
      ...extra,
    };
  },
};

const scoreStage: Stage = {
  name: 'score',
  describe: 'verdicts, PC, GC, final correctness, regions, First Failure Step',
  inputs: ['problems', 'ars_nodes', 'aligned_paths'],
  outputs: ['scored_paths'],
  configSlice: (c) => c.thresholds,
  async run(ctx) {
    const out = score(
      {
        problems: await ctx.store.read(problemsTable),
        nodes: await ctx.store.read(arsNodes),
        paths: await ctx.store.read(alignedPaths),
      },
      { runId: ctx.runId, thresholds: ctx.config.thresholds },
    );
    await ctx.store.replace(scoredPaths, out.scored);
    return scoreStats(out.scored);
  },
};

const calibrateStage: Stage = {
  name: 'calibrate',
  describe: 'thresholds per domain from labeled paths; AUROC, precision, coverage',
  inputs: ['scored_paths'],
  outputs: ['calibration.json'],
  configSlice: (c) => [c.calibrate, c.thresholds],
  async run(ctx) {
    const c = ctx.config.calibrate;
    const cal = calibrate(await ctx.store.read(scoredPaths), {
      targetPrecision: c.target_precision,
      minDomainPaths: c.min_domain_paths,
      thresholds: ctx.config.thresholds,
    });
    await writeFileAtomic(
      join(ctx.runDir, 'calibration.json'),
      `${JSON.stringify({ enabled: c.enabled, ...cal }, null, 2)}\n`,
    );
    return {
      enabled: c.enabled,
      rule: cal.rule,
      calibrated_on: cal.calibrated_on,
      notes: cal.notes,
      global: cal.global,
      domains: cal.domains,
    };
  },
};

/** Thresholds in force per domain: calibrated ones where calibration met its target. */
export async function thresholdsFor(ctx: StageContext): Promise<(domain: string) => Thresholds> {
  const base = ctx.config.thresholds;
  let cal: (Calibration & { enabled: boolean }) | null = null;
  try {
    cal = JSON.parse(await readFile(join(ctx.runDir, 'calibration.json'), 'utf8'));
  } catch {
    cal = null;
  }
  return cal?.enabled ? calibratedThresholds(cal, base) : () => base;
}

const filterStage: Stage = {
  name: 'filter',
  describe: 'place paths in regions under the thresholds in force',
  inputs: ['scored_paths', 'calibration.json'],
  outputs: ['filtered_paths'],
  configSlice: (c) => [c.thresholds, c.calibrate],
  async run(ctx) {
    const out = filter(await ctx.store.read(scoredPaths), await thresholdsFor(ctx));
    await ctx.store.replace(filteredPaths, out.paths);
    return { categories: out.categories, moved_by_calibration: out.moved };
  },
};

const emitStage: Stage = {
  name: 'emit',
  describe: 'build and publish the five training datasets',
  inputs: ['problems', 'ars_nodes', 'filtered_paths'],
  outputs: ['out/<dataset>/part-*.parquet', 'README.md', 'stats.json'],
  configSlice: (c) => [c.emit, c.name],
  async run(ctx) {
    const problems = await ctx.store.read(problemsTable);
    const datasets = emit(
      { problems, nodes: await ctx.store.read(arsNodes), scored: await ctx.store.read(filteredPaths) },
      ctx.config.emit,
    );
    // TRL treats any `images` column as a vision dataset: a text-only run publishes none.
    const textOnly = problems.every((p) => p.images.length === 0);
    const stats: Record<string, unknown> = {};
    for (const d of datasets) {
      await ctx.store.replace(d.table, d.built.rows as never[]);
      const dropImages = textOnly && d.table.columns.includes('images');
      const published = dropImages ? d.table.without('images') : d.table;
      const dir = join(ctx.runDir, 'out', d.name);
      const files = await ctx.store.publishParquet(
        dropImages ? `SELECT * EXCLUDE (images) FROM "${d.name}"` : d.name,
        dir,
        { rowsPerPart: ctx.config.emit.rows_per_part },
      );
      const model = ctx.config.model?.model ?? 'imported';
      await writeFileAtomic(
        join(dir, 'README.md'),
        datasetCard(published, {
          title: d.title,
          summary: d.summary,
          rows: d.built.rows.length,
          candidates: d.built.candidates,
          dropped: d.built.dropped,
          settings: { ...ctx.config.emit, thresholds: ctx.config.thresholds, calibrate: ctx.config.calibrate },
          trl: d.trl,
          runId: ctx.runId,
          model,
          simulated: ctx.config.model?.simulated ?? false,
        }),
      );
      const s = {
        rows: d.built.rows.length,
        candidates: d.built.candidates,
        dropped: d.built.dropped,
        files: files.map((f) => f.slice(ctx.runDir.length + 1)),
      };
      await writeFileAtomic(join(dir, 'stats.json'), `${JSON.stringify(s, null, 2)}\n`);
      stats[d.name] = s;
    }
    await ctx.store.ensure(rejects);
    await ctx.store.writeParquetFile('rejects', join(ctx.runDir, 'rejects.parquet'));
    return stats;
  },
};

/** Counts the summary shows (score's stats). */
export const summarise = scoreStats;

export const STAGES: readonly Stage[] = [
  ingestStage,
  decomposeStage,
  generateStage,
  alignStage,
  scoreStage,
  calibrateStage,
  filterStage,
  emitStage,
  reportStage,
];

/** Stages whose config slice does not depend on the model (for help texts). */
export const stageNames = STAGES.map((s) => s.name);
export type { Config };

/**
 * @module stages/emit/card
 * Hugging Face cards: one per dataset (its folder loads on its own) and one for the snapshot's
 * top level (a dataset repository with one config per dataset). YAML configs and features derive
 * from the table declarations; the load snippets use exactly the paths the YAML declares.
 */
import type { HfFeature, Shape, Table } from '../../schemas/define.ts';
import type { SnapshotRef, ThresholdsInForce } from '../report/data.ts';

/** What both kinds of card say about where the rows come from. */
export interface RepoCardInfo {
  /** The run's name. */
  run: string;
  runId: string;
  model: string;
  simulated: boolean;
  /** The snapshot the card belongs to and its parent; null when outputs are published in place, outside any snapshot. */
  snapshot: SnapshotRef | null;
  /** Thresholds in force after calibration, for the run and per domain. */
  thresholds: ThresholdsInForce;
}

export interface CardInfo extends RepoCardInfo {
  title: string;
  summary: string;
  rows: number;
  dropped: Record<string, number>;
  candidates: number;
  /** The dataset's own settings, as configured. */
  settings: Record<string, unknown>;
  trl: string;
}

/** Where a dataset's parts are, relative to its own folder; the repository card prefixes the dataset's name. */
export const PARTS = 'part-*.parquet';

/** YAML lines for one feature, at `indent` spaces. */
function featureYaml(f: HfFeature, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if ('dtype' in f) return [`${pad}dtype: ${f.dtype}`];
  if ('sequence' in f)
    return 'dtype' in f.sequence
      ? [`${pad}sequence: ${f.sequence.dtype}`]
      : [`${pad}sequence:`, ...featureYaml(f.sequence, indent + 2)];
  const [key, fields] = 'list' in f ? ['list', f.list] : ['struct', f.struct];
  return [
    `${pad}${key}:`,
    ...fields.flatMap(({ name, ...rest }) => [`${pad}- name: ${name}`, ...featureYaml(rest as HfFeature, indent + 2)]),
  ];
}

/** The `dataset_info.features` block of a table. */
export function featuresYaml<S extends Shape>(table: Table<S>): string {
  return Object.entries(table.shape)
    .flatMap(([name, col]) => [`  - name: ${name}`, ...featureYaml(col.hf, 4)])
    .join('\n');
}

/** A YAML scalar in double quotes (JSON strings are valid YAML). */
const q = (s: string) => JSON.stringify(s);

const tags = (extra: readonly string[], simulated: boolean) =>
  ['tracepipe', 'reasoning', ...extra, ...(simulated ? ['synthetic', 'simulated-model'] : [])]
    .map((t) => `- ${t}`)
    .join('\n');

const SIMULATION =
  '> **SIMULATION.** These rows were produced by the bundled model simulator (`tracepipe sim serve`) on synthetic problems, for demos and tests. They are not model outputs.\n\n';

/** Lines naming the snapshot, its parent, the run and the model. */
function provenance(info: RepoCardInfo): string {
  const snap = info.snapshot
    ? `- snapshot: \`${info.snapshot.id}\`, parent: ${info.snapshot.parent ? `\`${info.snapshot.parent}\`` : 'none (the first snapshot)'}`
    : '- snapshot: none (published in place, not as a snapshot)';
  return `${snap}\n- run: ${info.run} (\`${info.runId}\`), model: \`${info.model}\`${info.simulated ? ' (SIMULATION)' : ''}`;
}

/** The thresholds in force after calibration, per domain. */
function thresholdsTable(t: ThresholdsInForce): string {
  const rows = [['all', t.global] as const, ...Object.entries(t.domains).sort(([a], [b]) => a.localeCompare(b))];
  return `## Thresholds in force

After calibration: the calibrated values where calibration met its target, else the configured ones (TRACE.md "Reliability regions").

| domain | τ_pc | τ_gc | τ_fa | τ_pc low | τ_gc low |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.map(([d, x]) => `| ${d} | ${x.tau_pc} | ${x.tau_gc} | ${x.tau_fa} | ${x.tau_pc_low} | ${x.tau_gc_low} |`).join('\n')}`;
}

/** The columns of the trace set that a table carries, for the card's closing line. */
const traceLine = (table: Table<Shape>) =>
  ['problem_id', 'path_id', 'domain', 'PC', 'GC', 'FA', 'region', 'model', 'run_id', 'k_drawn']
    .filter((c) => c in table.shape)
    .map((c) => `\`${c}\``)
    .join(', ');

/** A dataset's card (its folder's README.md): YAML header, provenance, thresholds in force, counts and how to load it. */
export function datasetCard<S extends Shape>(table: Table<S>, info: CardInfo): string {
  const dropped = Object.entries(info.dropped).sort((a, b) => b[1] - a[1]);
  return `---
configs:
- config_name: default
  data_files:
  - split: train
    path: ${PARTS}
dataset_info:
  features:
${featuresYaml(table)}
  splits:
  - name: train
    num_examples: ${info.rows}
tags:
${tags([table.name.replaceAll('_', '-')], info.simulated)}
---

# ${info.title}

${info.summary}

${info.simulated ? SIMULATION : ''}- rows: **${info.rows}** of ${info.candidates} candidates
${provenance(info)}
- format: ${info.trl}

${thresholdsTable(info.thresholds)}

## Dropped

${dropped.length ? `| reason | rows |\n| --- | ---: |\n${dropped.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}` : 'Nothing was dropped.'}

## Settings (as configured)

\`\`\`json
${JSON.stringify(info.settings, null, 2)}
\`\`\`

## Load

${info.rows === 0 ? 'This snapshot has no rows of it, and Hugging Face `datasets` cannot load an empty split: the lines below work once it has rows.\n\n' : ''}From the folder that holds this card (the path is the one its YAML declares):

\`\`\`python
from datasets import load_dataset
ds = load_dataset("parquet", data_files=${q(PARTS)}, split="train")
\`\`\`

The snapshot folder above this one loads as a whole: \`load_dataset("<snapshot folder>", ${q(table.name)}, split="train")\`.

Every row carries ${traceLine(table as unknown as Table<Shape>)}, so it can be traced back to the request that made it (see docs/TRACE.md in the tracepipe repository for the definitions).
`;
}

/**
 * The snapshot's top-level README.md: a Hugging Face dataset repository card with one config per
 * dataset (`<name>/part-*.parquet`, features from its table), so `load_dataset(dir, name)` works
 * for each. A dataset with no rows gets no config: `datasets` refuses an empty split, so the card says so instead.
 */
export function repoCard(
  datasets: readonly { name: string; table: Table<Shape>; rows: number }[],
  info: RepoCardInfo,
): string {
  const loadable = datasets.filter((d) => d.rows > 0);
  const empty = datasets.filter((d) => d.rows === 0);
  const configs = loadable
    .map((d) => `- config_name: ${d.name}\n  data_files:\n  - split: train\n    path: ${d.name}/${PARTS}`)
    .join('\n');
  const infos = loadable
    .map(
      (d) =>
        `- config_name: ${d.name}\n  features:\n${featuresYaml(d.table)}\n  splits:\n  - name: train\n    num_examples: ${d.rows}`,
    )
    .join('\n');
  const first = loadable[0]?.name;
  const load = first
    ? `\`\`\`python
from datasets import load_dataset
ds = load_dataset("<this folder>", ${q(first)}, split="train")   # one config per dataset: ${loadable.map((d) => d.name).join(', ')}
# or, from this folder, the same files the YAML declares:
ds = load_dataset("parquet", data_files=${q(`${first}/${PARTS}`)}, split="train")
\`\`\``
    : 'No dataset of this snapshot has rows.';
  return `---
${loadable.length ? `configs:\n${configs}\ndataset_info:\n${infos}\n` : ''}tags:
${tags([], info.simulated)}
---

# tracepipe outputs of ${info.run}${info.snapshot ? `, snapshot ${info.snapshot.id}` : ''}

${info.simulated ? SIMULATION : ''}${provenance(info)}

| dataset (config) | rows | files |
| --- | ---: | --- |
${datasets.map((d) => `| ${d.name} | ${d.rows} | \`${d.name}/${PARTS}\` |`).join('\n')}

Each dataset's folder has its own card with its counts, what was dropped and why.${
    empty.length
      ? ` ${empty.map((d) => d.name).join(', ')} ${empty.length === 1 ? 'has' : 'have'} no rows in this snapshot, hence no config: Hugging Face \`datasets\` cannot load an empty split.`
      : ''
  }

${thresholdsTable(info.thresholds)}

## Load

${load}
`;
}

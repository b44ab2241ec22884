/**
 * @module stages/emit/card
 * Dataset cards in Hugging Face's format: a YAML header with configs and features derived
 * from the table declaration, then counts, filter settings and how to load the data.
 */
import type { HfFeature, Shape, Table } from '../../schemas/define.ts';

export interface CardInfo {
  title: string;
  summary: string;
  rows: number;
  dropped: Record<string, number>;
  candidates: number;
  settings: Record<string, unknown>;
  trl: string;
  runId: string;
  model: string;
  simulated: boolean;
}

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

/** A whole card: YAML header, then prose with the numbers. */
export function datasetCard<S extends Shape>(table: Table<S>, info: CardInfo): string {
  const dropped = Object.entries(info.dropped).sort((a, b) => b[1] - a[1]);
  return `---
configs:
- config_name: default
  data_files:
  - split: train
    path: part-*.parquet
dataset_info:
  features:
${featuresYaml(table)}
  splits:
  - name: train
    num_examples: ${info.rows}
tags:
- tracepipe
- reasoning
- ${table.name.replaceAll('_', '-')}
${info.simulated ? '- synthetic\n- simulated-model\n' : ''}---

# ${info.title}

${info.summary}

${info.simulated ? '> **Simulation.** These rows were produced by the bundled model simulator (`tracepipe sim serve`) on synthetic problems, for demos and tests. They are not model outputs.\n\n' : ''}- rows: **${info.rows}** of ${info.candidates} candidates
- run: \`${info.runId}\`, model: \`${info.model}\`
- format: ${info.trl}

## Dropped

${dropped.length ? `| reason | rows |\n| --- | ---: |\n${dropped.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}` : 'Nothing was dropped.'}

## Settings

\`\`\`json
${JSON.stringify(info.settings, null, 2)}
\`\`\`

## Load

\`\`\`python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="${table.name}/part-*.parquet", split="train")
\`\`\`

Every row carries \`problem_id\`, \`path_id\`, \`domain\`, \`PC\`, \`GC\`, \`FA\`, \`region\`, \`model\` and \`run_id\`, so it can be traced back to the request that made it (see TRACE.md for the definitions).
`;
}

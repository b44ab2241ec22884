/**
 * @module pipeline/engine/repo-card
 * The snapshot's repository card: a Hugging Face dataset card whose YAML lists one config per
 * dataset, so `load_dataset(<snapshot folder>, "sft")` loads that dataset.
 */
import type { Shape, Table } from '../../schemas/define.ts';
import { featuresYaml } from '../../stages/emit/card.ts';

export interface RepoCardInfo {
  name: string;
  snapshot: string;
  parent: string | null;
  runId: string;
  model: string;
  simulated: boolean;
}

/** The card: YAML configs and features per dataset, then what the snapshot is and how to load it. */
export function repoCard(
  datasets: readonly { name: string; title: string; table: Table<Shape>; rows: number }[],
  info: RepoCardInfo,
): string {
  const configs = datasets
    .map(
      (d) => `- config_name: ${d.name}
  data_files:
  - split: train
    path: ${d.name}/part-*.parquet`,
    )
    .join('\n');
  const infos = datasets
    .map(
      (d) => `- config_name: ${d.name}
  features:
${featuresYaml(d.table)
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
  splits:
  - name: train
    num_examples: ${d.rows}`,
    )
    .join('\n');
  return `---
configs:
${configs}
dataset_info:
${infos}
tags:
- tracepipe
- reasoning
${info.simulated ? '- synthetic\n- simulated-model\n' : ''}---

# ${info.name}: tracepipe snapshot ${info.snapshot}

${info.simulated ? '> **Simulation.** These rows were produced by the bundled model simulator (`tracepipe sim serve`) on synthetic problems, for demos and tests. They are not model outputs.\n\n' : ''}- snapshot: \`${info.snapshot}\`, parent: ${info.parent ? `\`${info.parent}\`` : 'none (the first snapshot)'}
- run: \`${info.runId}\`, model: \`${info.model}\`

| dataset | rows | what |
| --- | ---: | --- |
${datasets.map((d) => `| \`${d.name}\` | ${d.rows} | ${d.title} |`).join('\n')}

\`\`\`python
from datasets import load_dataset
sft = load_dataset("path/to/this/folder", "sft", split="train")
\`\`\`
`;
}

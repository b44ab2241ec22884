/**
 * @module pipeline/cli/summary
 * The end-of-run summary, for people (a terminal) and for machines (one JSON line): what each
 * stage did and why, its totals as the stage reports them, rejects per stage, the snapshot and
 * what changed in it, and where the files are. It knows no stage: it prints what each reports.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunResult } from '../engine/run.ts';

const fmt = (v: unknown): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v);

/** A stage's totals as indented lines: numbers and strings as they are, maps of numbers as a small table. */
function totalsLines(v: Record<string, unknown>, indent = '    '): string[] {
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined || Array.isArray(x)) continue;
    if (typeof x !== 'object') {
      out.push(`${indent}${k}: ${fmt(x)}`);
      continue;
    }
    const entries = Object.entries(x as Record<string, unknown>);
    if (entries.length === 0) continue;
    if (entries.every(([, y]) => typeof y === 'number')) {
      const sorted = [...entries].sort((a, b) =>
        isNaN(+a[0]) || isNaN(+b[0]) ? (b[1] as number) - (a[1] as number) : +a[0] - +b[0],
      );
      out.push(`${indent}${k}: ${sorted.map(([a, b]) => `${a} ${fmt(b)}`).join(', ')}`);
    } else if (indent.length < 8) {
      out.push(`${indent}${k}:`);
      out.push(...totalsLines(x as Record<string, unknown>, `${indent}  `));
    }
  }
  return out;
}

/** The summary a person reads after a run. */
export function runSummary(r: RunResult, cwd = process.cwd()): string {
  const lines: string[] = [];
  lines.push(
    `tracepipe run ${r.runId}: ${r.dryRun ? 'dry run (nothing was changed)' : r.status}${r.simulated ? '  [SIMULATION: paths came from the bundled simulator, not a model]' : ''}`,
  );
  if (r.read)
    lines.push(
      `read: ${r.read.rows} input rows of ${r.read.problems} problems; ${r.read.changed.length} shard(s) changed${r.read.rejects.length ? `; ${r.read.rejects.length} unreadable rows` : ''}`,
    );
  for (const s of r.stages) {
    const why = Object.entries(s.why)
      .map(([w, n]) => `${w}${n > 1 ? ` (${n} shards)` : ''}`)
      .join('; ');
    const work =
      s.kind === 'problem'
        ? `shards ${s.shards.ran}/${s.shards.total}, problems ${s.problems.computed}/${s.problems.total}`
        : '';
    lines.push(
      `${s.name.padEnd(10)} ${s.status.padEnd(11)} ${s.seconds.toFixed(1).padStart(6)} s  ${work}${why ? `  (${why})` : ''}`,
    );
    if (r.dryRun) continue;
    lines.push(...totalsLines(s.totals));
    const rejects = Object.entries(s.rejects ?? {});
    if (rejects.length) lines.push(`    rejects: ${rejects.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  if (r.snapshot) {
    lines.push(`snapshot ${r.snapshot.id} (parent ${r.snapshot.parent ?? 'none'}):`);
    for (const [d, v] of Object.entries(r.snapshot.datasets))
      lines.push(
        `  ${d.padEnd(16)} ${String(v.rows).padStart(8)} rows  (+${v.added} -${v.removed})  ${relative(cwd, join(r.runDir, 'latest', d)) || '.'}/`,
      );
  } else if (!r.dryRun && r.status === 'done')
    lines.push('outputs unchanged: latest already holds them, no new snapshot');
  const present = ['latest', 'manifest.json', 'calibration.json', 'report/index.html', 'state'].filter((f) =>
    existsSync(join(r.runDir, f)),
  );
  lines.push(`files: ${relative(cwd, r.runDir) || '.'}/ (${present.join(', ')})`);
  if (r.reason) lines.push(`${r.status}: ${r.reason}`);
  return lines.join('\n');
}

/** The one JSON line a cron job's log ends with: the status and what changed. */
export function runSummaryJson(r: RunResult, exitCode: number): string {
  return JSON.stringify({
    event: 'run',
    run_id: r.runId,
    status: r.dryRun ? 'planned' : r.status,
    exit_code: exitCode,
    reason: r.reason,
    simulated: r.simulated,
    read: r.read
      ? {
          rows: r.read.rows,
          problems: r.read.problems,
          changed_shards: r.read.changed.length,
          unreadable: r.read.rejects.length,
        }
      : null,
    stages: Object.fromEntries(
      r.stages.map((s) => [
        s.name,
        {
          status: s.status,
          seconds: Number(s.seconds.toFixed(2)),
          shards_ran: s.shards.ran,
          problems_computed: s.problems.computed,
          problems: s.problems.total,
          rejects: s.rejects ?? {},
        },
      ]),
    ),
    snapshot: r.snapshot ? { id: r.snapshot.id, parent: r.snapshot.parent, datasets: r.snapshot.datasets } : null,
  });
}

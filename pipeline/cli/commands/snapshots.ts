/**
 * @module pipeline/cli/commands/snapshots
 * `tracepipe snapshots <run>`: every kept snapshot, oldest first, with rows per dataset and what
 * changed since the one before (rows added and removed); `latest` is marked.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../../schemas/config.ts';
import { latestSnapshot, listSnapshots } from '../../engine/publish.ts';

/** The listing as lines (or, with `json`, one JSON line). */
export async function snapshotsCommand(run: string, json: boolean): Promise<string> {
  const dir = resolve(run);
  if (!existsSync(join(dir, 'state')) && !existsSync(join(dir, 'snapshots')))
    throw new ConfigError(`${dir} is not a tracepipe run folder (no state/ or snapshots/ in it)`);
  const all = await listSnapshots(dir);
  const latest = (await latestSnapshot(dir))?.id ?? null;
  if (json) return JSON.stringify({ run: dir, latest, snapshots: all });
  if (all.length === 0) return `${dir}: no snapshot yet`;
  const lines = [`${dir}: ${all.length} snapshot(s), latest ${latest ?? 'none'}`];
  for (const s of all) {
    lines.push(
      `${s.id === latest ? '* ' : '  '}${s.id}  run ${s.run_id}  parent ${s.parent ?? 'none'}${s.simulated ? '  [SIMULATION]' : ''}`,
    );
    for (const [d, v] of Object.entries(s.datasets))
      lines.push(`      ${d.padEnd(16)} ${String(v.rows).padStart(8)} rows  +${v.added} -${v.removed}`);
  }
  return lines.join('\n');
}

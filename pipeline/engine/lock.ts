/**
 * @module pipeline/engine/lock
 * One writer per run folder: `runs/<name>/lock` holds the PID, host and start time of the run
 * writing there. A second run exits at once naming the holder; a lock whose holder is dead (same
 * host, no such process) is taken over, with a line saying so.
 */
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { unlinkSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
  command: string;
}

/** Another process holds the run: main exits 3 with this message. */
export class RunBusyError extends Error {
  override name = 'RunBusyError';
  constructor(
    readonly runDir: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      holder
        ? `run ${runDir} is busy: another tracepipe (PID ${holder.pid} on ${holder.host}, started ${holder.started_at}, \`${holder.command}\`) holds ${join(runDir, 'lock')}`
        : `run ${runDir} is busy: ${join(runDir, 'lock')} exists but cannot be read; remove it if no tracepipe is running there`,
    );
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface Lock {
  release(): Promise<void>;
  /** The dead holder this lock was taken from, if any. */
  tookOver: LockHolder | null;
}

/** Takes the run's lock or throws `RunBusyError`. The lock is released on `release()` and at process exit. */
export async function acquireLock(runDir: string, command: string, log: (line: string) => void): Promise<Lock> {
  const file = join(runDir, 'lock');
  await mkdir(dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command };
  let tookOver: LockHolder | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${JSON.stringify(me)}\n`);
      await fh.close();
      const mine = JSON.stringify(me);
      const onExit = () => {
        try {
          if (readFileSync(file, 'utf8').trim() === mine) unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.once('exit', onExit);
      return {
        tookOver,
        release: async () => {
          process.off('exit', onExit);
          onExit();
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: LockHolder | null = null;
      try {
        holder = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
      } catch {
        holder = null;
      }
      if (holder && holder.host === me.host && !alive(holder.pid) && attempt === 0) {
        log(
          `lock: taking over the stale lock of PID ${holder.pid} (started ${holder.started_at}), which is no longer running`,
        );
        tookOver = holder;
        await rm(file, { force: true });
        continue;
      }
      throw new RunBusyError(runDir, holder);
    }
  }
  throw new RunBusyError(runDir, null);
}

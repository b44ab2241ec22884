/**
 * @module pipeline/cli/log
 * Where a command's lines go: plain text on a terminal; off a terminal (cron, CI, a pipe) one JSON
 * object per line, so a nightly job's log can be read by a machine.
 */

export interface CliLog {
  (line: string): void;
  /** True when lines are JSON. */
  json: boolean;
}

/** A log on `stream` (stderr by default): JSON lines unless it is a TTY or `TRACEPIPE_LOG=text`. */
export function createLog(stream: NodeJS.WriteStream = process.stderr): CliLog {
  const mode = process.env.TRACEPIPE_LOG;
  const json = mode === 'json' || (mode !== 'text' && !stream.isTTY);
  const f = ((line: string) => {
    if (!json) return void stream.write(`${line}\n`);
    // A line that is already JSON (progress) passes as it is.
    if (line.startsWith('{') && line.endsWith('}')) return void stream.write(`${line}\n`);
    stream.write(`${JSON.stringify({ t: new Date().toISOString(), msg: line })}\n`);
  }) as CliLog;
  f.json = json;
  return f;
}

/**
 * @module test/pipeline/io/client/cooldown-child
 * A process whose only work waits on a limiter's cooldown (`work`), or that leaves a long cooldown
 * with nothing queued (`idle`). Usage: node --experimental-transform-types cooldown-child.ts work|idle
 */
import { Limiter } from '../../../../pipeline/io/client/limits.ts';

const lim = new Limiter({ concurrency: 2, rpm: null, tpm: null });
const mode = process.argv[2];
lim.cooldown(mode === 'idle' ? 600_000 : 300);
if (mode === 'work') {
  const got = await Promise.all([1, 2, 3].map((i) => lim.run(1, async () => i)));
  process.stdout.write(`done ${got.join(',')}\n`);
}

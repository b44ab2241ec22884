/**
 * @module pipeline/engine/worker
 * A worker thread of the local executor: it reads an input it is sent into raw segments, and runs
 * chains of CPU-bound stages on shards it is sent, reading and writing the run's state files
 * itself, and posts back what each job did.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SOURCE, STAGES } from '../../stages/index.ts';
import { ConfigError } from '../../schemas/errors.ts';
import { nodeFiles } from '../io/files.ts';
import { releaseHeap } from './heap.ts';
import { readPart, type ReadRequest } from './read.ts';
import { warmUp } from '../../stages/lib/equivalence/index.ts';
import type { ProblemStage } from '../../stages/lib/stage.ts';
import { RunState } from '../io/state.ts';
import { runChain, type ChainRequest } from './chain.ts';

const port = parentPort!;
const files = nodeFiles();
const stages = new Map(STAGES.filter((s): s is ProblemStage => s.kind === 'problem').map((s) => [s.name, s]));
void workerData;
// Off the critical path: while the main thread reads the inputs, or once this worker has read one.
let warm = false;
function warmOnce(): void {
  if (warm) return;
  warm = true;
  warmUp();
}
const early = setImmediate(warmOnce);

/** One RunState per state folder for the worker's life: its parsed records serve every job it is sent. */
const states = new Map<string, RunState>();
function stateFor(dir: string): RunState {
  let state = states.get(dir);
  if (!state) states.set(dir, (state = new RunState(dir)));
  return state;
}

port.on('message', (msg: { id: number; req?: ChainRequest; read?: ReadRequest; release?: boolean }) => {
  const { id, req, read } = msg;
  const log = (line: string) => port.postMessage({ type: 'log', line });
  if (msg.release) {
    // Between groups of stages: the last group's garbage goes before the next fills the heap.
    releaseHeap();
    port.postMessage({ type: 'done', id, results: [] });
    return;
  }
  if (read) clearImmediate(early);
  const work = read
    ? readPart(SOURCE, read.config, read.stateDir, files, log, read.only, read.part).then((part) => {
        // The reader's lines are garbage now: gone before this worker's chains fill its heap.
        releaseHeap();
        warmOnce();
        return part;
      })
    : runChain(req!, { stages, state: stateFor(req!.stateDir), log });
  work
    .then((results) => port.postMessage({ type: 'done', id, results }))
    .catch((e: unknown) =>
      port.postMessage({
        type: 'error',
        id,
        message: (e as Error).message,
        stack: (e as Error).stack,
        // A usage error (an input that cannot be read) stays one in the main thread: exit 2, one line.
        usage: e instanceof ConfigError ? (e.lines as string[]) : undefined,
        name: (e as Error).name,
      }),
    );
});

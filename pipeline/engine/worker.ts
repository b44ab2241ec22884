/**
 * @module pipeline/engine/worker
 * A worker thread of the local executor: it runs chains of CPU-bound stages on shards it is
 * sent, reading and writing the run's state files itself, and posts back what each job did.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { STAGES } from '../../stages/index.ts';
import { warmUp } from '../../stages/lib/equivalence/index.ts';
import type { ProblemStage } from '../../stages/lib/stage.ts';
import { RunState } from '../io/state.ts';
import { runChain, type ChainRequest } from './chain.ts';

const port = parentPort!;
const stages = new Map(STAGES.filter((s): s is ProblemStage => s.kind === 'problem').map((s) => [s.name, s]));
void workerData;
// Off the critical path: the main thread is reading the inputs when workers start.
setImmediate(warmUp);

/** One RunState per state folder for the worker's life: its parsed records serve every job it is sent. */
const states = new Map<string, RunState>();
function stateFor(dir: string): RunState {
  let state = states.get(dir);
  if (!state) states.set(dir, (state = new RunState(dir)));
  return state;
}

port.on('message', (msg: { id: number; req: ChainRequest }) => {
  const { id, req } = msg;
  const log = (line: string) => port.postMessage({ type: 'log', line });
  runChain(req, { stages, state: stateFor(req.stateDir), log })
    .then((results) => port.postMessage({ type: 'done', id, results }))
    .catch((e: unknown) =>
      port.postMessage({ type: 'error', id, message: (e as Error).message, stack: (e as Error).stack }),
    );
});

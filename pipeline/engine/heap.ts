/**
 * @module pipeline/engine/heap
 * A full garbage collection of this thread's heap at the end of a phase. The main thread makes
 * hundreds of MB of short-lived strings in a phase (the reader's lines, every shard's records
 * parsed for totals and fingerprints) and then waits on the workers or on DuckDB: idle, V8 does
 * not collect, and that garbage would sit in RSS beside the workers' heaps and DuckDB's buffers
 * for the whole next phase (measured on 1M paths: 370 MB during the first chain). One collection
 * costs a few tens of ms, so a small heap (a nightly run that adds a few problems) is left alone.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap in use below which a collection is not worth its time. */
const WORTH = 128 << 20;

let gc: (() => void) | undefined;

/** Collects this thread's garbage now when its heap holds WORTH or more (V8's own `gc`, exposed at first use). */
export function releaseHeap(): void {
  if (getHeapStatistics().used_heap_size < WORTH) return;
  if (!gc) {
    const own = (globalThis as { gc?: () => void }).gc;
    if (own) gc = own;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}

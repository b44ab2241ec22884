/**
 * @module bench
 * `make bench`: each benchmark prints one JSON line with its numbers and ratios (the queue one, a line per worker count).
 */
export const BENCHMARKS: Record<string, () => Promise<object | object[]>> = {
  equivalence: async () => (await import('./equivalence.ts')).benchEquivalence(),
  generation: async () => (await import('./generation.ts')).benchGeneration(),
  'generation-scale': async () => (await import('./generation-scale.ts')).benchGenerationScale(),
  offline: async () => (await import('./offline.ts')).benchOffline(),
  incremental: async () => (await import('./incremental.ts')).benchIncremental(),
  queue: async () => (await import('./queue.ts')).benchQueue(),
  adaptive: async () => (await import('./adaptive.ts')).benchAdaptive(),
  'adaptive-gsm8k': async () => (await import('./adaptive.ts')).benchAdaptiveGsm8k(),
  rectify: async () => (await import('./rectify.ts')).benchRectify(),
};

/** Runs the named benchmarks (all by default) one after another, never in parallel. */
export async function runBenchmarks(
  names: readonly string[] | undefined,
  print: (line: string) => void,
): Promise<void> {
  for (const name of names ?? Object.keys(BENCHMARKS)) {
    const run = BENCHMARKS[name];
    if (!run) throw new Error(`no benchmark named ${name}; there are ${Object.keys(BENCHMARKS).join(', ')}`);
    const out = await run();
    // A benchmark with several lines (one per worker count) returns a list.
    for (const line of Array.isArray(out) ? out : [out]) print(JSON.stringify(line));
  }
}

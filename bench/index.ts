/**
 * @module bench
 * `make bench`: each benchmark prints one JSON line with its numbers and ratios.
 */
export const BENCHMARKS: Record<string, () => Promise<object>> = {
  equivalence: async () => (await import('./equivalence.ts')).benchEquivalence(),
  generation: async () => (await import('./generation.ts')).benchGeneration(),
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
    print(JSON.stringify(await run()));
  }
}

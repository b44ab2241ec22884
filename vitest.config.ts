import { defineConfig } from 'vitest/config';

// Two cores on the build machines: two test files at a time; slow integration tests set their own timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    maxWorkers: 2,
  },
});

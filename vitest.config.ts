import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    // Property suites run many simulated executions; keep a generous per-test budget.
    testTimeout: 60_000,
  },
});

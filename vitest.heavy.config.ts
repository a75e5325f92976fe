import { defineConfig } from 'vitest/config';

// The heavy suite: long-running cases kept out of `npm test` (run by .ci/run too).
export default defineConfig({
  test: {
    globalSetup: ['test/embed.setup.ts'],
    include: ['test/heavy/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});

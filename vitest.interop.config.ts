import { defineConfig } from 'vitest/config';

// The interop suite: regula ↔ PyTorch round trips (needs python3-torch; run by .ci/run too).
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    globalSetup: ['test/embed.setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});

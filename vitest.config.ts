import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/embed.setup.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['test/heavy/**', 'test/interop/**', 'test/package/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

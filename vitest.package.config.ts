import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.config.ts';

// `npm run test:package`: packs the tarball and installs it into temporary projects
// (test/package/); needs the npm registry for the fixture's bundlers, and Chromium.
export default defineConfig({
  resolve, // 'regula' in the README's blocks run from src/
  test: {
    include: ['test/package/**/*.test.ts'],
    globalSetup: ['test/embed.setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});

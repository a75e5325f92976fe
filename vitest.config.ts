import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The documentation's code blocks import 'regula': in the tests that is src/ (test/doc-blocks.ts). */
export const resolve = { alias: [{ find: /^regula$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] };

export default defineConfig({
  resolve,
  test: {
    globalSetup: ['test/embed.setup.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['test/heavy/**', 'test/interop/**', 'test/package/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

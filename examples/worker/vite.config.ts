import { defineConfig } from 'vite';

// `npx vite examples/worker` serves this page; `npx vite build examples/worker` builds it
// into examples/worker/dist. Module workers that import a library need worker.format 'es'.
export default defineConfig({
  build: { target: 'es2022' },
  worker: { format: 'es' },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The demo page (examples/demo). regula's Wasm binaries and its thread pool's worker are
// built into its JS (src/backend/wasm/embedded.generated.ts), so nothing here is for regula:
// `npm run demo` / `build:demo` regenerate that file first.
const root = fileURLToPath(new URL('./examples/demo', import.meta.url));

// Cross-origin isolation: with these headers the page may use SharedArrayBuffer, so regula's
// wasm backend runs its kernels on a pool of Web Workers (be.info().threads > 1). A static
// host without them still works, on one thread (be.info().reason says why).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root,
  base: './', // relative URLs: dist-demo/ can be hosted under any path by any static server
  build: {
    outDir: fileURLToPath(new URL('./dist-demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
});

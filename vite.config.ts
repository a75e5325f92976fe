import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The demo page (examples/demo). regula's Wasm binary reaches the bundle through the
// package's own `new URL('../../../build/regula.wasm', import.meta.url)` in
// src/backend/wasm/index.ts, which Vite turns into a hashed asset: no copy by hand.
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
    assetsInlineLimit: 0, // keep regula.wasm a separate file (fetched and compiled, not a data: URL)
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
});

import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { compilePeak } from './bench/peak.js';

// The demo page (examples/demo) and its benchmark page (bench.html). regula's Wasm binaries
// and its thread pool's worker are built into its JS (src/backend/wasm/embedded.generated.ts),
// so nothing here is for regula: `npm run demo` / `build:demo` regenerate that file first.
const root = fileURLToPath(new URL('./examples/demo', import.meta.url));

// Cross-origin isolation: with these headers the page may use SharedArrayBuffer, so regula's
// wasm backend runs its kernels on a pool of Web Workers (be.info().threads > 1). A static
// host without them still works, on one thread (be.info().reason says why).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * `import binary from 'virtual:regula-peak'`: the f32x4 ceiling loop of the benchmark page,
 * compiled now from bench/peak-loop.ts's source with the options Node's bench compiles it
 * with (bench/peak.ts), so the browser measures the same loop as `npm run bench`.
 */
function peakBinary(): Plugin {
  const id = 'virtual:regula-peak';
  return {
    name: 'regula-peak',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    async load(resolved) {
      if (resolved !== `\0${id}`) return null;
      return `export default new Uint8Array([${(await compilePeak()).join(',')}]);`;
    },
  };
}

export default defineConfig({
  root,
  base: './', // relative URLs: dist-demo/ can be hosted under any path by any static server
  plugins: [peakBinary()],
  build: {
    outDir: fileURLToPath(new URL('./dist-demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: { main: `${root}/index.html`, bench: `${root}/bench.html` } },
  },
  worker: { format: 'es', plugins: () => [peakBinary()] },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
});

#!/usr/bin/env node
/**
 * Bytes a browser app pays for regula (run after `npm run build`):
 *   node bench/package-size.mjs
 * Bundles a minimal training app (loadBackend, nn, optim) from dist/ with esbuild
 * (--bundle --minify, browser, esm), once as shipped and once with the built-in binaries
 * and worker emptied, and prints raw and gzip sizes beside the files a user could serve
 * instead (build/*.wasm, dist/backend/wasm/worker.js).
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = `import { loadBackend, nn, optim } from './dist/index.js';
const be = await loadBackend('auto');
const m = new nn.Sequential(new nn.Linear(be, 4, 8), new nn.ReLU(), new nn.Linear(be, 8, 2));
const opt = new optim.AdamW(m.parameters(), { lr: 1e-2 });
const loss = be.crossEntropy(m.forward(be.tensor([1, 4], [1, 2, 3, 4])), Int32Array.of(1));
loss.backward(); opt.step(); console.log(loss.item());`;
const empty = { name: 'no-embedded', setup(b) {
  b.onLoad({ filter: /embedded\.generated\.js$/ }, () => ({ contents: "export const WASM_BASE64 = '', WORKER_SOURCE = '';" }));
} };
async function bundle(plugins) {
  const r = await esbuild.build({ stdin: { contents: app, resolveDir: root, loader: 'js' }, bundle: true, minify: true, format: 'esm',
    platform: 'browser', write: false, plugins, logLevel: 'silent' });
  return r.outputFiles[0].contents;
}
const size = (b) => `${b.length} B (gzip ${gzipSync(b, { level: 9 }).length} B)`;
const shipped = await bundle([]), bare = await bundle([empty]);
console.log(`minimal app bundle, as shipped:                 ${size(shipped)}`);
console.log(`minimal app bundle, built-in binaries removed:  ${size(bare)}`);
console.log(`  difference (what inlining costs):             ${shipped.length - bare.length} B (gzip ${gzipSync(shipped, { level: 9 }).length - gzipSync(bare, { level: 9 }).length} B)`);
for (const f of ['build/regula.wasm', 'build/regula-mt.wasm', 'dist/backend/wasm/worker.js']) {
  console.log(`${f.padEnd(48)} ${size(readFileSync(root + f))}`);
}

#!/usr/bin/env node
/**
 * Bytes a browser app pays for regula (run after `npm run build`):
 *   node bench/package-size.mjs
 * Bundles a minimal training app (loadBackend, nn, optim) from dist/ with esbuild
 * (--bundle --minify, browser, esm), once as shipped and once with the built-in binaries
 * and worker emptied, and prints raw and gzip sizes beside the files a user could serve
 * instead (build/*.wasm, dist/backend/wasm/worker.js); the package's packed and unpacked
 * size (`npm pack --dry-run`, scripts not run), its built-in data files, and what
 * @assemblyscript/loader would add to a bundle (a devDependency, minified the same way).
 * Writes them all to bench/results/package-size.json, the one source of the README's size
 * figures: test/package-size.test.ts fails when the README disagrees with that file, or the
 * file's binary sizes with build/*.wasm, so rerun this after a change and update the README.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
const measure = (b) => ({ bytes: b.length, gzip: gzipSync(b, { level: 9 }).length });
const size = (b) => `${b.length} B (gzip ${gzipSync(b, { level: 9 }).length} B)`;
const shipped = await bundle([]), bare = await bundle([empty]);
console.log(`minimal app bundle, as shipped:                 ${size(shipped)}`);
console.log(`minimal app bundle, built-in binaries removed:  ${size(bare)}`);
console.log(`  difference (what inlining costs):             ${shipped.length - bare.length} B (gzip ${gzipSync(shipped, { level: 9 }).length - gzipSync(bare, { level: 9 }).length} B)`);
const files = {};
for (const f of ['build/regula.wasm', 'build/regula-mt.wasm', 'dist/backend/wasm/worker.js']) {
  const b = readFileSync(root + f);
  files[f] = measure(b);
  console.log(`${f.padEnd(48)} ${size(b)}`);
}
const data = {};
for (const f of ['dist/data/digits.generated.js', 'dist/data/names.generated.js']) {
  data[f] = readFileSync(root + f).length;
  console.log(`${f.padEnd(48)} ${data[f]} B`);
}
// npm on Windows is npm.cmd; this is for the repository's Node on Linux/macOS, as the rest of bench/.
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
console.log(`npm pack: ${pack.size} B packed, ${pack.unpackedSize} B unpacked, ${pack.entryCount} files`);
const loaderDir = root + 'node_modules/@assemblyscript/loader/';
const loaderMin = (await esbuild.build({ entryPoints: [loaderDir + 'index.js'], bundle: true, minify: true, format: 'esm', write: false, logLevel: 'silent' })).outputFiles[0].contents;
const loaderVersion = JSON.parse(readFileSync(loaderDir + 'package.json', 'utf8')).version;
console.log(`@assemblyscript/loader ${loaderVersion}, minified:`.padEnd(49) + size(loaderMin));

const results = {
  command: 'node bench/package-size.mjs (after npm run build)',
  esbuild: esbuild.version,
  app: { shipped: measure(shipped), bare: measure(bare) },
  files,
  data,
  package: { packed: pack.size, unpacked: pack.unpackedSize, entries: pack.entryCount },
  loader: { version: loaderVersion, ...measure(loaderMin) },
};
writeFileSync(root + 'bench/results/package-size.json', JSON.stringify(results, null, 2) + '\n');
console.log('wrote bench/results/package-size.json');

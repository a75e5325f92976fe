/**
 * The README's size figures have one source: bench/results/package-size.json, written by
 * `node bench/package-size.mjs` (after `npm run build`). This test neither packs nor bundles:
 * it checks that every figure the README quotes is that file's number as printed (a figure
 * written in KB, 1 KB = 1000 bytes, within half a unit of its last digit; one written in bytes
 * exactly), and that the file's binary sizes are those of build/regula.wasm and
 * build/regula-mt.wasm within 2% (so a new kernel, which grows the binary by more, needs a
 * fresh measurement and README; a small edit of one does not), and its unpacked package size
 * that of the files package.json's `files` names (as npm counts them, from the built dist/)
 * within 2% too.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('..', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');
interface Sized { bytes: number; gzip: number }
const M = JSON.parse(readFileSync(new URL('bench/results/package-size.json', ROOT), 'utf8')) as {
  app: { shipped: Sized; bare: Sized };
  files: Record<'build/regula.wasm' | 'build/regula-mt.wasm' | 'dist/backend/wasm/worker.js', Sized>;
  data: Record<'dist/data/digits.generated.js' | 'dist/data/names.generated.js', number>;
  package: { packed: number; unpacked: number };
  loader: { version: string; bytes: number; gzip: number };
};
const BINARY_MARGIN = 0.02;
const PACKAGE_MARGIN = 0.02;

/** Bytes of the files `npm pack` would take: package.json's `files` (`dir/**\/*.ext` or a path), README, LICENSE, package.json. */
function unpackedSize(): number {
  const root = fileURLToPath(ROOT);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  const walk = (dir: string, ext: string): number => readdirSync(dir, { withFileTypes: true }).reduce((sum, e) =>
    sum + (e.isDirectory() ? walk(join(dir, e.name), ext) : e.name.endsWith(ext) ? statSync(join(dir, e.name)).size : 0), 0);
  let total = 0;
  for (const f of [...pkg.files, 'README.md', 'LICENSE', 'package.json']) {
    const glob = /^([^*]+)\/\*\*\/\*(\.[\w.]+)$/.exec(f);
    if (glob === null && f.includes('*')) throw new Error(`package.json files: ${f} is not a pattern this test reads (dir/**/*.ext or a path)`);
    const path = join(root, glob === null ? f : glob[1]!);
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
    total += glob === null ? statSync(path).size : walk(path, glob[2]!);
  }
  return total;
}

const st = M.files['build/regula.wasm'], mt = M.files['build/regula-mt.wasm'], worker = M.files['dist/backend/wasm/worker.js'];
const inlining = { bytes: M.app.shipped.bytes - M.app.bare.bytes, gzip: M.app.shipped.gzip - M.app.bare.gzip };

/** A figure: `kb` with that many decimals (1 KB = 1000 B), or `bytes` written as 12,345. */
type Fig = { bytes: number } | { kb: number; digits: 0 | 1 };

/**
 * Each README phrase, `#` where a figure stands (any whitespace in the phrase matches any
 * run of whitespace, so line wrapping does not matter), and what the figures must be.
 */
const PHRASES: [string, Fig[]][] = [
  ["| the app's bundle, as shipped | # | # |", [{ bytes: M.app.shipped.bytes }, { bytes: M.app.shipped.gzip }]],
  ['| the same with the built-in binary and worker removed | # | # |', [{ bytes: M.app.bare.bytes }, { bytes: M.app.bare.gzip }]],
  ['| what inlining adds | # | # |', [{ bytes: inlining.bytes }, { bytes: inlining.gzip }]],
  ['| the files it replaces: regula.wasm / regula-mt.wasm / worker.js | # / # / # | # / # / # |',
    [st.bytes, mt.bytes, worker.bytes, st.gzip, mt.gzip, worker.gzip].map((bytes) => ({ bytes }))],
  ['inlining costs about # KB gzip more than serving regula-mt.wasm and the worker, and # KB more than a single-thread page',
    [{ kb: inlining.gzip - mt.gzip - worker.gzip, digits: 1 }, { kb: inlining.gzip - st.gzip, digits: 1 }]],
  ['Zero configuration everywhere is worth the #–# KB.',
    [{ kb: inlining.gzip - mt.gzip - worker.gzip, digits: 1 }, { kb: inlining.gzip - st.gzip, digits: 1 }]],
  ['(the binary is # KB with them)', [{ kb: st.bytes, digits: 1 }]],
  ['# KB packed, # KB unpacked', [{ kb: M.package.packed, digits: 0 }, { kb: M.package.unpacked, digits: 0 }]],
  ['The # KB of digits data (and # KB of names)',
    [{ kb: M.data['dist/data/digits.generated.js'], digits: 0 }, { kb: M.data['dist/data/names.generated.js'], digits: 0 }]],
  ['removes the package\'s only dependency: # bytes (# gzip) of minified loader', [{ bytes: M.loader.bytes }, { bytes: M.loader.gzip }]],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NUMBER = '([0-9][0-9,]*(?:\\.[0-9]+)?)';
const show = (f: Fig) => 'bytes' in f ? f.bytes.toLocaleString('en-US')
  : (f.kb / 1000).toLocaleString('en-US', { minimumFractionDigits: f.digits, maximumFractionDigits: f.digits });

describe('README size figures', () => {
  it.each(PHRASES)('"%s" quotes bench/results/package-size.json', (phrase, figs) => {
    const re = new RegExp(phrase.split('#').map((part) => escape(part).replace(/\s+/g, '\\s+')).join(NUMBER), 'g');
    const hits = [...README.matchAll(re)];
    const want = phrase.split('#').reduce((s, part, i) => s + (i > 0 ? show(figs[i - 1]!) : '') + part, '');
    expect(hits.length, `the README should say (once): ${want}`).toBe(1);
    const got = hits[0]!.slice(1);
    got.forEach((text, i) => {
      const f = figs[i]!;
      const value = Number(text.replace(/,/g, ''));
      if ('bytes' in f) {
        expect(text, `figure ${i + 1}: the README should say: ${want}`).toBe(show(f));
      } else {
        const half = 0.5 * 10 ** (3 - f.digits); // half a unit of the last printed digit, in bytes
        expect(Math.abs(value * 1000 - f.kb), `figure ${i + 1} (${text} KB): the README should say: ${want}`).toBeLessThanOrEqual(half);
      }
    });
  });

  it('the stale figures of issue 24 are gone', () => {
    for (const stale of ['275 KB', '837 KB', '143,200', '51,662', '30.8 KB', '85,706']) expect(README).not.toContain(stale);
  });

  it(`the measured binaries are build/'s within ${BINARY_MARGIN * 100}%`, () => {
    for (const f of ['build/regula.wasm', 'build/regula-mt.wasm'] as const) {
      const actual = statSync(new URL(f, ROOT)).size;
      expect(Math.abs(M.files[f].bytes - actual) / actual,
        `${f} is ${actual} B, bench/results/package-size.json says ${M.files[f].bytes}: run node bench/package-size.mjs after npm run build and update the README`)
        .toBeLessThanOrEqual(BINARY_MARGIN);
    }
  });

  it(`the measured unpacked package is the files package.json ships within ${PACKAGE_MARGIN * 100}%`, () => {
    const actual = unpackedSize();
    expect(Math.abs(M.package.unpacked - actual) / actual,
      `the package's files are ${actual} B, bench/results/package-size.json says ${M.package.unpacked}: run node bench/package-size.mjs after npm run build and update the README`)
      .toBeLessThanOrEqual(PACKAGE_MARGIN);
  });
});

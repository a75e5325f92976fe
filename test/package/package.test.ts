/**
 * The package as users receive it (`npm run test:package`): builds and packs the tarball,
 * installs it into temporary projects and trains the same small model
 * (test/package/fixture/train.mjs) in each consumer, with no configuration of any bundler:
 *
 * - Node ESM `import`, Node CommonJS `require`, TypeScript strict `nodenext` (misuse is a
 *   compile error), an esbuild `--platform=node` bundle run away from node_modules;
 * - in Chromium, each served with and without cross-origin isolation: Vite build, Vite dev
 *   server, esbuild, Rollup (node-resolve), webpack 5, and a plain page with an import map.
 *
 * - a new user: an empty folder where the README's first section ("Start here", as the
 *   tarball ships it) is followed literally: its `npm install regula` (of the tarball), its
 *   code saved under the file name it gives, its `node` command; the run must print what the
 *   same block prints from src/ and save the same bytes.
 *
 * Every run must give the same bits (each loss, a hash of every trained weight) as the
 * repo's own run from src/ on one thread; threads must be used in Node and in isolated
 * pages, and a page without isolation must say why it runs on one. The bundlers come from
 * test/package/fixture/package.json and its lockfile, installed into a temporary copy.
 * Bundler warnings and npm install warnings fail the test, except those the README explains.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ROOT, serve, ISOLATION_HEADERS } from '../browser/serve.js';
import { CHROMIUM, describeInChromium } from '../browser/chromium.js';
import { train } from './fixture/train.mjs';
import { RUNNABLE, SHELL, parseBlocks, runBlock, shellCommands, where } from '../doc-blocks.js';

type Result = { kind: string; threads: number; sharedMemory: boolean; reason: string | null; losses: string[]; weights: string; isolated?: boolean; error?: string };

const FIXTURE = join(ROOT, 'test/package/fixture');
const CORES = availableParallelism();
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const CONSUMER_FILES = ['train.mjs', 'train.d.mts', 'node-esm.mjs', 'node-cjs.cjs', 'node-ts.mts', 'tsconfig.json', 'browser.js', 'index.html', 'importmap.html'];
/**
 * The one npm warning a tarball install prints that is regula's: npm 11 lists `prepare` of
 * any non-registry package (a tarball file) under install scripts "not yet covered by
 * allowScripts". It builds the repo and never runs for an installed package (README).
 */
const EXPLAINED_NPM_WARNING = /^npm warn install-scripts( {3}regula@[\d.]+ \(prepare: npm run build\)|.*not yet covered by allowScripts:|\s*$|.*npm install-scripts ls.*)/;

let tmp: string;
let tarball: string;
let plain: string;
let bundlers: string;
let installLog = '';
let reference: Result;

/** Runs a command; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeout = 300_000): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object on the last line of a consumer's stdout. */
function lastJson<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try { return JSON.parse(line) as T; } catch { throw new Error(`expected a JSON result on the last line, got:\n${stdout}`); }
}

function copyConsumer(to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of CONSUMER_FILES) copyFileSync(join(FIXTURE, f), join(to, f));
}

/** Expects a consumer's result to be the reference run's bits. */
function expectSameTraining(got: Result, what: string): void {
  expect(got.error, `${what}: ${got.error}`).toBeUndefined();
  expect(got.losses, `${what}: losses (float32 bits) differ from the repo's own run`).toEqual(reference.losses);
  expect(got.weights, `${what}: trained weights differ from the repo's own run`).toBe(reference.weights);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'regula-package-'));
  // The tarball a user gets: built from this tree (asc, embed, tsc), then `npm pack`.
  run(NPM, ['run', 'build'], ROOT);
  const packed = JSON.parse(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT).stdout) as { filename: string }[];
  tarball = join(tmp, packed[0]!.filename);

  // A project with nothing but regula: what Node ESM / CJS / TypeScript users have.
  plain = join(tmp, 'plain');
  copyConsumer(plain);
  writeFileSync(join(plain, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const inst = run(NPM, ['install', '--no-audit', '--no-fund', tarball], plain);
  installLog = `${inst.stdout}\n${inst.stderr}`;

  // A project with the bundlers (the fixture's lockfile) and regula.
  bundlers = join(tmp, 'bundlers');
  copyConsumer(bundlers);
  for (const f of ['package.json', 'package-lock.json', 'build.mjs']) copyFileSync(join(FIXTURE, f), join(bundlers, f));
  run(NPM, ['ci', '--no-audit', '--no-fund'], bundlers, 600_000);
  run(NPM, ['install', '--no-save', '--no-audit', '--no-fund', tarball], bundlers);
}, 900_000);

afterAll(() => {
  if (tmp !== undefined && !process.env['KEEP_PACKAGE_TMP']) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('the repo\'s own run (src/, one thread) trains: the reference the consumers must match', async () => {
    reference = await train(await import('../../src/index.js'), 'wasm', { threads: 1 }) as Result;
    expect(reference.kind).toBe('wasm');
    expect(reference.losses).toHaveLength(6);
    // the same bits on the js backend and on threads, from src/
    const js = await train(await import('../../src/index.js'), 'js') as Result;
    expect(js.losses).toEqual(reference.losses);
    expect(js.weights).toBe(reference.weights);
  });

  it('holds what a user needs and nothing large they do not', () => {
    const files = run('tar', ['-tzf', tarball], tmp).stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    for (const need of ['LICENSE', 'README.md', 'package.json', 'index.cjs', 'dist/index.js', 'dist/index.d.ts',
      'dist/backend/wasm/worker.js', 'dist/backend/wasm/embedded.generated.js', 'build/regula.wasm', 'build/regula-mt.wasm']) {
      expect(files, need).toContain(need);
    }
    const extra = files.filter((f) => !/^(dist\/.*\.(js|d\.ts)|build\/regula(-mt)?\.wasm|LICENSE|README\.md|package\.json|index\.cjs)$/.test(f));
    expect(extra, 'files a user does not need (sources, maps, tests)').toEqual([]);
    const pkg = JSON.parse(readFileSync(join(plain, 'node_modules/regula/package.json'), 'utf8')) as { license: string; dependencies?: object };
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(plain, 'node_modules/regula/LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(pkg.dependencies ?? {}, 'regula has no runtime dependencies').toEqual({});
  });

  it('installs with no npm warning that the README does not explain', () => {
    const warnings = installLog.split('\n').filter((l) => /^npm (warn|WARN|error|ERR)/.test(l));
    expect(warnings.filter((l) => !EXPLAINED_NPM_WARNING.test(l)), installLog).toEqual([]);
  });
});

describe('Node consumers of the installed tarball', () => {
  const node = (file: string, args: string[] = []) => {
    const r = run(process.execPath, [file, ...args], plain, 120_000);
    // no warning of any kind (e.g. require(esm)'s ExperimentalWarning)
    expect(r.stderr, `${file} wrote to stderr`).toBe('');
    return lastJson<Result>(r.stdout);
  };

  it('ESM import trains on every core with the same bits (and on js)', () => {
    const r = node('node-esm.mjs');
    expect(r.kind).toBe('wasm');
    expect(r.threads).toBe(Math.min(CORES, 64));
    expectSameTraining(r, 'node ESM');
    expectSameTraining(node('node-esm.mjs', ['js']), 'node ESM, js backend');
  });

  it('CommonJS require trains with the same bits', () => {
    const r = node('node-cjs.cjs');
    expect(r.kind).toBe('wasm');
    expectSameTraining(r, 'node CJS');
  });

  it('TypeScript strict nodenext: the types compile, misuse does not, and the output trains', () => {
    // tsc of the fixture's TypeScript (the @ts-expect-error lines fail the build if misuse type-checked)
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], plain);
    copyFileSync(join(plain, 'train.mjs'), join(plain, 'ts-out/train.mjs'));
    const r = node('ts-out/node-ts.mjs');
    expectSameTraining(r, 'TypeScript');
  });

  it('an esbuild --platform=node bundle runs on its own, away from node_modules', () => {
    const out = join(tmp, 'esbuild-node');
    const { warnings } = lastJson<{ warnings: string[] }>(run(process.execPath, ['build.mjs', 'esbuild-node', out], bundlers).stdout);
    expect(warnings).toEqual([]);
    const r = spawnSync(process.execPath, [join(out, 'node-esm.mjs')], { cwd: out, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = lastJson<Result>(r.stdout);
    expect(got.threads).toBe(Math.min(CORES, 64));
    expectSameTraining(got, 'esbuild node bundle');
  });
});

describeInChromium('browser consumers in Chromium (isolated and not)', () => {
  let browser: Browser;
  const servers: Server[] = [];
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
  });

  /** Opens `url`, waits for window.regulaResult; fails on any console error or failed request. */
  async function page(url: string): Promise<Result> {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const problems: string[] = [];
    p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    p.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    try {
      await p.goto(url);
      await p.waitForFunction(() => (window as unknown as { regulaResult?: unknown }).regulaResult !== undefined, undefined, { timeout: 90_000 });
      const r = await p.evaluate(() => (window as unknown as { regulaResult: Result }).regulaResult);
      expect(problems, url).toEqual([]);
      return r;
    } finally {
      await ctx.close();
    }
  }

  /** Checks the isolated and the plain page of one consumer. */
  async function both(what: string, urlOf: (isolated: boolean) => Promise<string>): Promise<void> {
    const iso = await page(await urlOf(true));
    expect(iso.isolated, `${what}: page isolated`).toBe(true);
    expect(iso.kind).toBe('wasm');
    expect(iso.sharedMemory, `${what} isolated: ${iso.reason}`).toBe(true);
    expect(iso.threads, `${what} isolated: ${iso.reason}`).toBeGreaterThan(1);
    expectSameTraining(iso, `${what} (isolated)`);
    const flat = await page(await urlOf(false));
    expect(flat.isolated).toBe(false);
    expect(flat.kind).toBe('wasm');
    expect(flat.threads).toBe(1);
    expect(flat.reason).toMatch(/cross-origin isolated/);
    expectSameTraining(flat, `${what} (not isolated)`);
  }

  const served = async (dir: string, file: string, isolated: boolean) => {
    const s = await serve(dir, { isolated });
    servers.push(s.server);
    return s.url + file;
  };

  for (const tool of ['vite', 'esbuild', 'rollup', 'webpack'] as const) {
    it(`${tool} build: no warnings, trains with the same bits`, async () => {
      const out = join(tmp, `out-${tool}`);
      const { warnings } = lastJson<{ warnings: string[] }>(run(process.execPath, ['build.mjs', tool, out], bundlers).stdout);
      expect(warnings, `${tool} warnings`).toEqual([]);
      // nothing but the page, its script(s) and no stray copy of the binaries or the worker
      const emitted = readdirSync(out, { recursive: true }).map(String);
      expect(emitted.filter((f) => /\.wasm$|worker/.test(f)), `${tool} emitted`).toEqual([]);
      await both(tool, (iso) => served(out, 'index.html', iso));
    }, 300_000);
  }

  it('a plain page with an import map (only "regula" mapped) trains with the same bits', async () => {
    await both('import map', (iso) => served(bundlers, 'importmap.html', iso));
  }, 300_000);

  it('the Vite dev server trains with the same bits, and Vite warns about nothing', async () => {
    const vite = (await import(pathToFileURL(join(bundlers, 'node_modules/vite/dist/node/index.js')).href)) as typeof import('vite');
    const warnings: string[] = [];
    const logger = { hasWarned: false, info() {}, warn(m: string) { warnings.push(m); }, warnOnce(m: string) { warnings.push(m); },
      error(m: string) { warnings.push(`error: ${m}`); }, clearScreen() {}, hasErrorLogged: () => false };
    const servers: { close(): Promise<void> }[] = [];
    try {
      await both('vite dev', async (iso) => {
        const s = await vite.createServer({ root: bundlers, configFile: false, customLogger: logger, logLevel: 'warn',
          server: { host: '127.0.0.1', port: 0, headers: iso ? ISOLATION_HEADERS : {} } });
        servers.push(s);
        await s.listen();
        return `${s.resolvedUrls!.local[0]}index.html`;
      });
      expect(warnings).toEqual([]);
    } finally {
      for (const s of servers) await s.close();
    }
  }, 300_000);
});

describe("a new project that follows only the README's first section", () => {
  it('installs the tarball, saves the section\'s code as the file it names, runs it: it trains and saves what src/ does, byte for byte', async () => {
    // the README as the package ships it
    const readme = readFileSync(join(plain, 'node_modules/regula/README.md'), 'utf8');
    const first = parseBlocks(readme, 'README.md (packed)').filter((b) => b.sectionIndex === 1);
    const dir = join(tmp, 'readme-first-section');
    mkdirSync(dir);
    const printed: string[] = [];
    let installed = false;
    for (const b of first) {
      if (RUNNABLE.has(b.lang)) {
        expect(b.directives.file, `${where(b)}: a first-section block names the file a reader saves it as`).toBeDefined();
        writeFileSync(join(dir, b.directives.file!), b.code);
      } else if (SHELL.has(b.lang)) {
        for (const cmd of shellCommands(b.code)) {
          const [tool, sub, ...args] = cmd.split(/\s+/);
          if (tool === 'npm' && (sub === 'install' || sub === 'i')) {
            expect(args, `${where(b)}: \`${cmd}\``).toEqual(['regula']);
            const r = run(NPM, ['install', '--no-audit', '--no-fund', tarball], dir);
            const warnings = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^npm (warn|WARN|error|ERR)/.test(l));
            expect(warnings.filter((l) => !EXPLAINED_NPM_WARNING.test(l))).toEqual([]);
            installed = true;
          } else if (tool === 'node' && sub !== undefined) {
            const r = run(process.execPath, [sub, ...args], dir, 300_000);
            expect(r.stderr, `${where(b)}: \`${cmd}\` wrote to stderr`).toBe('');
            printed.push(...r.stdout.trim().split('\n'));
          } else {
            throw new Error(`${where(b)}: \`${cmd}\`: this test follows npm install and node commands; teach it this one or leave it out of the first section`);
          }
        }
      }
    }
    expect(installed, 'the first section installs the package').toBe(true);
    const saved = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    expect(saved, 'the first section saves a model').not.toEqual([]);

    // the same blocks from src/, in this process (the doc test's run)
    const src = await import('../../src/index.js') as unknown as Record<string, unknown>;
    const logs: string[] = [];
    for (const b of first.filter((x) => RUNNABLE.has(x.lang))) {
      const r = await runBlock(b, src, { keepDir: true });
      try {
        logs.push(...r.logs.map((a) => a.join(' ')));
        for (const f of saved) expect(readFileSync(join(dir, f)).equals(readFileSync(join(r.dir, f))), `${f}: the bytes the package saved differ from src/'s`).toBe(true);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }
    expect(printed).toEqual(logs);
    expect(printed.length).toBeGreaterThan(1);
  }, 600_000);
});

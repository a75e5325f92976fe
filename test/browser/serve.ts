/**
 * Helpers of the browser tests: build a page (the demo, or the worker how-to) when its
 * output is missing or older than its sources, and serve a directory on 127.0.0.1 with
 * plain node:http.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = join(ROOT, 'dist-demo');

/** A page that Vite builds: where to, from what (a change to any source makes it stale), and the vite arguments. */
export interface Site { dist: string; sources: string[]; vite: string[] }

/** The demo page (examples/demo, vite.config.ts) in dist-demo/. */
export const DEMO: Site = {
  dist: DIST,
  sources: ['examples/demo', 'examples/experiments', 'examples/data', 'test/reference/shakespeare-torch.json', 'src', 'bench', 'test/random.ts', 'test/erf64.ts', 'build/regula.wasm', 'vite.config.ts', 'package.json'],
  vite: ['build'],
};

/** The worker how-to (examples/worker, its own vite.config.ts) in dist-worker-example/. */
export const WORKER_EXAMPLE: Site = {
  dist: join(ROOT, 'dist-worker-example'),
  sources: ['examples/worker', 'src', 'build/regula.wasm', 'package.json'],
  vite: ['build', 'examples/worker', '--outDir', join(ROOT, 'dist-worker-example'), '--emptyOutDir'],
};
/** Folders of the sources that are outputs, not sources (bench/results/: what the benches wrote). */
const SKIP = new Set(['screenshots', 'results']);

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) if (!SKIP.has(name)) m = Math.max(m, newest(join(path, name)));
  return m;
}

/**
 * Runs `vite build` unless the site's index.html is newer than every source. Returns whether
 * it built. One process at a time (a lock file beside the output): the browser test files run
 * in parallel on a machine with more cores, and on a clean clone each would otherwise start
 * its own build, emptying dist-demo/ under the page another one is loading.
 */
export function ensureBuilt(site: Site = DEMO): boolean {
  if (!existsSync(join(ROOT, 'build/regula.wasm'))) {
    throw new Error('build/regula.wasm is missing: run `npm run build` (npm install does it) before the browser tests');
  }
  return withLock(`${site.dist}.lock`, () => {
    const built = join(site.dist, 'index.html');
    const stale = !existsSync(built) || statSync(built).mtimeMs < Math.max(...site.sources.map((s) => newest(join(ROOT, s))));
    if (stale) {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), ...site.vite, '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    }
    return stale;
  });
}

/** Runs `body` holding the lock file `path` (it holds the holder's pid; a dead holder's lock is taken over). */
function withLock<T>(path: string, body: () => T): T {
  const t0 = Date.now();
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid: number, age: number;
    try {
      pid = Number(readFileSync(path, 'utf8')); // NaN while its holder is writing it
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (pid > 0 ? !alive(pid) : age > 10_000) { rmSync(path, { force: true }); continue; }
    if (Date.now() - t0 > 600_000) throw new Error(`${path} has been held by process ${pid} for 10 minutes: remove it if no demo build is running`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // ensureBuilt is synchronous: sleep 200 ms
  }
  try {
    return body();
  } finally {
    rmSync(path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so regula's threads). */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * A static file server for `dir` on 127.0.0.1 and a free port; resolves to it and its base
 * URL. With `isolated` (the default) it sends the cross-origin isolation headers, as the
 * demo's Vite server does; without, it is any plain static host.
 */
export async function serve(dir: string, options: { isolated?: boolean } = {}): Promise<{ server: Server; url: string }> {
  const extra = options.isolated ?? true ? ISOLATION_HEADERS : {};
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...extra });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

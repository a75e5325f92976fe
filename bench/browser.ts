/**
 * `npm run bench:browser [-- --time ms] [--pairs n] [--check] [--json file]`: nanoGPT's CPU
 * recipe (bench/transformer-recipe.bench.ts) timed in headless Chromium, on the demo's
 * benchmark page (examples/demo/bench.html, built if stale and served cross-origin isolated,
 * so wasm runs on every core there too), and in Node, in one run: Node and the page take
 * turns `pairs` times (default 3) with the same case definitions and the same harness
 * settings (`time` ms a case, default 3000: `npm run bench`'s 5 rounds of at least 5 calls),
 * each side also measuring the f32x4 ceiling. Prints ms/iteration and tokens/s on 1 thread
 * and on every core, the medians over the pairs and Chromium's tokens/s over Node's (issue
 * 22: ≥ 0.9x), and writes them to bench/results/browser-recipe.json (or --json file).
 * Only regula runs (no PyTorch): the page has no peers, and Node's side matches it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { disposeBackends, loadBackends } from './backends.js';
import { runGroup } from './harness.js';
import { setHost } from './host.js';
import { loadPeak } from './peak.js';
import { RECIPE_TITLE, ceilingGroup, recipeFigures, runSuites, timingFor, type RecipeFigure } from './portable.js';
import { openDemo, runBenchPage } from '../test/browser/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let timeMs = 3000, pairs = 3, check = false;
let jsonOut = join(here, 'results', 'browser-recipe.json');
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--time') timeMs = Number(args[++i]);
  else if (a === '--pairs') pairs = Number(args[++i]);
  else if (a === '--check') check = true;
  else if (a === '--json') jsonOut = args[++i]!;
  else throw new Error(`bench/browser.ts: unknown argument ${a} (expected --time ms, --pairs n, --check, --json file)`);
}
if (!(timeMs >= 20) || !(Number.isInteger(pairs) && pairs >= 1)) throw new Error(`bench/browser.ts: expected --time ≥ 20 and --pairs ≥ 1, got ${timeMs} and ${pairs}`);

interface Side { ceiling: number; recipe: RecipeFigure[] }

setHost({ peak: loadPeak }); // the page's host: the ceiling loop, no peers
const peak = await loadPeak();
const bes = await loadBackends();
const options = timingFor(timeMs, check);

async function nodeSide(): Promise<Side> {
  const [c] = await runGroup('ceiling', ceilingGroup(peak), timeMs, options);
  const rows = await runSuites(['training'], bes, RECIPE_TITLE, timeMs, options);
  return { ceiling: c!.rate, recipe: recipeFigures(rows) };
}

const demo = await openDemo({ width: 1280, height: 900 }, 'bench.html');
async function pageSide(): Promise<Side> {
  const { state, status, report } = await runBenchPage(demo.page, { suites: ['training'], timeMs, check, filter: RECIPE_TITLE }, 30 * 60_000);
  if (state !== 'done' || report === null) throw new Error(`the benchmark page ended "${state}": ${status}`);
  return { ceiling: report.ceiling.gflops, recipe: report.recipe };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const load0 = os.loadavg()[0]!;
const runs: { node: Side; chromium: Side }[] = [];
const browserVersion = demo.context.browser()?.version() ?? (await demo.page.evaluate(() => navigator.userAgent));
try {
  for (let p = 0; p < pairs; p++) {
    // alternate which side goes first, so that neither always runs on the warmer machine
    const first = p % 2 === 0 ? nodeSide : pageSide, second = p % 2 === 0 ? pageSide : nodeSide;
    const a = await first(), b = await second();
    runs.push(p % 2 === 0 ? { node: a, chromium: b } : { node: b, chromium: a });
    process.stderr.write(`pair ${p + 1}/${pairs} done\n`);
  }
} finally {
  await demo.close();
  disposeBackends(bes);
}

const threads = runs[0]!.node.recipe.map((f) => f.threads);
const lines: string[] = [];
const summary = threads.map((t) => {
  const pick = (s: Side) => s.recipe.find((f) => f.threads === t) ?? null;
  const n = runs.map((r) => pick(r.node)), c = runs.map((r) => pick(r.chromium));
  if (n.some((x) => x === null) || c.some((x) => x === null)) throw new Error(`the recipe on ${t} thread(s) is missing from a run (Chromium's thread count differs from Node's?)`);
  const nodeTps = median(n.map((x) => x!.tokensPerSecond)), chromeTps = median(c.map((x) => x!.tokensPerSecond));
  const perPair = runs.map((_, i) => c[i]!.tokensPerSecond / n[i]!.tokensPerSecond);
  lines.push(`${t} thread${t === 1 ? '' : 's'}: Node ${median(n.map((x) => x!.msPerIteration)).toFixed(1)} ms/iter, ${nodeTps.toFixed(0)} tokens/s; ` +
    `Chromium ${median(c.map((x) => x!.msPerIteration)).toFixed(1)} ms/iter, ${chromeTps.toFixed(0)} tokens/s; ` +
    `Chromium / Node ${(chromeTps / nodeTps).toFixed(3)}x (per pair: ${perPair.map((x) => x.toFixed(3)).join(', ')})`);
  return { threads: t, nodeTokensPerSecond: nodeTps, chromiumTokensPerSecond: chromeTps, ratio: chromeTps / nodeTps, perPair };
});
const ceil = (s: 'node' | 'chromium') => median(runs.map((r) => r[s].ceiling));
console.log(`nanoGPT CPU recipe in headless Chromium (${browserVersion}) vs Node ${process.version}, ${pairs} pair(s), ${timeMs} ms a case, checks ${check ? 'on' : 'off'}; load ${load0.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}`);
for (const l of lines) console.log('  ' + l);
console.log(`  f32x4 ceiling, one core: Node ${ceil('node').toFixed(1)} GFLOP/s, Chromium ${ceil('chromium').toFixed(1)} GFLOP/s`);
await mkdir(dirname(jsonOut), { recursive: true });
await writeFile(jsonOut, JSON.stringify({
  date: new Date().toISOString(), command: `npm run bench:browser${args.length ? ' -- ' + args.join(' ') : ''}`,
  node: process.version, chromium: browserVersion, cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: [load0, os.loadavg()[0]],
  timeMs, pairs, check, summary, ceiling: { node: ceil('node'), chromium: ceil('chromium') }, runs,
}, null, 2));
console.log(`figures written to ${jsonOut}`);
process.exit(0);

/**
 * `npm run bench [-- <filter>] [--time ms] [--rounds r] [--json file]`: runs every suite in
 * bench/ (or those whose name contains a filter), prints one table, and writes all figures
 * to bench/results/latest.json (or --json file). Each case is timed for about `time` ms
 * (default 1000) in `rounds` interleaved slices (default 5); medians, one process, so the
 * ratios in a table come from one run.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import './node-host.js';
import { disposeBackends, loadBackends } from './backends.js';
import { formatRows, runGroup, type Row, type Suite } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let timeMs = 1000;
let rounds = 5;
let jsonOut = join(here, 'results', 'latest.json');
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--time') timeMs = Number(args[++i]);
  else if (a === '--json') jsonOut = args[++i]!;
  else if (a === '--rounds') rounds = Number(args[++i]);
  else if (a === '--quick') timeMs = 250;
  else filters.push(a);
}

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const rows: Row[] = [];
// wasm on 1 thread, on every core, and js: the portable suites time these (the benchmark page its own)
const bes = await loadBackends();
for (const f of files) {
  const suite = (await import(pathToFileURL(join(here, f)).href)).default as Suite;
  if (filters.length > 0 && !filters.some((x) => suite.name.includes(x) || f.includes(x))) continue;
  for (const g of await suite.groups(bes)) {
    process.stderr.write(`running ${suite.name} / ${g.title} ...\n`);
    const r = await runGroup(suite.name, g, timeMs, rounds);
    rows.push(...r);
    console.log(formatRows(r) + '\n');
  }
}
disposeBackends(bes);
console.log('all groups:\n' + formatRows(rows));
await mkdir(dirname(jsonOut), { recursive: true });
await writeFile(jsonOut, JSON.stringify({
  date: new Date().toISOString(),
  command: `npm run bench${args.length ? ' -- ' + args.join(' ') : ''}`,
  node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, timeMs, rounds, rows,
}, null, 2));
console.log(`\nfigures written to ${jsonOut}`);

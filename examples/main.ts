/**
 * `npm start`: the lesson's claims as measured experiments on regula.
 *   npm start [-- --backend wasm|js] [--json FILE] [--quick] [--full] [--only id,id]
 *   npm start -- gpt     experiment 8 (the transformer) alone, at full length
 *   npm start -- shakespeare   experiment 9 (nanoGPT's Shakespeare recipe) alone, all 2,000 iterations
 * Prints each experiment as a table with its verdict, then a summary; --json writes every
 * figure (for the demo page and for tests).
 */
import { writeFile } from 'node:fs/promises';
import { loadBackend } from '../src/index.js';
import { progress, table } from './report.js';
import { experiments } from './experiments/index.js';
import type { Result } from './experiments/types.js';

function parseArgs(argv: string[]): { backend: 'wasm' | 'js'; json: string | null; quick: boolean; full: boolean; only: string[] } {
  let backend: 'wasm' | 'js' = 'wasm';
  let json: string | null = null;
  let quick = false;
  let full = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--backend') {
      const v = argv[++i];
      if (v !== 'wasm' && v !== 'js') throw new Error(`--backend: expected wasm or js, got ${v ?? 'nothing'}`);
      backend = v;
    } else if (a === '--json') {
      json = argv[++i] ?? null;
      if (json === null) throw new Error('--json: expected a file name');
    } else if (a === '--quick') quick = true;
    else if (a === '--full') full = true;
    else if (a === 'gpt') { only.push('gpt-names'); full = true; }
    else if (a === 'shakespeare') { only.push('shakespeare'); full = true; }
    else if (a === '--only') only.push(...(argv[++i] ?? '').split(','));
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm start -- [gpt | shakespeare] [--backend wasm|js] [--json FILE] [--quick] [--full] [--only id,id]');
      console.log('  gpt: experiment 8 alone at full length (--only gpt-names --full); shakespeare: experiment 9 alone, 2,000 iterations (--only shakespeare --full); --full: experiments with a shorter default at full length');
      console.log('experiments: ' + experiments.map((e) => e.id).join(', '));
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (quick && full) throw new Error('--quick and --full (or gpt) exclude each other');
  const known = new Set(experiments.map((e) => e.id));
  for (const id of only) if (!known.has(id)) throw new Error(`--only: unknown experiment ${JSON.stringify(id)}; expected one of ${[...known].join(', ')}`);
  return { backend, json, quick, full, only };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const be = await loadBackend(args.backend);
  const t0 = performance.now();
  console.log(`regula: the lesson's claims, measured (backend ${be.kind}${args.quick ? ', quick' : ''}${args.full ? ', full length' : ''})\n`);
  const results: (Result & { seconds: number })[] = [];
  const chosen = experiments.filter((e) => args.only.length === 0 || args.only.includes(e.id));
  for (const e of chosen) {
    console.log(`${experiments.indexOf(e) + 1}. ${e.title}`);
    const s0 = performance.now();
    const r = await e.run({ be, quick: args.quick, full: args.full, progress });
    const seconds = (performance.now() - s0) / 1000;
    results.push({ ...r, seconds });
    console.log(`   claim: ${r.claim}`);
    for (const t of r.tables) {
      if (t.caption) console.log(`\n   ${t.caption}`);
      console.log(table(t.head, t.rows));
    }
    console.log(`\n   ${label(r.verdict).toUpperCase()}: ${r.verdict.detail} (${seconds.toFixed(1)} s)${r.verdict.untested ? `\n   not tested by this run: ${r.verdict.untested}` : ''}\n`);
  }
  const total = (performance.now() - t0) / 1000;
  console.log('summary');
  console.log(table(['#', 'experiment', 'verdict', 'seconds'], results.map((r) => [experiments.findIndex((e) => e.id === r.id) + 1, r.title, label(r.verdict), r.seconds.toFixed(2)])));
  const held = results.filter((r) => r.verdict.holds).length;
  const untested = results.filter((r) => !r.verdict.holds && r.verdict.untested !== undefined).length;
  console.log(`\n${held} of ${results.length} claims hold on the ${be.kind} backend${untested > 0 ? ` (${untested} not tested by a shortened run)` : ''}; ${total.toFixed(1)} s in all.`);
  const mem = be.memory();
  if (mem.liveTensors !== 0) console.log(`warning: ${mem.liveTensors} tensors still live at the end`);
  if (args.json) {
    await writeFile(args.json, JSON.stringify({ backend: be.kind, quick: args.quick, full: args.full, seconds: total, node: process.version, results }, null, 1));
    console.log(`figures written to ${args.json}`);
  }
  if (held + untested !== results.length) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});

/** How a verdict reads in the report: a claim a shortened run could not test is not a failure. */
function label(v: Result['verdict']): string {
  return v.holds ? 'holds' : v.untested !== undefined ? 'not tested (short run)' : 'DOES NOT HOLD';
}

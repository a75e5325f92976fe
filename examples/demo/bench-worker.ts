/**
 * The benchmark page's worker: loads wasm on one thread, wasm on every core and js, measures
 * the f32x4 ceiling, then runs the portable suites of `npm run bench` (bench/portable.ts),
 * the same case definitions Node times, and reports each group's rows as it finishes. A
 * stop is read between groups (a group is never cut short).
 */
import peakBinary from 'virtual:regula-peak';
import { loadBackends, disposeBackends } from '../../bench/backends.js';
import { setHost } from '../../bench/host.js';
import { instantiatePeak } from '../../bench/peak-loop.js';
import { ceilingGroup, recipeFigures, runSuites, timingFor, withShares } from '../../bench/portable.js';
import { runGroup, type Row } from '../../bench/harness.js';
import type { BenchReport, BenchSettings, FromBenchWorker, ToBenchWorker } from './bench-protocol.js';
import { workerScope } from './worker-scope.js';

const { scope, post } = workerScope<ToBenchWorker, FromBenchWorker>();

// The page's host: the ceiling loop built into the page (no peers: tfjs and PyTorch are Node's).
const peak = instantiatePeak(peakBinary);
setHost({ peak: () => peak });

/** Lets the worker's event loop run (a 'stop' message is read then). */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

let stopped = false;
let running = false;

async function run(settings: BenchSettings): Promise<void> {
  const t0 = performance.now();
  stopped = false;
  const bes = await loadBackends();
  try {
    const threads = bes.wasmN?.info().threads ?? 1;
    const threadsReason = bes.threadsReason ?? null;
    post({ type: 'env', threads, threadsReason, crossOriginIsolated: self.crossOriginIsolated });
    const options = timingFor(settings.timeMs, settings.check);
    const [c] = await runGroup('ceiling', ceilingGroup(await peak), settings.timeMs, options);
    const ceiling = { gflops: c!.rate, medianMs: c!.medianMs };
    post({ type: 'ceiling', ...ceiling });
    await breathe();
    const rows: Row[] = await runSuites(settings.suites, bes, settings.filter, settings.timeMs, options, {
      stopped: () => stopped,
      started: (suite, title) => post({ type: 'group', suite, title }),
      done: async (r) => { post({ type: 'rows', rows: r }); await breathe(); },
    });
    const report: BenchReport = {
      kind: 'regula benchmark page', version: 1, date: new Date().toISOString(), userAgent: navigator.userAgent,
      cores: navigator.hardwareConcurrency, crossOriginIsolated: self.crossOriginIsolated, threads, threadsReason,
      settings, ceiling, rows: withShares(rows, ceiling.gflops), recipe: recipeFigures(rows), stopped,
      durationMs: performance.now() - t0,
    };
    post({ type: 'done', report });
  } finally {
    disposeBackends(bes);
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'stop') { stopped = true; return; }
  if (running) return;
  running = true;
  run(m.settings).catch((err: unknown) => {
    post({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }).finally(() => { running = false; });
};

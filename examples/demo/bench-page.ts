/**
 * The benchmark page (bench.html): the settings form, the worker that runs the suites
 * (bench-worker.ts), a table per group as it finishes, the ceiling and nanoGPT-recipe
 * figures, and the results as JSON (shown, and downloadable). The page's thread only draws.
 */
import { fmtMs, fmtNum, type Row } from '../../bench/harness.js';
import type { SuiteSet } from '../../bench/portable.js';
import type { BenchReport, BenchSettings, FromBenchWorker, ToBenchWorker } from './bench-protocol.js';
import { byId, saveFile, thousands } from './svg.js';

function cell(tr: HTMLTableRowElement, text: string, header = false): void {
  const c = document.createElement(header ? 'th' : 'td');
  if (header) c.setAttribute('scope', tr.parentElement?.tagName === 'THEAD' ? 'col' : 'row');
  c.textContent = text;
  tr.append(c);
}

function init(): void {
  const form = byId<HTMLFormElement>('bench-form');
  const runBtn = byId<HTMLButtonElement>('bench-run');
  const stopBtn = byId<HTMLButtonElement>('bench-stop');
  const status = byId('bench-status');
  const results = byId('bench-results');
  const json = byId('bench-json');
  const download = byId<HTMLButtonElement>('bench-download');
  let ceiling = NaN;
  let count = 0;
  let report: BenchReport | null = null;

  const setStatus = (state: string, text: string) => { status.dataset['state'] = state; status.textContent = text; };
  const setRunning = (on: boolean) => { runBtn.disabled = on; stopBtn.disabled = !on; };

  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module', name: 'regula-bench' });
  const send = (m: ToBenchWorker) => worker.postMessage(m);

  function settings(): BenchSettings {
    const suites: SuiteSet[] = [];
    if (byId<HTMLInputElement>('suite-kernels').checked) suites.push('kernels');
    if (byId<HTMLInputElement>('suite-training').checked) suites.push('training');
    return { suites, timeMs: Number(byId<HTMLInputElement>('bench-time').value), check: byId<HTMLInputElement>('bench-check').checked, filter: byId<HTMLInputElement>('bench-filter').value.trim() };
  }

  function table(rows: Row[]): void {
    const t = document.createElement('table');
    const cap = document.createElement('caption');
    cap.textContent = `${rows[0]!.suite}: ${rows[0]!.group}`;
    t.append(cap);
    const head = t.createTHead().insertRow();
    const tokens = rows.some((r) => r.tokensPerSecond !== undefined);
    for (const h of ['case', 'median', 'rate', 'ceiling share', '× baseline', ...(tokens ? ['tokens/s'] : [])]) cell(head, h, true);
    const body = t.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      tr.dataset['case'] = r.case;
      cell(tr, r.case, true);
      cell(tr, fmtMs(r.medianMs));
      cell(tr, `${fmtNum(r.rate)} ${r.rateUnit}`);
      cell(tr, r.rateUnit === 'GFLOP/s' && r.backend !== undefined ? `${(100 * r.rate / (ceiling * (r.threads ?? 1))).toFixed(0)}%` : '–');
      cell(tr, r.case === r.baseline ? 'baseline' : `${r.vsBaseline.toFixed(2)}×`);
      if (tokens) cell(tr, r.tokensPerSecond === undefined ? '–' : thousands(Math.round(r.tokensPerSecond)));
    }
    const wrap = document.createElement('div');
    wrap.className = 'table-scroll';
    wrap.append(t);
    results.append(wrap);
  }

  worker.onmessage = (e: MessageEvent<FromBenchWorker>) => {
    const m = e.data;
    if (m.type === 'env') {
      byId('bench-threads').textContent = String(m.threads);
      byId('bench-threads').title = m.threadsReason ?? `wasm on every core: ${m.threads} threads`;
      byId('bench-isolated').textContent = m.crossOriginIsolated ? 'yes' : 'no';
    } else if (m.type === 'ceiling') {
      ceiling = m.gflops;
      const c = byId('bench-ceiling');
      c.textContent = `${fmtNum(m.gflops)} GFLOP/s`;
      c.dataset['value'] = String(m.gflops);
    } else if (m.type === 'group') {
      setStatus('running', `running ${m.suite}: ${m.title}…`);
    } else if (m.type === 'rows') {
      table(m.rows);
      count += m.rows.length;
      byId('bench-count').textContent = String(count);
    } else if (m.type === 'done') {
      report = m.report;
      setRunning(false);
      const r = m.report;
      byId('bench-recipe').textContent = r.recipe.length === 0 ? 'not run'
        : r.recipe.map((f) => `${f.threads} thread${f.threads === 1 ? '' : 's'}: ${f.msPerIteration.toFixed(1)} ms/iter, ${thousands(Math.round(f.tokensPerSecond))} tokens/s`).join(' · ');
      json.textContent = JSON.stringify(r, null, 2);
      download.disabled = false;
      setStatus(r.stopped ? 'stopped' : 'done', `${r.stopped ? 'stopped' : 'done'}: ${r.rows.length} cases in ${(r.durationMs / 1000).toFixed(1)} s`);
    } else {
      setRunning(false);
      setStatus('error', `error: ${m.message}`);
    }
  };
  worker.onerror = (e) => {
    setRunning(false);
    setStatus('error', `error: the worker failed: ${e.message}`);
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const s = settings();
    if (s.suites.length === 0) { setStatus('idle', 'pick at least one suite'); return; }
    if (!(s.timeMs >= 20)) { setStatus('idle', 'the time per case is at least 20 ms'); return; }
    results.replaceChildren();
    json.textContent = '';
    download.disabled = true;
    report = null;
    count = 0;
    ceiling = NaN;
    for (const id of ['bench-ceiling', 'bench-recipe', 'bench-count']) byId(id).textContent = '–';
    setRunning(true);
    setStatus('running', 'loading the backends and measuring the ceiling…');
    send({ type: 'run', settings: s });
  });
  stopBtn.addEventListener('click', () => {
    stopBtn.disabled = true;
    setStatus('stopping', 'stopping after the current group…');
    send({ type: 'stop' });
  });
  download.addEventListener('click', () => {
    if (report === null) return;
    saveFile(new TextEncoder().encode(JSON.stringify(report, null, 2)), `regula-bench-${report.date.replace(/[:.]/g, '-')}.json`);
  });
  runBtn.disabled = false;
  setStatus('idle', 'idle');
  document.body.dataset['ready'] = 'true';
}

try {
  init();
} catch (e) {
  const el = byId('page-error');
  el.textContent = `The benchmark page could not start: ${e instanceof Error ? e.message : String(e)}`;
  el.hidden = false;
  throw e;
}

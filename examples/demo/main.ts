/** The demo page: loads regula's backend for panels 1 and 2, and starts the workers of the training panels (3: MLP, 4: GPT). */
import { fit, loadBackend, nn, optim, predict } from '../../src/index.js';
import { initGeometry } from './geometry-panel.js';
import { initDropout } from './dropout-panel.js';
import { initTraining } from './train-panel.js';
import { initGpt } from './gpt-panel.js';
import { byId } from './svg.js';

function showError(message: string): void {
  const el = byId('page-error');
  el.textContent = message;
  el.hidden = false;
}

async function main(): Promise<void> {
  initTraining();
  initGpt();
  const be = await loadBackend('auto');
  const kind = byId('backend-kind');
  kind.textContent = be.kind;
  kind.title = be.kind === 'wasm' ? 'WebAssembly SIMD core' : 'pure TypeScript (this browser lacks Wasm SIMD)';
  const info = be.info();
  const threads = byId('backend-threads');
  threads.textContent = String(info.threads);
  threads.title = info.reason ?? `kernels split over ${info.threads} threads (cross-origin isolated page, shared memory)`;
  // for the console (and the browser tests): the library itself and what this page loaded
  Object.assign(window, { regula: { loadBackend, fit, predict, nn, optim }, regulaInfo: info });
  initGeometry(be);
  initDropout(be);
  document.body.dataset['ready'] = 'true';
}

main().catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  byId('backend-kind').textContent = 'failed';
  showError(`The demo could not start: ${msg}`);
  throw e;
});

/**
 * Node's host for the portable suites (bench/host.ts): the f32x4 ceiling compiled by asc,
 * tfjs-backend-wasm and tfjs-layers, and PyTorch when python3 imports torch (looked up on
 * first use). Importing this module sets it (bench/run.ts does).
 */
import { setHost, type TorchPeer } from './host.js';
import { loadPeak } from './peak.js';
import { loadTfWasm } from './tfjs.js';
import { findTorchPython, torchCase, torchServer } from './torch.js';

let torch: TorchPeer | null | undefined;

setHost({
  peak: loadPeak,
  tfjs: loadTfWasm,
  tfjsLayers: async () => { await loadTfWasm(); return import('@tensorflow/tfjs-layers'); },
  torch: () => {
    if (torch === undefined) {
      const py = findTorchPython();
      torch = py === null ? null : { server: (script, threads, args = []) => torchServer(py, script, threads, args), case: torchCase };
    }
    return torch;
  },
});

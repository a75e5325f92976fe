/**
 * tfjs-backend-wasm (XNNPACK, SIMD, one thread) loaded for comparison benchmarks.
 * The threaded binary is not used: these figures are single-thread, like regula's.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let loaded: Promise<typeof import('@tensorflow/tfjs-core')> | null = null;

export function loadTfWasm(): Promise<typeof import('@tensorflow/tfjs-core')> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(join(dir, 'dist') + '/', false);
    wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, expected wasm`);
    return tf;
  })();
  return loaded;
}

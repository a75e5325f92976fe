/**
 * What loading the wasm backend costs, by where the binary and the worker come from:
 * the binaries built into the package (base64 in the JS: decode, compile, instantiate)
 * against bytes already in memory (compile, instantiate) and a file path (read, compile,
 * instantiate); and a two-thread backend with the built-in worker (a data: URL module in
 * Node) against the worker file dist/backend/wasm/worker.js (needs `npm run build`).
 * The check: every way gives a backend whose matmul has the same bits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBackend, type Backend } from '../src/index.js';
import { decodeBase64 } from '../src/data/index.js';
import { WASM_BASE64 } from '../src/backend/wasm/embedded.generated.js';
import type { Group, Suite } from './harness.js';

const FILE = fileURLToPath(new URL('../build/regula.wasm', import.meta.url));
const WORKER = new URL('../dist/backend/wasm/worker.js', import.meta.url);

function matmulBits(be: Backend): string {
  const a = be.tensor([3, 5], Array.from({ length: 15 }, (_, i) => Math.sin(i)));
  const b = be.tensor([5, 2], Array.from({ length: 10 }, (_, i) => Math.cos(i)));
  const out = be.zeros([3, 2]);
  be.kernels.matmul(out, a, b);
  const s = Array.from(new Uint32Array(out.data.slice().buffer)).join(',');
  be.dispose();
  return s;
}

const suite: Suite = {
  name: 'load',
  async groups(): Promise<Group[]> {
    const bytes = readFileSync(FILE);
    const load = (o: object) => async () => { (await loadBackend('wasm', o)).dispose(); };
    const check = (cases: object[]) => async () => {
      const want = matmulBits(await loadBackend('js'));
      for (const o of cases) {
        const got = matmulBits(await loadBackend('wasm', o));
        if (got !== want) throw new Error(`loadBackend('wasm', ${JSON.stringify(Object.keys(o))}) gives other bits`);
      }
    };
    const one = [{ threads: 1 }, { threads: 1, wasm: bytes }, { threads: 1, wasm: FILE }];
    const two = [{ threads: 2 }, { threads: 2, workerUrl: WORKER }];
    return [{
      title: 'wasm backend load, 1 thread',
      work: 1,
      unit: 'step',
      cases: [
        { name: 'built in (base64 decode + compile)', fn: load(one[0]!), check: check(one) },
        { name: 'bytes given (compile)', fn: load(one[1]!) },
        { name: 'file path (read + compile)', fn: load(one[2]!) },
        { name: 'base64 decode alone', fn: () => decodeBase64(WASM_BASE64) },
      ],
    }, {
      title: 'wasm backend load, 2 threads (starts 1 worker)',
      work: 1,
      unit: 'step',
      cases: [
        { name: 'built-in worker (data: URL)', fn: load(two[0]!), check: check(two) },
        { name: 'worker file (workerUrl)', fn: load(two[1]!) },
      ],
    }];
  },
};
export default suite;

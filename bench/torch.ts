/**
 * PyTorch peers of the training benchmarks: a python3 that imports torch, and a served
 * Python script (bench/torch_train.py, bench/torch_gpt.py) that runs training steps on
 * request, so the harness times them in the same interleaved run as regula's cases.
 * Protocol: the script prints "ready", then answers one line per request line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Case } from './harness.js';

/** A python3 that imports torch, or null. */
export function findTorchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** A served script: request(line) resolves with its one-line answer. */
export interface TorchServer { request: (line: string) => Promise<string>; close: () => void }

/** Starts bench/<script> <threads> <args...> --serve on `threads` threads; resolves once it says "ready". */
export async function torchServer(py: string, script: string, threads: number, args: readonly string[] = []): Promise<TorchServer> {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  // This machine sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old OpenBLAS builds; they slow
  // a current one, so they are unset for this benchmark process only (never in tests).
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const child: ChildProcessWithoutNullStreams = spawn(py, [path, String(threads), ...args, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let buf = '';
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let err = '';
  child.once('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited (${code}): ${err}`)); });
  child.stderr.on('data', (d) => { err += String(d); });
  child.stdout.on('data', (d) => {
    buf += String(d);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiting.shift()?.resolve(line);
    }
  });
  const next = () => new Promise<string>((resolve, reject) => { waiting.push({ resolve, reject }); });
  const ready = await next();
  if (ready !== 'ready') throw new Error(`${script}: expected "ready", got ${ready}`);
  child.unref();
  return {
    request(line) { const p = next(); child.stdin.write(line + '\n'); return p; },
    close() { child.stdin.end(); child.kill(); },
  };
}

/**
 * The harness case of model `index` of a served script: the timed call runs `steps` steps
 * there; the check trains a fresh copy 30 steps and wants the last loss below `ratio` times
 * the first.
 */
export function torchCase(server: TorchServer, script: string, name: string, index: number, steps: number, ratio: number): Case {
  return {
    name,
    fn: async () => {
      const r = await server.request(`run ${index} ${steps}`);
      if (!r.startsWith('ok ')) throw new Error(`${script}: ${r}`);
    },
    check: async () => {
      const [tag, first, last] = (await server.request(`check ${index}`)).split(' ');
      if (tag !== 'check' || !(Number(last) < Number(first) * ratio)) throw new Error(`PyTorch (${script}): loss went from ${first} to ${last} over 30 steps`);
    },
  };
}

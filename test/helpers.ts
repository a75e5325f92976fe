import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { loadBackend, type Backend, type Tensor } from '../src/index.js';
import type { ThreadPool } from '../src/backend/wasm/threads.js';

/** The thread pool of a wasm backend loaded with threads (throws when it has none). */
export function threadPool(be: Backend): ThreadPool {
  const p = (be._s as { _pool?: ThreadPool | null })._pool;
  if (p === null || p === undefined) throw new Error('expected a thread pool');
  return p;
}

/** A wasm tensor's byte pointer (tests that call exports or the raw kernels directly). */
export function ptr(t: Tensor): number {
  return t._h as unknown as number;
}

/**
 * A function of the test-only binary build/regula-testing.wasm (assembly/testing.ts),
 * applied to f32 inputs: fn(out, x, n) over a memory of its own; returns out.
 */
export function testingKernel(name: 'vexp' | 'vlog'): (xs: Float32Array) => Float32Array {
  const bytes = readFileSync(new URL('../build/regula-testing.wasm', import.meta.url));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort: () => { throw new Error('abort'); } } });
  const fn = exports[name] as (out: number, x: number, n: number) => void;
  const base = ((exports.heapBase as () => number)() + 63) & ~63;
  return (xs) => {
    const need = base + 8 * xs.length + 64;
    if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const x = base, out = (base + 4 * xs.length + 63) & ~63;
    new Float32Array(memory.buffer, x, xs.length).set(xs);
    fn(out, x, xs.length);
    return new Float32Array(memory.buffer, out, xs.length).slice();
  };
}

/** Both backends, loaded once per test file, and as [kind, backend] pairs for it.each / describe.each. */
export async function loadBoth(): Promise<{ wasm: Backend; js: Backend; BACKENDS: readonly [readonly ['wasm', Backend], readonly ['js', Backend]] }> {
  const [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);
  return { wasm, js, BACKENDS: [['wasm', wasm], ['js', js]] as const };
}

/** Sizes that straddle the SIMD width and the 16-lane RNG block, plus a few large ones. */
export const SIZES = [0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 67, 1000, 4099, 65537];

/** A deterministic float32 stream (mulberry32) for test inputs. */
export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * scale;
  }
  return out;
}

/** Bitwise equality of two float32 arrays (NaN payloads and ±0 included); returns the first differing index or -1. */
export function firstBitDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Expects the same float32 bits (±0 and NaN payloads included), naming the first element that differs. */
export function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  const d = firstBitDiff(got, want);
  expect(d, d < 0 ? what : `${what}: element ${d} is ${got[d]}, expected ${want[d]}`).toBe(-1);
}

/**
 * A page's frame loop, in Node: a macrotask that queues itself again each time it runs
 * (setImmediate, the task kind the training loops' yields queue in Node, src/train/fit.ts), so it
 * ticks exactly once per yield of a loop running meanwhile, as a page's frame or a Stop
 * button's click gets its turn only when the loop yields. `onTick` runs at each tick.
 */
export function pageFrames(onTick?: () => void): { readonly ticks: number; stop(): void } {
  let ticks = 0, running = true;
  const tick = () => {
    if (!running) return;
    ticks++;
    onTick?.();
    setImmediate(tick);
  };
  setImmediate(tick);
  return { get ticks() { return ticks; }, stop() { running = false; } };
}

/**
 * fit() on a page (issue 24): the AbortSignal is honoured at every batch boundary, onBatch
 * reports each step, and fit yields to the event loop at the interval asked. The page is
 * played by `pageFrames` (test/helpers.ts): a macrotask that re-queues itself, so it ticks
 * once per yield, as a page's frame or a Stop click gets its turn only when fit yields.
 * No assertion reads the clock: the yields are counted in ticks per batch, and the one test
 * of a millisecond interval drives fit's clock (performance.now) by hand.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fit, nn, optim, type Backend, type BatchLog, type FitData } from '../src/index.js';
import { firstBitDiff, loadBoth, pageFrames, randomF32 } from './helpers.js';
import { taskQueue } from '../src/train/fit.js';

let bes: { wasm: Backend; js: Backend };
beforeAll(async () => { bes = await loadBoth(); });
afterEach(() => { vi.restoreAllMocks(); });

/** n rows of d features in 3 classes (deterministic). */
function blobs(n: number, d: number, seed: number): FitData & { x: Float32Array; y: Int32Array } {
  const x = randomF32(n * d, seed, 0.6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) { y[i] = i % 3; x[i * d + (i % 3)]! += 1.5; }
  return { x, y, n, d };
}

function mlp(be: Backend, d: number, seed: number) {
  return new nn.Sequential(new nn.Linear(be, d, 16, { seed }), new nn.ReLU(), new nn.Linear(be, 16, 3, { seed: seed + 1 }));
}

const bitsOf = (sd: Record<string, Float32Array>) => Object.entries(sd).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]);

const ROWS = 100_000;
const big = blobs(ROWS, 4, 11);

describe.each(['wasm', 'js'] as const)('fit for pages on %s', (kind) => {
  const be = () => bes[kind];

  it('a Stop seen at a frame after batch N ends fit(100,000 rows, epochs 3, batchSize 32) within one batch, holding exactly the steps taken', async () => {
    const N = 40;
    const model = mlp(be(), 4, 5);
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const ac = new AbortController();
    const logs: BatchLog[] = [];
    let atAbort = -1;
    // the page: once it has seen N batches it clicks Stop
    const page = pageFrames(() => { if (logs.length >= N && atAbort < 0) { atAbort = logs.length; ac.abort(); } });
    const res = await fit(model, big, {
      optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 32, shuffle: false, signal: ac.signal, yieldEvery: 0,
      onBatch: (log) => { logs.push(log); },
    }).finally(() => page.stop());
    expect(res.stopReason).toBe('aborted');
    expect(atAbort).toBe(N); // yieldEvery 0: the page ran after every batch
    expect(logs.length - atAbort).toBeLessThanOrEqual(1);
    expect(res.steps).toBe(logs.length);
    expect(res.history).toEqual([]); // the aborted epoch is not logged
    expect(logs.map((l) => [l.epoch, l.batch])).toEqual(logs.map((_, i) => [0, i]));

    // the model and the optimizer hold exactly res.steps whole steps: the loop by hand on the same rows
    const ref = mlp(be(), 4, 5);
    const refOpt = new optim.Adam(ref.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let i = 0; i < res.steps; i++) {
      const x = be().tensor([32, 4], big.x.subarray(i * 32 * 4, (i + 1) * 32 * 4));
      refOpt.zeroGrad();
      const loss = be().crossEntropy(ref.forward(x), big.y.subarray(i * 32, (i + 1) * 32));
      losses.push(loss.item());
      loss.backward();
      refOpt.step();
      be().endStep();
      x.dispose();
    }
    expect(logs.map((l) => l.loss)).toEqual(losses);
    expect(bitsOf(model.stateDict())).toEqual(bitsOf(ref.stateDict()));
    expect(opt.stateDict()).toEqual(refOpt.stateDict());
    opt.dispose(); refOpt.dispose(); model.dispose(); ref.dispose();
  });

  it('an AbortSignal.timeout firing mid-epoch (default yieldEvery) stops fit within one batch of when it fired', async () => {
    const model = mlp(be(), 4, 7);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const signal = AbortSignal.timeout(5);
    let batches = 0, atAbort = -1;
    signal.addEventListener('abort', () => { atAbort = batches; });
    const res = await fit(model, big, {
      optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 32, signal, onBatch: () => { batches++; },
    });
    expect(res.stopReason).toBe('aborted');
    expect(atAbort).toBeGreaterThanOrEqual(0);
    expect(batches - atAbort).toBeLessThanOrEqual(1);
    expect(res.steps).toBe(batches);
    opt.dispose(); model.dispose();
  });
});

describe('fit yields to the event loop at the interval asked', () => {
  const be = () => bes.wasm;

  it('yieldEvery 0: the page gets a frame after every batch, across epochs and the validation pass', async () => {
    const model = mlp(be(), 4, 21);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const seen: number[] = [];
    const page = pageFrames();
    const res = await fit(model, blobs(40, 4, 3), {
      optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 4, yieldEvery: 0, validationSplit: 0.25,
      onBatch: () => { seen.push(page.ticks); },
    }).finally(() => page.stop());
    expect(res.steps).toBe(24); // 30 training rows: 8 batches (the last of 2 rows) per epoch
    expect(seen).toEqual(seen.map((_, i) => i)); // before batch i's callback the page had i frames
    opt.dispose(); model.dispose();
  });

  it.each([[20, 7, 3], [14, 7, 2], [7, 7, 1], [50, 7, 8]])('yieldEvery %i ms with batches of %i ms: a frame every %i batches', async (every, ms, period) => {
    let clock = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const model = mlp(be(), 4, 22);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const seen: number[] = [];
    const page = pageFrames();
    await fit(model, blobs(60, 4, 4), {
      optimizer: opt, loss: 'crossEntropy', epochs: 2, batchSize: 4, yieldEvery: every,
      onBatch: () => { seen.push(page.ticks); clock += ms; }, // each batch "takes" ms
    }).finally(() => page.stop());
    expect(seen.length).toBe(30);
    // fit yields after batch i once (i + 1)·ms − (last yield) ≥ every: after every period-th batch
    expect(seen).toEqual(seen.map((_, i) => Math.floor(i / period)));
    opt.dispose(); model.dispose();
  });

  it('awaits a promise from onBatch before the next batch', async () => {
    const model = mlp(be(), 4, 23);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const order: string[] = [];
    await fit(model, blobs(12, 4, 5), {
      optimizer: opt, loss: 'crossEntropy', epochs: 1, batchSize: 4, yieldEvery: 1e9,
      onBatch: async (l) => { order.push(`start ${l.batch}`); await new Promise((r) => setTimeout(r, 1)); order.push(`end ${l.batch}`); },
    });
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    opt.dispose(); model.dispose();
  });

  it('rejects a bad yieldEvery or onBatch before anything changes', async () => {
    const model = mlp(be(), 4, 24);
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const before = bitsOf(model.stateDict());
    const optBefore = opt.stateDict();
    const mem = be().memory();
    const base = { optimizer: opt, loss: 'crossEntropy' as const, epochs: 1 };
    const cases: [object, RegExp][] = [
      [{ yieldEvery: -1 }, /fit: options\.yieldEvery \(milliseconds between yields\): expected a number ≥ 0, got -1/],
      [{ yieldEvery: NaN }, /fit: options\.yieldEvery \(milliseconds between yields\): expected a finite number, got NaN/],
      [{ yieldEvery: '20' }, /fit: options\.yieldEvery \(milliseconds between yields\): expected a finite number, got "20"/],
      [{ onBatch: 3 }, /fit: options\.onBatch: expected a function, got 3/],
      [{ onBatch: {} }, /fit: options\.onBatch: expected a function/],
      [{ onBatchEnd: () => {} }, /fit: unknown option 'onBatchEnd' \(expected one of .*onBatch/],
    ];
    for (const [o, re] of cases) {
      await expect(fit(model, blobs(12, 4, 6), { ...base, ...o } as never)).rejects.toThrow(re);
      expect(bitsOf(model.stateDict())).toEqual(before);
      expect(opt.stateDict()).toEqual(optBefore);
      expect(be().memory()).toEqual(mem);
    }
    opt.dispose(); model.dispose();
  });
});

it('the two backends take the same steps and report the same batch losses (bits)', async () => {
  const runs: { losses: number[]; w: Float32Array[] }[] = [];
  for (const be of [bes.wasm, bes.js]) {
    const model = mlp(be, 4, 31);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    const ac = new AbortController();
    const res = await fit(model, big, {
      optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 32, seed: 8, signal: ac.signal,
      onBatch: (l) => { losses.push(l.loss); if (losses.length === 25) ac.abort(); },
    });
    expect(res.steps).toBe(25);
    runs.push({ losses, w: Object.values(model.stateDict()) });
    opt.dispose(); model.dispose();
  }
  expect(runs[0]!.losses).toEqual(runs[1]!.losses);
  runs[0]!.w.forEach((w, i) => expect(firstBitDiff(w, runs[1]!.w[i]!)).toBe(-1));
});

describe("the yield's task kind where there is no setImmediate (browsers, workers): a MessageChannel message", () => {
  it('runs the queued functions in order, each as a macrotask, and lets a timer in while a chain of them runs', async () => {
    const queue = taskQueue({ MessageChannel });
    const order: string[] = [];
    await new Promise<void>((done) => {
      queue(() => order.push('a'));
      queue(() => { order.push('b'); done(); });
      void Promise.resolve().then(() => order.push('microtask'));
      order.push('sync');
    });
    expect(order).toEqual(['sync', 'microtask', 'a', 'b']);
    // a loop that yields through the queue over and over does not starve a timer (a Stop, a frame)
    let fired = false, hops = 0;
    setTimeout(() => { fired = true; }, 1);
    await new Promise<void>((done) => {
      const hop = () => { if (fired || ++hops === 1_000_000) done(); else queue(hop); };
      queue(hop);
    });
    expect(fired).toBe(true);
    expect(hops).toBeLessThan(1_000_000);
  });

  it('falls back to setTimeout where neither exists', async () => {
    const queue = taskQueue({});
    const order: string[] = [];
    await new Promise<void>((done) => { queue(() => { order.push('task'); done(); }); order.push('sync'); });
    expect(order).toEqual(['sync', 'task']);
  });
});

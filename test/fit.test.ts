import { beforeAll, describe, expect, it } from 'vitest';
import { fit, nn, optim, StepLR, type Backend, type EpochLog, type FitData } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

let bes: { wasm: Backend; js: Backend };
beforeAll(async () => { bes = await loadBoth(); });

/** Three Gaussian-ish blobs in d dimensions (deterministic). */
function blobs(n: number, d: number, seed: number, noise = 0.6): FitData & { y: Int32Array; x: Float32Array } {
  const x = randomF32(n * d, seed, noise);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    x[i * d + (i % 3)]! += 1.5;
  }
  return { x, y, n, d };
}

function mlp(be: Backend, d: number, hidden: number, classes: number, seed: number) {
  return new nn.Sequential(new nn.Linear(be, d, hidden, { seed }), new nn.ReLU(), new nn.Linear(be, hidden, classes, { seed: seed + 1 }));
}

function bits(sd: Record<string, Float32Array>): Record<string, Float32Array> {
  const o: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(sd)) o[k] = Float32Array.from(v);
  return o;
}

function sameBits(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  return ka.join() === kb.join() && ka.every((k) => firstBitDiff(a[k]!, b[k]!) === -1);
}

describe.each(['wasm', 'js'] as const)('fit on %s', (kind) => {
  const be = () => bes[kind];

  it('trains, reports the figures a progress display needs, and they check out', async () => {
    const train = blobs(90, 5, 1), val = blobs(30, 5, 2);
    const model = mlp(be(), 5, 8, 3, 10);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.05 });
    const logs: EpochLog[] = [];
    const checks: number[] = [];
    const res = await fit(model, train, {
      optimizer: opt, loss: 'crossEntropy', epochs: 6, batchSize: 16, seed: 3, validationData: val,
      onEpoch: (log) => {
        logs.push({ ...log });
        // recompute the validation loss independently, in eval mode, on the whole set at once
        model.eval();
        const x = be().tensor([30, 5], val.x);
        const out = model.forward(x);
        checks.push(be().kernels.crossEntropy(out, val.y));
        be().endStep();
        x.dispose();
        model.train();
      },
    });
    expect(res.history).toEqual(logs);
    expect(res.stopReason).toBe('epochs');
    expect(logs.map((l) => l.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    logs.forEach((l, e) => {
      expect(Number.isFinite(l.loss)).toBe(true);
      expect(l.accuracy).toBeGreaterThanOrEqual(0); expect(l.accuracy).toBeLessThanOrEqual(1);
      expect(l.valAccuracy).toBeGreaterThanOrEqual(0); expect(l.valAccuracy).toBeLessThanOrEqual(1);
      expect(Math.abs(l.valLoss! - checks[e]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, checks[e]!));
      expect(l.lr).toBe(0.05);
      expect(l.stepsPerSecond).toBeGreaterThan(0);
      if (e > 0) expect(l.elapsedMs).toBeGreaterThanOrEqual(logs[e - 1]!.elapsedMs);
      const best = logs.slice(0, e + 1).reduce((b, x, i) => (x.valLoss! < logs[b]!.valLoss! ? i : b), 0);
      expect(l.bestEpoch).toBe(best);
    });
    // it learns: separable blobs
    expect(logs[5]!.loss).toBeLessThan(logs[0]!.loss);
    expect(logs[5]!.valAccuracy).toBeGreaterThan(0.8);
    expect(res.bestEpoch).toBe(logs[5]!.bestEpoch);
    opt.dispose();
  });

  it('the same seed gives the same run; another seed another; wasm and js agree bit for bit', async () => {
    const run = async (b: Backend, seed: number) => {
      const model = mlp(b, 4, 6, 3, 7);
      const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const r = await fit(model, blobs(50, 4, 5), { optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 8, seed, validationSplit: 0.2 });
      const sd = bits(model.stateDict());
      opt.dispose();
      return { losses: Float64Array.from(r.history.flatMap((l) => [l.loss, l.valLoss!])), sd };
    };
    const a = await run(be(), 42), b = await run(be(), 42), c = await run(be(), 43);
    expect(Array.from(a.losses)).toEqual(Array.from(b.losses));
    expect(sameBits(a.sd, b.sd)).toBe(true);
    expect(Array.from(a.losses)).not.toEqual(Array.from(c.losses));
    const other = await run(kind === 'wasm' ? bes.js : bes.wasm, 42);
    expect(Array.from(other.losses)).toEqual(Array.from(a.losses));
    expect(sameBits(other.sd, a.sd)).toBe(true);
  });

  it('x as a Tensor trains exactly as the same x as a Float32Array', async () => {
    const data = blobs(40, 4, 6);
    const run = async (x: Float32Array | import('../src/index.js').Tensor) => {
      const model = mlp(be(), 4, 6, 3, 8);
      const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
      const r = await fit(model, { ...data, x }, { optimizer: opt, loss: 'crossEntropy', epochs: 2, batchSize: 9, validationSplit: 0.25, seed: 2 });
      opt.dispose();
      return { losses: r.history.flatMap((l) => [l.loss, l.valLoss]), sd: bits(model.stateDict()) };
    };
    const xt = be().tensor([40, 4], data.x);
    const a = await run(data.x), b = await run(xt);
    expect(b.losses).toEqual(a.losses);
    expect(sameBits(a.sd, b.sd)).toBe(true);
    xt.dispose();
  });

  it('early stopping: stops `patience` epochs after the last improvement > minDelta; restoreBest gives back that epoch\'s weights exactly', async () => {
    // A validation set with shuffled labels: the model overfits, and the validation loss turns up.
    const train = blobs(40, 6, 11, 1.5);
    const val = blobs(40, 6, 12, 1.5);
    for (let i = 0; i < val.n; i++) val.y[i] = (val.y[i]! + 1 + (i % 2)) % 3;
    for (const [patience, minDelta] of [[2, 0], [3, 0.01], [1, 0.05]] as const) {
      const model = mlp(be(), 6, 24, 3, 20);
      const opt = new optim.Adam(model.parameters(), { lr: 0.03 });
      const snaps: Record<string, Float32Array>[] = [];
      const logs: EpochLog[] = [];
      const res = await fit(model, train, {
        optimizer: opt, loss: 'crossEntropy', epochs: 60, batchSize: 10, seed: 1, validationData: val,
        earlyStopping: { patience, minDelta, restoreBest: true },
        onEpoch: (l) => { snaps.push(bits(model.stateDict())); logs.push(l); },
      });
      expect(res.stopReason, `patience ${patience}`).toBe('earlyStopping');
      // the best epoch by the rule: improvement means valLoss < best − minDelta
      let best = Infinity, bestEpoch = -1;
      logs.forEach((l, e) => { if (e === 0 || l.valLoss! < best - minDelta) { best = l.valLoss!; bestEpoch = e; } });
      expect(res.bestEpoch).toBe(bestEpoch);
      expect(logs.length).toBe(bestEpoch + patience + 1);
      expect(res.restoredBest).toBe(true);
      expect(sameBits(bits(model.stateDict()), snaps[bestEpoch]!), 'restored weights = snapshot at the best epoch').toBe(true);
      if (bestEpoch !== logs.length - 1) expect(sameBits(snaps[logs.length - 1]!, snaps[bestEpoch]!)).toBe(false);
      opt.dispose();
    }
  });

  it('minDelta larger than any change: best stays epoch 0 and training stops after patience epochs', async () => {
    const model = mlp(be(), 4, 5, 3, 30);
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const res = await fit(model, blobs(30, 4, 9), { optimizer: opt, loss: 'crossEntropy', epochs: 20, batchSize: 7, earlyStopping: { patience: 3, minDelta: 100, monitor: 'loss' } });
    expect(res.bestEpoch).toBe(0);
    expect(res.history.length).toBe(4);
    expect(res.stopReason).toBe('earlyStopping');
    expect(res.restoredBest).toBe(false);
    opt.dispose();
  });

  it('leaks nothing: memory is flat across epochs, and only the optimizer state remains after fit', async () => {
    const model = mlp(be(), 5, 16, 3, 40);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.01, amsgrad: true });
    be().endStep();
    const start = be().memory();
    const mem: { liveTensors: number; liveBytes: number; heapBytes: number }[] = [];
    await fit(model, blobs(70, 5, 3), {
      optimizer: opt, loss: 'crossEntropy', epochs: 8, batchSize: 16, validationSplit: 0.25,
      earlyStopping: { patience: 100, restoreBest: true },
      onEpoch: () => { mem.push(be().memory()); },
    });
    for (let e = 1; e < mem.length; e++) {
      expect(mem[e]!.liveTensors, `epoch ${e}`).toBe(mem[0]!.liveTensors);
      expect(mem[e]!.liveBytes, `epoch ${e}`).toBe(mem[0]!.liveBytes);
      expect(mem[e]!.heapBytes, `epoch ${e}`).toBe(mem[0]!.heapBytes);
    }
    const params = model.parameters().length;
    expect(be().memory().liveTensors).toBe(start.liveTensors + 3 * params);
    opt.dispose();
    expect(be().memory().liveTensors).toBe(start.liveTensors);
  });

  it('steps the scheduler per epoch and reports the rate used; stops on an AbortSignal', async () => {
    const model = mlp(be(), 4, 4, 3, 50);
    const opt = new optim.SGD(model.parameters(), { lr: 0.2 });
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    const ac = new AbortController();
    const res = await fit(model, blobs(20, 4, 4), {
      optimizer: opt, loss: 'crossEntropy', epochs: 10, batchSize: 5, scheduler: sched, signal: ac.signal,
      onEpoch: (l) => { if (l.epoch === 4) ac.abort(); },
    });
    expect(res.history.map((l) => l.lr)).toEqual([0.2, 0.2, 0.1, 0.1, 0.05]);
    expect(res.stopReason).toBe('aborted');
    // stepped after each of the 5 epochs, as torch's loop does: epoch index 5 → 0.2·0.5^⌊5/2⌋
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
    opt.dispose();
  });

  it('a NaN loss from the first batch stops training as diverged: no optimizer step, never the best epoch, nothing restored', async () => {
    const model = mlp(be(), 5, 8, 3, 70);
    model.parameters()[0]!.data[3] = NaN; // the forward pass turns every logit NaN
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const before = bits(model.stateDict());
    const logs: EpochLog[] = [];
    const res = await fit(model, blobs(40, 5, 1), {
      optimizer: opt, loss: 'crossEntropy', epochs: 5, batchSize: 8, validationData: blobs(12, 5, 2),
      earlyStopping: { patience: 3, restoreBest: true }, onEpoch: (l) => { logs.push(l); },
    });
    expect(res.stopReason).toBe('diverged');
    expect(res.bestEpoch).toBe(-1);
    expect(res.restoredBest).toBe(false);
    expect(res.history).toEqual(logs);
    expect(logs.length).toBe(1);
    expect(logs[0]!.loss).toBeNaN();
    expect(logs[0]!.bestEpoch).toBe(-1);
    expect(logs[0]!.valLoss).toBeNull(); // not evaluated after a diverged batch
    // the diverged batch took no step: every other weight is as it was
    expect(sameBits(bits(model.stateDict()), before)).toBe(true);
    opt.dispose();
  });

  it('divergence after good epochs: stops at the first non-finite batch, restoreBest puts back the best finite epoch', async () => {
    const model = mlp(be(), 5, 8, 3, 80);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.05 });
    const snaps: Record<string, Float32Array>[] = [];
    const res = await fit(model, blobs(60, 5, 3), {
      optimizer: opt, loss: 'crossEntropy', epochs: 10, batchSize: 10, validationData: blobs(20, 5, 4),
      earlyStopping: { patience: 100, restoreBest: true },
      onEpoch: (l) => {
        snaps.push(bits(model.stateDict()));
        if (l.epoch === 2) model.parameters()[2]!.data[0] = Infinity; // the next forward gives Inf − Inf = NaN
      },
    });
    expect(res.stopReason).toBe('diverged');
    expect(res.history.length).toBe(4);
    expect(res.history.slice(0, 3).every((l) => Number.isFinite(l.loss) && Number.isFinite(l.valLoss!))).toBe(true);
    expect(Number.isFinite(res.history[3]!.loss)).toBe(false);
    expect(res.bestEpoch).toBeGreaterThanOrEqual(0);
    expect(res.bestEpoch).toBeLessThan(3);
    expect(res.history[3]!.bestEpoch).toBe(res.bestEpoch);
    expect(res.restoredBest).toBe(true);
    expect(sameBits(bits(model.stateDict()), snaps[res.bestEpoch]!), 'restored = the best finite epoch').toBe(true);
    opt.dispose();
  });

  it('a non-finite validation loss stops training as diverged after that epoch, which is not the best', async () => {
    const n = 32, d = 3;
    const x = randomF32(n * d, 8), y = randomF32(n, 9);
    const model = new nn.Sequential(new nn.Linear(be(), d, 1, { seed: 3 }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
    // an infinite input in the validation set: its prediction and the validation mse are not finite
    const vx = randomF32(8 * d, 10);
    vx[4] = Infinity;
    const val = { x: vx, y: randomF32(8, 11), n: 8, d };
    const res = await fit(model, { x, y, n, d }, { optimizer: opt, loss: 'mse', epochs: 6, batchSize: 8, validationData: val });
    expect(res.stopReason).toBe('diverged');
    expect(res.history.length).toBe(1);
    expect(Number.isFinite(res.history[0]!.loss)).toBe(true);
    expect(Number.isFinite(res.history[0]!.valLoss)).toBe(false);
    expect(res.bestEpoch).toBe(-1);
    opt.dispose();
  });

  it('regression with mse: a linear model fits y = Xw', async () => {
    const n = 64, d = 3;
    const x = randomF32(n * d, 8);
    const w = [0.5, -1, 2];
    const y = new Float32Array(n).map((_, i) => w.reduce((s, wj, j) => s + wj * x[i * d + j]!, 0));
    const model = new nn.Sequential(new nn.Linear(be(), d, 1, { seed: 3 }));
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const res = await fit(model, { x, y, n, d }, { optimizer: opt, loss: 'mse', epochs: 60, batchSize: 16 });
    expect(res.history[59]!.loss).toBeLessThan(1e-3);
    expect(res.history[0]!.accuracy).toBeNull();
    const coef = model.stateDict()['0.weight']!;
    w.forEach((wj, j) => expect(Math.abs(coef[j]! - wj)).toBeLessThan(0.05));
    opt.dispose();
  });

  it('rejects bad data and options with clear errors', async () => {
    const model = mlp(be(), 4, 4, 3, 60);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const data = blobs(12, 4, 1);
    const base = { optimizer: opt, loss: 'crossEntropy' as const, epochs: 1 };
    be().endStep(); // the last test's loss stays readable until a boundary
    const live = be().memory().liveTensors;
    await expect(fit(model, { ...data, n: 13 }, base)).rejects.toThrow(/data\.x: expected 13×4 = 52 elements, got 48/);
    await expect(fit(model, { ...data, y: new Float32Array(12) }, base)).rejects.toThrow(/needs class labels as an Int32Array/);
    await expect(fit(model, { ...data, y: new Int32Array(11) }, base)).rejects.toThrow(/expected 12 labels, got 11/);
    await expect(fit(model, data, { ...base, epochs: -1 })).rejects.toThrow(/epochs/);
    await expect(fit(model, data, { ...base, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(fit(model, data, { ...base, loss: 'hinge' as never })).rejects.toThrow(/'crossEntropy' or 'mse'/);
    await expect(fit(model, data, { ...base, optimizer: {} as never })).rejects.toThrow(/expected an optimizer/);
    await expect(fit(model, data, { ...base, validationSplit: 1.5 })).rejects.toThrow(/validationSplit/);
    await expect(fit(model, data, { ...base, earlyStopping: { patience: 2 } })).rejects.toThrow(/no validation data/);
    await expect(fit(model, data, { ...base, earlyStopping: { minDelta: -1, monitor: 'loss' } })).rejects.toThrow(/minDelta/);
    await expect(fit({} as never, data, base)).rejects.toThrow(/expected a model/);
    const bad = { ...data, y: Int32Array.from(data.y) }; bad.y[3] = 7;
    const w0 = bits(model.stateDict());
    await expect(fit(model, bad, base)).rejects.toThrow(/data label 3 is 7, but the model outputs 3 classes/);
    bad.y[3] = -1;
    await expect(fit(model, bad, base)).rejects.toThrow(/data label 3 is -1, expected a class ≥ 0/);
    expect(sameBits(bits(model.stateDict()), w0), 'no step taken').toBe(true);
    expect(be().memory().liveTensors).toBe(live);
    opt.dispose();
  });
});

/**
 * Threads on a busy machine: the training step of a 64-256-10 MLP (Linear, ReLU, Linear;
 * softmax cross-entropy; AdamW; batch 128) on wasm with 1 thread and with the default
 * thread count (every core), once with a CPU hog on one core and once without; and the
 * 512x512x512 matmul on 1 and 2 threads without the hog.
 *
 * The hog is a child process running a busy loop (bounded: it ends by itself after 10
 * minutes) started by the group's check, before its timing, and killed by its teardown;
 * the cases of a group are timed in interleaved rounds (bench/harness.ts), so 1 thread and
 * the default see the same machine. Unit: steps (FLOPs for the matmul).
 *
 * Checks before timing: the two backends give the same bits (loss and weights after 3
 * steps; the matmul's output).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadBackend, nn, optim, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Case, Group, Suite } from './harness.js';

const BATCH = 128, IN = 64, HIDDEN = 256, OUT = 10;

function trainer(be: Backend): { step: () => number; weights: () => Float32Array[]; dispose: () => void } {
  const fc1 = new nn.Linear(be, IN, HIDDEN, { seed: 1 }), fc2 = new nn.Linear(be, HIDDEN, OUT, { seed: 2 });
  const model = new nn.Sequential(fc1, new nn.ReLU(), fc2);
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  const x = be.tensor([BATCH, IN], randomF32(BATCH * IN, 101));
  const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 7 + 3) % OUT);
  model.train();
  // the plain training step, as every bench writes it (train.bench.ts): here it runs under a one-core hog
  return {
    step() {
      opt.zeroGrad();
      const loss = be.crossEntropy(model.forward(x), labels);
      loss.backward();
      opt.step();
      return loss.item();
    },
    weights: () => model.parameters().map((p) => p.data.slice()),
    dispose() { be.endStep(); model.dispose(); opt.dispose(); x.dispose(); },
  };
}

/** A busy loop on one core in a child process, for at most 10 minutes. */
class Hog {
  private child: ChildProcess | null = null;
  start(): void {
    if (this.child !== null) return;
    this.child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600000; let x = 0; while (Date.now() < end) x++;'], { stdio: 'ignore' });
    process.once('exit', () => this.stop());
  }
  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

async function stepGroup(title: string, hog: Hog | null): Promise<Group> {
  const one = await loadBackend('wasm', { threads: 1 });
  const all = await loadBackend('wasm');
  const t1 = trainer(one), tn = trainer(all);
  const cases: Case[] = [
    {
      name: 'wasm 1 thread',
      fn: () => t1.step(),
      check: () => {
        hog?.start();
        const a = trainer(one), b = trainer(all);
        for (let s = 0; s < 3; s++) {
          const la = a.step(), lb = b.step();
          if (!Object.is(la, lb)) throw new Error(`step ${s}: loss ${la} on 1 thread, ${lb} on ${all.info().threads}`);
        }
        a.weights().forEach((w, i) => { if (firstBitDiff(w, b.weights()[i]!) !== -1) throw new Error(`weights ${i} differ`); });
        a.dispose(); b.dispose();
      },
    },
    { name: `wasm default (${all.info().threads} threads)`, fn: () => tn.step() },
  ];
  return {
    title, work: 1, unit: 'step', cases,
    teardown: () => { hog?.stop(); t1.dispose(); tn.dispose(); all.dispose(); },
  };
}

async function matmulGroup(): Promise<Group> {
  const n = 512;
  const one = await loadBackend('wasm', { threads: 1 }), two = await loadBackend('wasm', { threads: 2 });
  const a = randomF32(n * n, 1), b = randomF32(n * n, 2);
  const mk = (be: Backend) => ({ A: be.tensor([n, n], a), B: be.tensor([n, n], b), C: be.zeros([n, n]) });
  const x1 = mk(one), x2 = mk(two);
  return {
    title: 'matmul 512x512x512, no hog', work: 2 * n * n * n, unit: 'FLOP',
    cases: [
      { name: 'wasm 1 thread', fn: () => one.kernels.matmul(x1.C, x1.A, x1.B) },
      {
        name: 'wasm 2 threads', fn: () => two.kernels.matmul(x2.C, x2.A, x2.B),
        check: () => {
          one.kernels.matmul(x1.C, x1.A, x1.B); two.kernels.matmul(x2.C, x2.A, x2.B);
          if (firstBitDiff(x1.C.data, x2.C.data) !== -1) throw new Error('2 threads differ from 1');
        },
      },
    ],
    teardown: () => { two.dispose(); },
  };
}

const suite: Suite = {
  name: 'threads',
  groups: async () => [
    await stepGroup('MLP 64-256-10 step, batch 128, one-core CPU hog', new Hog()),
    await stepGroup('MLP 64-256-10 step, batch 128, no hog', null),
    await matmulGroup(),
  ],
};
export default suite;

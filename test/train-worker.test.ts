/**
 * serveTraining / trainInWorker (src/train/worker.ts) over a real MessageChannel: the two
 * ports are the worker's scope and the page's Worker, with structured cloning and message
 * ordering as between threads. First the how-to's training (examples/worker/train.ts), then
 * the protocol's rules with training functions that only count.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBackend, safetensors, serveTraining, trainInWorker, type MessageEndpoint, type TrainingContext, type TrainingServer } from '../src/index.js';
import { BATCHES, accuracy, buildModel, digits, trainDigits, type Progress, type Result, type Settings } from '../examples/worker/train.js';

const open: { ports: MessagePort[]; servers: TrainingServer[] } = { ports: [], servers: [] };
afterEach(() => {
  for (const s of open.servers.splice(0)) s.close();
  for (const p of open.ports.splice(0)) p.close();
});

/** A channel: `worker` is the page's end, `scope` the worker's. */
function channel(): { worker: MessageEndpoint; scope: MessageEndpoint } {
  const { port1, port2 } = new MessageChannel();
  open.ports.push(port1, port2);
  return { worker: port1, scope: port2 };
}

function serve<S, P, R>(scope: MessageEndpoint, train: (s: S, c: TrainingContext<P>) => R | Promise<R>, transfer?: (r: R) => Transferable[]): TrainingServer {
  const s = serveTraining(train, transfer === undefined ? { scope } : { scope, transfer });
  open.servers.push(s);
  return s;
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('the how-to: examples/worker/train.ts served over a MessageChannel', () => {
  it('reports in order (batches, and every epoch with its validation accuracy) before the result, and the weights it returns predict', async () => {
    const { worker, scope } = channel();
    serve(scope, trainDigits, (r: Result) => [r.weights.buffer]);
    const seen: Progress[] = [];
    const run = trainInWorker<Settings, Progress, Result>(worker, { epochs: 4 }, { onProgress: (p) => seen.push(p) });
    const { value, stopped } = await run.result;
    expect(run.run).toBe(1);
    expect(stopped).toBe(false);
    expect(value.stopReason).toBe('epochs');
    expect([value.epochs, value.steps]).toEqual([4, 4 * BATCHES]);
    const ends = seen.filter((p) => p.valAccuracy !== null);
    expect(ends.map((p) => [p.epoch, p.step])).toEqual([0, 1, 2, 3].map((e) => [e, (e + 1) * BATCHES]));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.step).toBeGreaterThanOrEqual(seen[i - 1]!.step); // in order
    for (const p of seen) expect(Number.isFinite(p.loss) && p.step >= 1 && p.step <= 4 * BATCHES).toBe(true);
    expect(ends[3]!.loss).toBeLessThan(ends[0]!.loss);
    // The result is a model: its weights, loaded on the other backend, predict the 360
    // validation digits exactly as the worker (wasm) measured them, and far above chance (0.1).
    const be = await loadBackend('js');
    const model = buildModel(be).loadStateDict(safetensors.load(value.weights).tensors);
    const { xVal, yVal } = digits();
    const here = accuracy(model, xVal, yVal);
    expect(here).toBe(value.valAccuracy);
    expect(here).toBe(ends[3]!.valAccuracy); // the last epoch's weights, evaluated by fit
    expect(here).toBeGreaterThan(0.85);
    model.dispose();
    be.dispose();
  });

  it('a stop ends the run within one batch of reaching the worker, with the weights trained so far', async () => {
    const { worker, scope } = channel();
    let step = 0, stepAtAbort = -1;
    serve(scope, (s: Settings, ctx: TrainingContext<Progress>) => {
      ctx.signal.addEventListener('abort', () => { stepAtAbort = step; });
      return trainDigits(s, { ...ctx, signal: ctx.signal, progress: (p) => { step = p.step; ctx.progress(p); } });
    });
    const run = trainInWorker<Settings, Progress, Result>(worker, { epochs: 100_000, reportEvery: 0 }, {
      onProgress: (p) => { if (p.epoch === 2 && p.valAccuracy !== null) run.stop(); },
    });
    const { value, stopped } = await run.result;
    expect(stopped).toBe(true);
    expect(value.stopReason).toBe('aborted');
    expect(stepAtAbort).toBeGreaterThanOrEqual(3 * BATCHES);
    expect(value.steps - stepAtAbort).toBeGreaterThanOrEqual(0);
    expect(value.steps - stepAtAbort).toBeLessThanOrEqual(1);
    expect(value.epochs).toBe(Math.floor(value.steps / BATCHES)); // an epoch cut short is not counted
    expect(value.valAccuracy).toBeGreaterThan(0.5);
  });
});

describe('the protocol', () => {
  /** A training function that reports 0, 1, 2, … every tick until stopped or `until`, and returns its count. */
  const counter = (log: string[] = []) => async (s: { until: number; tag?: string }, { signal, progress, run }: TrainingContext<number>) => {
    log.push(`start ${run}`);
    let i = 0;
    for (; i < s.until && !signal.aborted; i++) {
      progress(i);
      await tick();
    }
    log.push(`end ${run}`);
    return { count: i, tag: s.tag };
  };

  const count = (worker: MessageEndpoint, until: number, onProgress?: (p: number) => void) =>
    trainInWorker<{ until: number }, number, { count: number }>(worker, { until }, onProgress === undefined ? {} : { onProgress });

  /** A worker (its `scope`) serving counter(log) (`server`), and its run `a` (until stopped), which has reported 3 times. */
  async function busy(log: string[]) {
    const { worker, scope } = channel();
    const server = serve(scope, counter(log));
    const first: number[] = [];
    const a = count(worker, 1e9, (p) => first.push(p));
    while (first.length < 3) await tick();
    return { worker, scope, server, a, first };
  }

  it('reports arrive in order, every one before the result, even 2000 sent at once', async () => {
    const { worker, scope } = channel();
    serve(scope, (_s: null, { progress }: TrainingContext<number>) => {
      for (let i = 0; i < 2000; i++) progress(i);
      return 'done';
    });
    const seen: number[] = [];
    const { value, stopped } = await trainInWorker<null, number, string>(worker, null, { onProgress: (p) => seen.push(p) }).result;
    expect(value).toBe('done');
    expect(stopped).toBe(false);
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('a new start stops the run before it, whose result still comes, marked stopped', async () => {
    const log: string[] = [];
    const { worker, a, first } = await busy(log);
    const b = count(worker, 5);
    const ra = await a.result, rb = await b.result;
    expect([a.run, b.run]).toEqual([1, 2]);
    expect(ra.stopped).toBe(true);
    expect(ra.value.count).toBe(first.length);
    expect(rb).toEqual({ value: { count: 5 }, stopped: false });
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']); // never two at once
  });

  it('a stop for an older run does not stop the current one', async () => {
    const { worker, scope } = channel();
    serve(scope, counter());
    const a = count(worker, 1e9);
    const b = count(worker, 20);
    a.stop(); // a has already been replaced by b
    expect((await a.result).stopped).toBe(true);
    expect(await b.result).toEqual({ value: { count: 20 }, stopped: false });
  });

  it('a stop sent right after its start is never lost, even while the start waits for the run before it to end', async () => {
    const log: string[] = [];
    const { worker, a } = await busy(log);
    const b = count(worker, 50);
    b.stop(); // reaches the worker while b's start waits for a to end: handled after that start, never before it
    expect((await a.result).stopped).toBe(true);
    const rb = await b.result;
    expect(rb.stopped).toBe(true);
    expect(rb.value.count).toBe(1); // the stop is handled right after b's start, before b's first tick
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it("the training function's error reaches the page with its name and message; the next run works", async () => {
    const { worker, scope } = channel();
    serve(scope, async (s: { fail: boolean }) => {
      await tick();
      if (s.fail) throw new RangeError('fit: options.epochs: expected an integer ≥ 0, got -1');
      return 7;
    });
    const err = await trainInWorker<{ fail: boolean }, never, number>(worker, { fail: true }).result.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('RangeError');
    expect((err as Error).message).toBe('fit: options.epochs: expected an integer ≥ 0, got -1');
    expect(await trainInWorker<{ fail: boolean }, never, number>(worker, { fail: false }).result).toEqual({ value: 7, stopped: false });
  });

  it('a result that cannot be cloned becomes an error saying so', async () => {
    const { worker, scope } = channel();
    serve(scope, () => ({ f: () => 1 }));
    await expect(trainInWorker(worker, null).result).rejects.toThrow(/the result could not be sent/);
  });

  it('transfer moves the result\'s buffers: the worker\'s copy is detached', async () => {
    const { worker, scope } = channel();
    const kept: Uint8Array[] = [];
    serve(scope, () => { const b = new Uint8Array([1, 2, 3]); kept.push(b); return b; }, (b) => [b.buffer]);
    const { value } = await trainInWorker<null, never, Uint8Array>(worker, null).result;
    expect(Array.from(value)).toEqual([1, 2, 3]);
    expect(kept[0]!.byteLength).toBe(0);
  });

  it('stopThen stops the run, runs its task, and holds later starts until the task is done', async () => {
    const log: string[] = [];
    const { worker, server, a } = await busy(log);
    let release = (): void => {};
    const task = server.stopThen(async () => {
      log.push('task');
      await new Promise<void>((r) => { release = r; });
      log.push('task done');
      return 42;
    });
    while (!log.includes('task')) await tick();
    const b = count(worker, 2);
    for (let i = 0; i < 5; i++) await tick();
    expect(log).toEqual(['start 1', 'end 1', 'task']); // b waits
    release();
    expect(await task).toBe(42);
    expect((await a.result).stopped).toBe(true);
    expect(await b.result).toEqual({ value: { count: 2 }, stopped: false });
    expect(log).toEqual(['start 1', 'end 1', 'task', 'task done', 'start 2', 'end 2']);
  });

  it('inOrder runs a task at once during a run, which goes on; after a stop that came before it, once that run has ended and sent its result', async () => {
    const log: string[] = [];
    const { worker, scope, server, a } = await busy(log);
    expect(await server.inOrder(() => { log.push('task 1'); return 7; })).toBe(7);
    expect(log).toEqual(['start 1', 'task 1']); // the run goes on
    // the demo's case: Stop and a save clicked in one task of the page, the save an app message
    // the worker handles on its own listener (examples/demo/worker.ts)
    scope.addEventListener('message', (e) => {
      if ((e.data as { type: string }).type === 'save') void server.inOrder(() => { log.push('save'); scope.postMessage({ type: 'saved' }, []); });
    });
    const seen: string[] = [];
    worker.addEventListener('message', (e) => seen.push((e.data as { type: string }).type));
    a.stop();
    worker.postMessage({ type: 'save' }, []);
    expect((await a.result).stopped).toBe(true);
    while (!seen.includes('saved')) await tick();
    expect(log).toEqual(['start 1', 'task 1', 'end 1', 'save']);
    expect(seen.filter((t) => t !== 'regula:progress')).toEqual(['regula:result', 'saved']);
  });

  it('messages of the app on the same channel pass by; the page gets them too', async () => {
    const { worker, scope } = channel();
    serve(scope, (_s: null, { progress }: TrainingContext<string>) => { progress('p'); return 'r'; });
    const own: unknown[] = [];
    scope.addEventListener('message', (e) => { if ((e.data as { type: string }).type === 'mine') scope.postMessage({ type: 'mine-reply' }, []); });
    worker.addEventListener('message', (e) => own.push(e.data));
    worker.postMessage({ type: 'mine' }, []);
    const seen: string[] = [];
    expect(await trainInWorker<null, string, string>(worker, null, { onProgress: (p) => seen.push(p) }).result).toEqual({ value: 'r', stopped: false });
    expect(seen).toEqual(['p']);
    expect(own).toContainEqual({ type: 'mine-reply' });
  });

  it('bad arguments throw before anything is sent or counted', async () => {
    const { worker, scope } = channel();
    expect(() => serveTraining(() => 1)).toThrow(/serveTraining: this is not a worker: .*options\.scope/);
    expect(() => serveTraining(null as never, { scope })).toThrow(/serveTraining: train: expected a function, got null/);
    expect(() => serveTraining(() => 1, { scope: {} as never })).toThrow(/serveTraining: expected options\.scope \(an object with postMessage and addEventListener\), got an object \(Object\)/);
    expect(() => serveTraining(() => 1, { scope, tranfser: () => [] } as never)).toThrow(/tranfser/);
    expect(() => trainInWorker(null as never, {})).toThrow(/trainInWorker: expected a Worker or a MessagePort .*got null/);
    expect(() => trainInWorker(worker, {}, { onProgress: 3 } as never)).toThrow(/trainInWorker: options\.onProgress: expected a function, got 3/);
    expect(() => trainInWorker(worker, {}, { onProgres: () => {} } as never)).toThrow(/onProgres/);
    expect(() => trainInWorker(worker, { f: () => 1 })).toThrow(/could not be cloned/); // DataCloneError from postMessage
    serve(scope, (s: number) => s * 2);
    const r = trainInWorker<number, never, number>(worker, 21);
    expect(r.run).toBe(1); // the failed calls counted no run
    expect(await r.result).toEqual({ value: 42, stopped: false });
  });
});

describe('the how-to page, examples/worker/README.md', () => {
  it("quotes the example's code as it is (import 'regula' for '../../src/index.js'), so it cannot drift", () => {
    const dir = new URL('../examples/worker/', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const blocks = [...readFileSync(new URL('README.md', dir), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const b of blocks) {
      const code = b.replaceAll("from 'regula'", "from '../../src/index.js'");
      expect(sources.some((s) => s.includes(code)), `not in examples/worker/*.ts:\n${b}`).toBe(true);
    }
  });
});

/**
 * Training in a Web Worker, so the page never waits on a training step: one typed message
 * protocol for start, progress, stop and the result, used on both sides.
 *
 * In the worker, `serveTraining` runs your training function once per start, with an
 * AbortSignal for `fit`'s `signal` and a `progress` function for `fit`'s callbacks:
 *
 *     serveTraining(async (settings, { signal, progress }) => {
 *       const res = await fit(model, data, { ...options, signal, onEpoch: (log) => progress(log) });
 *       return safetensors.save(model);
 *     });
 *
 * On the page, `trainInWorker` starts a run and hands back its stop and its result:
 *
 *     const run = trainInWorker(worker, settings, { onProgress: (log) => show(log) });
 *     stopButton.onclick = () => run.stop();
 *     const { value, stopped } = await run.result;
 *
 * Everything here is message plumbing (no backend, no tensors). The messages are plain
 * objects whose `type` starts with "regula:", so a worker can carry messages of its own
 * beside them (listen with addEventListener, or onmessage, and ignore these).
 */
import { describe } from '../rules/errors.js';
import { checkFunction, checkKeys } from '../rules/validate.js';

/**
 * One end of a message channel: a Worker (the page's end), a worker's global scope `self`
 * (the worker's end), or a MessagePort (either end; started here).
 */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  /** A MessagePort delivers messages to listeners only once started. */
  start?(): void;
}

/** The messages from the page to the worker. `run` numbers the runs started on one worker: 1, 2, … */
export type TrainingRequest<S> =
  | { type: 'regula:train'; run: number; settings: S }
  | { type: 'regula:stop'; run: number };

/**
 * The messages from the worker to the page. A run's progress reports come in the order they
 * were sent, then exactly one 'regula:result' or 'regula:error', its last message.
 * `stopped`: the run was stopped (by the page, or by a newer start) before it returned.
 */
export type TrainingReport<P, R> =
  | { type: 'regula:progress'; run: number; progress: P }
  | { type: 'regula:result'; run: number; value: R; stopped: boolean }
  | { type: 'regula:error'; run: number; name: string; message: string };

/** What the training function gets besides its settings. */
export interface TrainingContext<P> {
  /** This run's number. */
  readonly run: number;
  /** Aborted when the page stops this run or starts another: give it to `fit` as `signal`. */
  readonly signal: AbortSignal;
  /** Sends a progress report to the page (structured-cloned; `transfer` moves buffers instead). */
  progress(report: P, transfer?: Transferable[]): void;
}

/** The worker's side, as `serveTraining` returns it. */
export interface TrainingServer {
  /**
   * Stops the current run (if any), waits for it to end, then runs `task`; training requests
   * that arrive meanwhile wait for `task` to finish. For work that must not overlap a run,
   * such as loading new weights. Resolves with what `task` returns.
   */
  stopThen<T>(task: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `task` once the requests that came before it are handled, without stopping anything:
   * after a stop, once that run has ended (its last report sent); during a run, at once, the
   * run going on. For work that must see what the page saw, such as saving the weights when
   * a download is clicked in the same moment as Stop: a run asked to stop mid-epoch may still
   * finish and report that epoch, and the file must hold it.
   */
  inOrder<T>(task: () => T | Promise<T>): Promise<T>;
  /** Stops listening: requests that arrive from now on are ignored (a running run goes on). */
  close(): void;
}

export interface ServeTrainingOptions<R> {
  /**
   * Where the requests come from and the reports go. Default: this worker's global scope
   * (`self`); pass a MessagePort to serve on one (in Node: worker_threads' `parentPort`).
   */
  scope?: MessageEndpoint;
  /** The buffers of a result to move to the page rather than copy (e.g. `(bytes) => [bytes.buffer]`). */
  transfer?: (value: R) => Transferable[];
}

const SERVE_KEYS: Record<keyof ServeTrainingOptions<unknown>, true> = { scope: true, transfer: true };
const RUN_KEYS: Record<keyof TrainInWorkerOptions<unknown>, true> = { onProgress: true, transfer: true };

function checkEndpoint(e: unknown, who: string, what: string): MessageEndpoint {
  const m = e as MessageEndpoint | null;
  if (m === null || typeof m !== 'object' || typeof m.postMessage !== 'function' || typeof m.addEventListener !== 'function' || typeof m.removeEventListener !== 'function') {
    throw new TypeError(`${who}: expected ${what} (an object with postMessage and addEventListener), got ${describe(e)}`);
  }
  return m;
}

const isRequest = (d: unknown): d is TrainingRequest<unknown> =>
  d !== null && typeof d === 'object' && ((d as { type?: unknown }).type === 'regula:train' || (d as { type?: unknown }).type === 'regula:stop');

/** The global scope when this code runs in a worker (dedicated or shared), else null. */
function workerGlobalScope(): MessageEndpoint | null {
  const g = globalThis as { WorkerGlobalScope?: abstract new () => unknown };
  return typeof g.WorkerGlobalScope === 'function' && globalThis instanceof g.WorkerGlobalScope ? globalThis as unknown as MessageEndpoint : null;
}

/**
 * Serves training requests in this worker (or on `options.scope`). Each 'regula:train' stops the
 * run before it, waits for its end, then calls `train(settings, context)`; what it returns
 * (or resolves to) goes back as the run's result, what it throws as the run's error. A
 * 'regula:stop' aborts the run it names (a stale one is ignored). Requests are handled one
 * after another in the order they came, so a stop never overtakes the start before it.
 */
export function serveTraining<S, P, R>(
  train: (settings: S, context: TrainingContext<P>) => R | Promise<R>,
  options: ServeTrainingOptions<R> = {},
): TrainingServer {
  checkFunction(train, 'serveTraining: train');
  if (options === null || typeof options !== 'object') throw new TypeError(`serveTraining: expected options, got ${describe(options)}`);
  checkKeys(options, SERVE_KEYS, 'serveTraining');
  if (options.transfer !== undefined) checkFunction(options.transfer, 'serveTraining: options.transfer');
  let ep: MessageEndpoint;
  if (options.scope !== undefined) ep = checkEndpoint(options.scope, 'serveTraining', 'options.scope');
  else {
    const g = workerGlobalScope();
    if (g === null) throw new TypeError('serveTraining: this is not a worker: call it in a Web Worker\'s script, or pass options.scope (a MessagePort; in Node, worker_threads\' parentPort)');
    ep = g;
  }
  const post = (m: TrainingReport<P, R>, transfer: Transferable[] = []): void => ep.postMessage(m, transfer);

  let current: { run: number; abort: AbortController; done: Promise<void> } | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => T | Promise<T>): Promise<T> => {
    const next = queue.then(task);
    queue = next.catch(() => undefined);
    return next;
  };

  /** Aborts the current run and resolves when it has posted its last message. */
  async function stopCurrent(): Promise<void> {
    const c = current;
    if (c === null) return;
    c.abort.abort();
    await c.done;
    if (current === c) current = null;
  }

  async function runOne(run: number, settings: S, abort: AbortController): Promise<void> {
    const { signal } = abort;
    const context: TrainingContext<P> = {
      run, signal,
      progress: (progress, transfer) => post({ type: 'regula:progress', run, progress }, transfer),
    };
    let value: R;
    try {
      value = await train(settings, context);
    } catch (e) {
      post({ type: 'regula:error', run, name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    try {
      post({ type: 'regula:result', run, value, stopped: signal.aborted }, options.transfer?.(value) ?? []);
    } catch (e) { // a result that cannot be cloned (a function, a tensor's backend…)
      post({ type: 'regula:error', run, name: e instanceof Error ? e.name : 'Error', message: `the result could not be sent: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  const listener = (e: MessageEvent): void => {
    const m: unknown = e.data;
    if (!isRequest(m)) return;
    if (m.type === 'regula:train') {
      const { run, settings } = m as { run: number; settings: S };
      void enqueue(async () => {
        await stopCurrent();
        const abort = new AbortController();
        current = { run, abort, done: runOne(run, settings, abort) };
      });
    } else {
      const { run } = m;
      void enqueue(() => (current?.run === run ? stopCurrent() : undefined));
    }
  };
  ep.addEventListener('message', listener);
  ep.start?.();
  return {
    stopThen: (task) => enqueue(async () => { await stopCurrent(); return task(); }),
    inOrder: (task) => enqueue(task),
    close: () => ep.removeEventListener('message', listener),
  };
}

/** A run started by `trainInWorker`. */
export interface TrainingRun<R> {
  /** This run's number on its worker. */
  readonly run: number;
  /**
   * The training function's result once it returned, with whether the run was stopped
   * first; rejects with its error (same name and message) if it threw.
   */
  readonly result: Promise<{ value: R; stopped: boolean }>;
  /** Asks the worker to stop this run (`fit` ends at its next batch boundary); the result follows. */
  stop(): void;
}

export interface TrainInWorkerOptions<P> {
  /** Called with each progress report of this run, in order, before the result. */
  onProgress?: (progress: P) => void;
  /** Buffers of the settings to move to the worker rather than copy. */
  transfer?: Transferable[];
}

/** The last run number given out per worker, so that a worker's runs count up across calls. */
const runs = new WeakMap<object, number>();

/**
 * Starts a run on `worker` (a Worker whose script calls `serveTraining`, or a MessagePort to
 * one) with `settings` (structured-cloned). A worker trains one run at a time: starting a
 * run stops the one before, whose result still arrives (with `stopped: true`).
 */
export function trainInWorker<S, P, R>(worker: MessageEndpoint, settings: S, options: TrainInWorkerOptions<P> = {}): TrainingRun<R> {
  const ep = checkEndpoint(worker, 'trainInWorker', 'a Worker or a MessagePort');
  if (options === null || typeof options !== 'object') throw new TypeError(`trainInWorker: expected options, got ${describe(options)}`);
  checkKeys(options, RUN_KEYS, 'trainInWorker');
  if (options.onProgress !== undefined) checkFunction(options.onProgress, 'trainInWorker: options.onProgress');
  const run = (runs.get(ep) ?? 0) + 1;
  // Posted first: settings that cannot be cloned throw here, before anything changed.
  ep.postMessage({ type: 'regula:train', run, settings } satisfies TrainingRequest<S>, options.transfer ?? []);
  runs.set(ep, run);
  let listener: (e: MessageEvent) => void = () => {};
  const result = new Promise<{ value: R; stopped: boolean }>((resolve, reject) => {
    listener = (e) => {
      const m = e.data as TrainingReport<P, R> | null;
      if (m === null || typeof m !== 'object' || m.run !== run) return;
      if (m.type === 'regula:progress') options.onProgress?.(m.progress);
      else if (m.type === 'regula:result' || m.type === 'regula:error') {
        ep.removeEventListener('message', listener);
        if (m.type === 'regula:result') resolve({ value: m.value, stopped: m.stopped });
        else reject(Object.assign(new Error(m.message), { name: m.name }));
      }
    };
  });
  // No reply can arrive before this task ends, so listening after posting misses nothing.
  ep.addEventListener('message', listener);
  ep.start?.();
  return { run, result, stop: () => ep.postMessage({ type: 'regula:stop', run } satisfies TrainingRequest<S>, []) };
}

/**
 * The text worker (panel 5): nanoGPT's CPU recipe (examples/experiments/shakespeare-recipe.ts)
 * on Tiny Shakespeare or the user's own text, trained by the library's fitText (clipping,
 * WarmupCosineLR, evaluation, AbortSignal) and saved and resumed with saveCheckpoint /
 * resumeCheckpoint. Nothing of the training loop is written here: this file turns fitText's
 * callbacks into messages for the page (text-panel.ts).
 *
 * A stopped run stays in memory (model, optimizer, schedule, step and batch sampler), so
 * 'resume' continues it as if it had not stopped; 'save' hands out the same state as a
 * checkpoint file and 'load' makes a file the run to resume. Messages are read at fitText's
 * yields, between steps, so a checkpoint is never of a half-updated model.
 */
import { Mulberry32, estimateLoss, fitText, loadGPT, resumeCheckpoint, saveCheckpoint, textCorpus, type Backend, type TextCorpus, type WarmupCosineLR, type nn, type optim } from '../../src/index.js';
import { RECIPE, RECIPE_FIT, SEEDS, recipeModel, recipeTraining } from '../experiments/shakespeare-recipe.js';
import type { FromTextWorker, TextRunOptions, TextSource, ToTextWorker } from './text-protocol.js';
import { backendCache, workerScope } from './worker-scope.js';

const { scope, post } = workerScope<ToTextWorker, FromTextWorker>();

/** How often (ms) the page hears about progress, and how long fitText works between yields. */
const REPORT_MS = 100;
const YIELD_MS = 20;
/** Sampling as experiment 9 and nanoGPT's sample.py: temperature 0.8. */
const TEMPERATURE = 0.8;

// One core fewer than the machine has, as the GPT panel's worker (gpt-worker.ts says why): a
// page whose every core trains cannot answer a keystroke within 100 ms on a loaded machine.
const backend = backendCache({ threads: Math.max(1, (navigator.hardwareConcurrency || 1) - 1) });

/** Tiny Shakespeare, a demo asset (examples/data; Vite copies it into the build, it is not in the npm package). */
const SHAKESPEARE_URL = new URL('../data/tinyshakespeare/input.txt', import.meta.url);
let shakespeare: Promise<string> | null = null;
function shakespeareText(): Promise<string> {
  shakespeare ??= fetch(SHAKESPEARE_URL).then(async (r) => {
    if (!r.ok) throw new Error(`could not fetch Tiny Shakespeare (${SHAKESPEARE_URL.pathname}): HTTP ${r.status}`);
    return r.text();
  });
  shakespeare.catch(() => { shakespeare = null; }); // a failed fetch is tried again next time
  return shakespeare;
}

async function sourceText(source: TextSource): Promise<{ text: string; label: string }> {
  return source.kind === 'shakespeare' ? { text: await shakespeareText(), label: 'Tiny Shakespeare' } : { text: source.text, label: 'your text' };
}

/** A run: what training it needs, kept between stop and resume. */
interface Session {
  be: Backend;
  corpus: TextCorpus;
  /** The validation stream the evaluations use (all of corpus.val, or its first evalChars). */
  val: Int32Array;
  gpt: nn.GPT;
  optimizer: optim.AdamW;
  scheduler: WarmupCosineLR;
  /** Iterations done. */
  step: number;
  sampler: Mulberry32;
  kind: TextSource['kind'];
  label: string;
}
let session: Session | null = null;
let prompt = '\n';
/** The options of the last run (the length of a sample asked for between runs). */
let lastOptions: TextRunOptions | null = null;

/** The run training now (fitText between its yields), if any. */
interface Active { id: number; abort: AbortController; done: Promise<void> }
let active: Active | null = null;

function valStream(corpus: TextCorpus, options: TextRunOptions): Int32Array {
  const min = RECIPE.blockSize + 1;
  return options.evalChars > 0 && options.evalChars < corpus.val.length ? corpus.val.subarray(0, Math.max(min, options.evalChars)) : corpus.val;
}

function replaceSession(next: Session): void {
  if (session !== null) { session.optimizer.dispose(); session.gpt.dispose(); }
  session = next;
}

/** Text the model writes after the prompt (its known characters; none known: "\n", or the text's first character). */
function write(s: Session, chars: number, seed: number): { prompt: string; sample: string; dropped: string } {
  const tok = s.corpus.tokenizer;
  const known = Array.from(prompt).filter((c) => tok.vocab.includes(c)).join('');
  const dropped = Array.from(new Set(Array.from(prompt).filter((c) => !tok.vocab.includes(c)))).join('');
  const start = known !== '' ? known : tok.vocab.includes('\n') ? '\n' : tok.decode(s.corpus.train.subarray(0, 1));
  const ids = tok.encode(start);
  const out = s.gpt.generate(ids, chars, { temperature: TEMPERATURE, seed });
  return { prompt: start, sample: tok.decode(out.subarray(ids.length)), dropped };
}

async function train(run: Active, s: Session, options: TextRunOptions): Promise<void> {
  lastOptions = options;
  post({ type: 'ready', run: run.id, step: s.step, vocabSize: s.corpus.tokenizer.size, trainChars: s.corpus.train.length, valChars: s.val.length, nParams: s.gpt.numParams(), threads: s.be.info().threads, kind: s.kind, source: s.label });
  let lossSum = 0, lossN = 0, lastReport = performance.now(), lr = NaN, tps = 0;
  const report = (now: number) => {
    post({ type: 'progress', run: run.id, step: s.step, trainLoss: lossSum / lossN, lr, tokensPerSecond: tps });
    lossSum = 0; lossN = 0; lastReport = now;
  };
  const r = await fitText(s.gpt, { train: s.corpus.train, val: s.val }, {
    ...RECIPE_FIT, optimizer: s.optimizer, scheduler: s.scheduler,
    steps: Math.max(0, options.iters - s.step), startStep: s.step, sampler: s.sampler,
    evalEvery: options.evalEvery, signal: run.abort.signal, yieldMs: YIELD_MS,
    onStep: (log) => {
      s.step = log.step;
      lossSum += log.loss; lossN++; lr = log.lr; tps = log.tokensPerSecond;
      const now = performance.now();
      if (now - lastReport >= REPORT_MS) report(now);
    },
    onEval: (log) => {
      post({ type: 'eval', run: run.id, step: log.step, valLoss: log.valLoss, ...write(s, options.sampleChars, log.step) });
    },
  });
  s.step = r.step;
  // the steps since the last report, so that the page's step and loss are the stopped model's
  if (lossN > 0) report(performance.now());
  post({ type: 'stopped', run: run.id, step: r.step, reason: r.stopReason === 'aborted' ? 'stopped' : r.stopReason === 'steps' ? 'finished' : 'diverged' });
}

/** Runs `body` as the active run `id` (after stopping the one before); its errors go to the page. */
async function activate(id: number, body: (run: Active) => Promise<void>): Promise<void> {
  await stop();
  const run: Active = { id, abort: new AbortController(), done: Promise.resolve() };
  run.done = body(run).catch((e: unknown) => {
    post({ type: 'error', run: id, message: e instanceof Error ? e.message : String(e) });
  }).finally(() => { if (active === run) active = null; });
  active = run;
}

/** A new run from iteration 0. The text is checked (textCorpus) before the stopped run is let go. */
async function start(m: Extract<ToTextWorker, { type: 'start' }>): Promise<void> {
  prompt = m.prompt;
  await activate(m.run, async (run) => {
    const be = await backend('wasm');
    const { text, label } = await sourceText(m.source);
    const corpus = textCorpus(text, { blockSize: RECIPE.blockSize });
    // stopped before it began (while the text was fetched): the run before it, if any, is the one kept
    if (run.abort.signal.aborted) { post({ type: 'stopped', run: run.id, step: session?.step ?? 0, reason: 'stopped' }); return; }
    const gpt = recipeModel(be, corpus.tokenizer.size);
    const { optimizer, scheduler } = recipeTraining(gpt);
    replaceSession({ be, corpus, val: valStream(corpus, m.options), gpt, optimizer, scheduler, step: 0, sampler: new Mulberry32(SEEDS.batches), kind: m.source.kind, label });
    await train(run, session!, m.options);
  });
}

async function resume(m: Extract<ToTextWorker, { type: 'resume' }>): Promise<void> {
  prompt = m.prompt;
  await activate(m.run, async (run) => {
    const s = session;
    if (s === null) throw new Error('there is no run to resume: start one, or load a checkpoint');
    s.val = valStream(s.corpus, m.options);
    await train(run, s, m.options);
  });
}

/** Stops the active run at fitText's next check (between steps) and waits for it to end. */
async function stop(): Promise<void> {
  const run = active;
  if (run === null) return;
  run.abort.abort();
  await run.done;
  if (active === run) active = null;
}

/**
 * A checkpoint file as the run to resume: the model from the file alone (loadGPT), the
 * recipe's optimizer and schedule with the file's state (resumeCheckpoint), the source text
 * encoded with the file's vocabulary. Everything is checked before the current run is let go.
 */
async function load(m: Extract<ToTextWorker, { type: 'load' }>): Promise<void> {
  await stop();
  prompt = m.prompt;
  const run = m.run;
  try {
    const be = await backend('wasm');
    const { text, label } = await sourceText(m.source);
    const { gpt, tokenizer } = loadGPT(be, m.bytes);
    let optimizer: optim.AdamW | null = null;
    try {
      if (tokenizer === null) throw new Error('the file has no vocabulary ("tokenizer.vocab" metadata): it is not a checkpoint of this page or of saveCheckpoint with a tokenizer');
      const corpus = textCorpus(text, { vocab: tokenizer, blockSize: gpt.config.blockSize });
      const t = recipeTraining(gpt);
      optimizer = t.optimizer;
      const { step, sampler } = resumeCheckpoint(m.bytes, { gpt, optimizer, scheduler: t.scheduler });
      replaceSession({ be, corpus, val: valStream(corpus, m.options), gpt, optimizer, scheduler: t.scheduler, step, sampler, kind: m.source.kind, label });
    } catch (e) {
      optimizer?.dispose();
      gpt.dispose();
      throw e;
    }
    const s = session!;
    lastOptions = m.options;
    const valLoss = estimateLoss(s.gpt, s.val);
    post({ type: 'loaded', run, step: s.step, valLoss, vocabSize: s.corpus.tokenizer.size, nParams: s.gpt.numParams(), kind: s.kind, source: label });
    post({ type: 'sample', step: s.step, ...write(s, m.options.sampleChars, s.step) });
  } catch (e) {
    post({ type: 'load-error', message: e instanceof Error ? e.message : String(e) });
  }
}

function save(): void {
  const s = session;
  if (s === null) { post({ type: 'load-error', message: 'nothing to save yet: start a run first' }); return; }
  const bytes = saveCheckpoint({ gpt: s.gpt, tokenizer: s.corpus.tokenizer, optimizer: s.optimizer, scheduler: s.scheduler, step: s.step, sampler: s.sampler });
  scope.postMessage({ type: 'checkpoint', bytes, step: s.step }, [bytes.buffer]);
}

/** Start, resume, stop and load are handled one after another, so a stop cannot overtake the start before it. */
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') queue = queue.then(() => start(m));
  else if (m.type === 'resume') queue = queue.then(() => resume(m));
  else if (m.type === 'stop') queue = queue.then(stop);
  else if (m.type === 'load') queue = queue.then(() => load(m));
  else if (m.type === 'save') save();
  else {
    prompt = m.prompt;
    // while a run trains, its next evaluation writes from the new prompt; otherwise write now
    queue = queue.then(() => {
      const s = session;
      if (s === null || active !== null) return;
      post({ type: 'sample', step: s.step, ...write(s, lastOptions?.sampleChars ?? 200, s.step) });
    });
  }
};

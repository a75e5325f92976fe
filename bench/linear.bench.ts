/**
 * linear.fit and linear.path against scikit-learn 1.2 in the same run, on identical float32
 * data and the same tolerance (sklearn's tol scales the duality gap by ‖y‖², as linear.fit
 * does): the 100-alpha lasso path on diabetes, lasso and elastic-net fits on a 4000×200
 * problem, the lasso on a wide 1000×10000 problem with a sparse truth (working sets and
 * screening on and off), and the lasso on diabetes alone. scikit-learn runs in a server
 * process (bench/linear_sklearn.py, /usr/bin/python3 with Debian's python3-sklearn, one
 * thread) whose requests take turns with regula's cases in the harness's interleaved
 * rounds; its own perf_counter medians are printed beside the harness's (which include
 * about 0.1 ms of pipe round trip).
 *
 * Checks before timing: wasm and js give the same bits; regula converged; the
 * optimality conditions hold in float64 (|X_jᵀr/n| ≤ αρ at zeros, equality elsewhere,
 * within 1e-3 of max|Xᵀy|/n); the answers are equal: regula's coefficients within 1e-3 of
 * sklearn's largest |coefficient| of sklearn's, with the same exact zeros (the path: at its
 * last alpha), and the objectives agree (relative 1e-5 at the fits). The speeds are then
 * compared at equal answers, not only at equal tol (issue 20). Each group's title gives the
 * duality gap (gap/n, sklearn's dual_gap_) each solver stopped at.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linear, loadBackend, loadDiabetes, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Case, Group, Suite } from './harness.js';

interface Problem { name: string; X: Float32Array; y: Float32Array; n: number; d: number }

/**
 * The tolerance of every case, regula's and sklearn's: linear.fit's default, 1e-6 (LINEAR_TOL
 * overrides). At sklearn's own default, 1e-4, its answer is not the solution everywhere: at the
 * diabetes path's last alpha its float32 solver stops 1.6e-3 (of the largest coefficient) from
 * the optimum, so the answers could not be equal; at 1e-6 both land on it.
 */
const TOL = Number(process.env['LINEAR_TOL'] ?? 1e-6);

function kktError(p: Problem, w: Float32Array, alpha: number, l1Ratio: number): number {
  const { X, y, n, d } = p;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!; r[i] = y[i]! - s; }
  const c = new Float64Array(d), cy = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) { c[j]! += X[i * d + j]! * r[i]!; cy[j]! += X[i * d + j]! * y[i]!; }
  let worst = 0, amax = 0;
  for (let j = 0; j < d; j++) {
    const g = c[j]! / n;
    amax = Math.max(amax, Math.abs(cy[j]!) / n);
    worst = Math.max(worst, w[j] === 0 ? Math.max(0, Math.abs(g) - alpha * l1Ratio)
      : Math.abs(g - alpha * (1 - l1Ratio) * w[j]! - alpha * l1Ratio * Math.sign(w[j]!)));
  }
  return worst / amax;
}

/** Throws unless w is sklearn's sk: within 1e-3 of sk's largest |coefficient|, and zero exactly where sk is. */
function sameAnswer(sk: Float64Array, w: Float32Array, what: string): void {
  let big = 0;
  for (const v of sk) big = Math.max(big, Math.abs(v));
  for (let j = 0; j < sk.length; j++) {
    if ((sk[j] === 0) !== (w[j] === 0)) throw new Error(`${what}: zero patterns differ at coefficient ${j} (sklearn ${sk[j]}, regula ${w[j]})`);
    if (!(Math.abs(sk[j]! - w[j]!) <= 1e-3 * big)) throw new Error(`${what}: coefficient ${j} is ${w[j]}, sklearn's ${sk[j]} (more than 1e-3 of its largest, ${big})`);
  }
}

function objective(p: Problem, w: ArrayLike<number>, alpha: number, l1Ratio: number): number {
  const { X, y, n, d } = p;
  let rr = 0, l1 = 0, l2 = 0;
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!; rr += (y[i]! - s) ** 2; }
  for (let j = 0; j < d; j++) { l1 += Math.abs(w[j]!); l2 += w[j]! ** 2; }
  return rr / (2 * n) + alpha * l1Ratio * l1 + (alpha * (1 - l1Ratio) / 2) * l2;
}

const fmtGap = (g: number) => g.toExponential(1);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

// ---- scikit-learn through bench/linear_sklearn.py ----------------------------------------

interface Sk { request: (line: string) => Promise<string>; close: () => void }

/** /usr/bin/python3 (or python3) when it imports sklearn, else null. */
function findSklearnPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import sklearn'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

async function sklearnServer(py: string): Promise<Sk> {
  const script = fileURLToPath(new URL('./linear_sklearn.py', import.meta.url));
  // One thread, like regula's cases; the machine's OpenBLAS tuning variables are for old builds.
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const child: ChildProcessWithoutNullStreams = spawn(py, [script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let buf = '', err = '';
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  child.once('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`linear_sklearn.py exited (${code}): ${err}`)); });
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
  if (ready !== 'ready') throw new Error(`linear_sklearn.py: expected "ready", got ${ready}`);
  child.unref();
  return {
    request(line) { const p = next(); child.stdin.write(line + '\n'); return p; },
    close() { child.stdin.end(); child.kill(); },
  };
}

interface SkRun { seconds: number; gap: number; epochs: number; nonzeros: number; coef: Float64Array }

async function skRun(sk: Sk, line: string): Promise<SkRun> {
  const r = await sk.request(line);
  const [tag, s, g, e, nz, coef] = r.split(' ');
  if (tag !== 'ok') throw new Error(`linear_sklearn.py ${line}: ${r}`);
  return { seconds: Number(s), gap: Number(g), epochs: Number(e), nonzeros: Number(nz), coef: Float64Array.from(coef!.split(','), Number) };
}

async function skLoad(sk: Sk, dir: string, p: Problem): Promise<void> {
  const file = join(dir, `${p.name}.f32`);
  const all = new Float32Array(p.n * p.d + p.n);
  all.set(p.X); all.set(p.y, p.n * p.d);
  writeFileSync(file, new Uint8Array(all.buffer));
  const r = await sk.request(`load ${p.name} ${p.n} ${p.d} ${file}`);
  if (r !== 'loaded') throw new Error(`linear_sklearn.py load: ${r}`);
}

// ---- groups ---------------------------------------------------------------------------

interface Ctx { wasm: Backend; js: Backend; sk: Sk | null; notes: string[] }

/** A sklearn case: the request as the timed work, its self-timed seconds collected for the note. */
function skCase(ctx: Ctx, line: string, label: string, check: (r: SkRun) => void): { c: Case; own: number[]; last: () => SkRun | null } {
  const own: number[] = [];
  let last: SkRun | null = null;
  return {
    own,
    last: () => last,
    c: {
      name: 'scikit-learn 1.2',
      fn: async () => { const r = await skRun(ctx.sk!, line); own.push(r.seconds * 1000); last = r; },
      check: async () => { const r = await skRun(ctx.sk!, line); last = r; check(r); },
    },
  };
}

function fitGroup(ctx: Ctx, title: string, p: Problem, alpha: number, l1Ratio: number, variants: [string, linear.FitOptions['precompute'], boolean, linear.Solver][], timeJs = true,
  skLine = `fit ${p.name} ${alpha} ${TOL} ${l1Ratio}`): Group {
  const cases: Case[] = [];
  const gaps: string[] = [];
  const base = { n: p.n, d: p.d, alpha, l1Ratio, tol: TOL };
  let ref: Float32Array | null = null;
  for (const [label, precompute, workingSet, solver] of variants) {
    const o = { ...base, precompute, workingSet, solver };
    const check = () => {
      const a = linear.fit(ctx.wasm, p.X, p.y, o), b = linear.fit(ctx.js, p.X, p.y, o);
      if (!a.converged) throw new Error(`${label}: not converged after ${a.iterations} iterations`);
      const diff = firstBitDiff(a.coef, b.coef);
      if (diff >= 0) throw new Error(`${label}: wasm and js differ at coefficient ${diff}`);
      const kkt = kktError(p, a.coef, alpha, l1Ratio);
      if (!(kkt <= 1e-3)) throw new Error(`${label}: optimality conditions violated by ${kkt} (relative)`);
      ref ??= a.coef;
      gaps.push(`${label} ${fmtGap(a.dualGap)} (${a.iterations} it)`);
    };
    cases.push({ name: `regula wasm ${label}`, fn: () => linear.fit(ctx.wasm, p.X, p.y, o), check });
  }
  if (timeJs) cases.push({ name: `regula js ${variants[0]![0]}`, fn: () => linear.fit(ctx.js, p.X, p.y, { ...base, precompute: variants[0]![1], workingSet: variants[0]![2], solver: variants[0]![3] }) });
  let sk: ReturnType<typeof skCase> | null = null;
  if (ctx.sk !== null) {
    sk = skCase(ctx, skLine, title, (r) => {
      const f = objective(p, r.coef, alpha, l1Ratio), g = objective(p, ref!, alpha, l1Ratio);
      if (!(Math.abs(f - g) <= 1e-5 * Math.abs(f))) throw new Error(`sklearn objective ${f}, regula ${g}`);
      sameAnswer(r.coef, ref!, title);
      gaps.push(`sklearn ${fmtGap(r.gap)} (${r.epochs} it)`);
    });
    cases.push(sk.c);
  }
  return {
    get title() { return `${title}, tol ${TOL} (gap/n reached: ${gaps.join(', ')}${sk && sk.own.length ? `; sklearn self-timed median ${median(sk.own).toFixed(3)} ms` : ''})`; },
    work: 1, unit: 'step', baseline: ctx.sk !== null ? 'scikit-learn 1.2' : cases[0]!.name, cases,
  };
}

function pathGroup(ctx: Ctx, p: Problem): Group {
  const o = { n: p.n, d: p.d, tol: TOL };
  const notes: string[] = [];
  let ref: Float32Array | null = null;
  const check = () => {
    const a = linear.path(ctx.wasm, p.X, p.y, o), b = linear.path(ctx.js, p.X, p.y, o);
    if (!a.converged.every(Boolean)) throw new Error('a path point did not converge');
    a.coefs.forEach((c, i) => { if (firstBitDiff(c, b.coefs[i]!) >= 0) throw new Error(`wasm and js differ at alpha ${i}`); });
    if (a.zeroCounts[0] !== p.d || a.zeroCounts[99] !== 0) throw new Error(`zero counts ${a.zeroCounts[0]} … ${a.zeroCounts[99]}`);
    ref = a.coefs[99]!;
    notes.push(`regula ${fmtGap(Math.max(...a.dualGaps))} (${a.iterations.reduce((s, x) => s + x, 0)} it)`);
  };
  const cases: Case[] = [
    { name: 'regula wasm', fn: () => linear.path(ctx.wasm, p.X, p.y, o), check },
    { name: 'regula js', fn: () => linear.path(ctx.js, p.X, p.y, o) },
  ];
  let sk: ReturnType<typeof skCase> | null = null;
  if (ctx.sk !== null) {
    sk = skCase(ctx, `path ${p.name} ${TOL} 100 0.001`, 'path', (r) => {
      const alpha = Math.max(...Array.from({ length: p.d }, (_, j) => { let s = 0; for (let i = 0; i < p.n; i++) s += p.X[i * p.d + j]! * p.y[i]!; return Math.abs(s) / p.n; })) * 1e-3;
      const f = objective(p, r.coef, alpha, 1), g = objective(p, ref!, alpha, 1);
      if (!(Math.abs(f - g) <= 1e-4 * Math.abs(f))) throw new Error(`last alpha: sklearn objective ${f}, regula ${g}`);
      sameAnswer(r.coef, ref!, 'path, last alpha');
      notes.push(`sklearn ${fmtGap(r.gap)} (${r.epochs} it)`);
    });
    cases.push(sk.c);
  }
  return {
    get title() { return `lasso path diabetes 442x10, 100 alphas (eps 1e-3), tol ${TOL} (largest gap/n: ${notes.join(', ')}${sk && sk.own.length ? `; sklearn self-timed median ${median(sk.own).toFixed(3)} ms` : ''})`; },
    work: 1, unit: 'step', baseline: ctx.sk !== null ? 'scikit-learn 1.2' : 'regula js', cases,
  };
}

/** n×d uniform(−1, 1) features, `k` true non-zeros spread over the columns, noise 0.1. */
function synthetic(name: string, n: number, d: number, k: number, seed: number): Problem {
  const X = randomF32(n * d, seed);
  const wTrue = new Float32Array(d);
  for (let j = 0; j < k; j++) wTrue[Math.floor((j * d) / k)] = (j % 2 ? -1 : 1) * (1 + j / 5);
  const noise = randomF32(n, seed + 2, 0.1);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * wTrue[j]!; y[i] = s + noise[i]!; }
  return { name, X, y, n, d };
}

const suite: Suite = {
  name: 'linear',
  async groups() {
    const wasm = await loadBackend('wasm', { threads: 1 });
    const js = await loadBackend('js');
    const py = findSklearnPython();
    const sk = py === null ? null : await sklearnServer(py);
    if (sk === null) process.stderr.write('linear: /usr/bin/python3 with sklearn not found (Debian: apt-get install python3-sklearn); scikit-learn cases skipped\n');
    const ctx: Ctx = { wasm, js, sk, notes: [] };
    const dia = loadDiabetes({ standardize: true });
    const diabetes: Problem = { name: 'diabetes', X: dia.x, y: dia.y, n: dia.n, d: dia.d };
    const mid = synthetic('mid', 4000, 200, 10, 41);
    const wide = synthetic('wide', 1000, 10000, 20, 51);
    const ridgeWide = synthetic('ridgewide', 1000, 3000, 20, 61);
    const dir = mkdtempSync(join(tmpdir(), 'regula-linear-'));
    if (sk !== null) for (const p of [diabetes, mid, wide, ridgeWide]) await skLoad(sk, dir, p);
    const wideAmax = linear.alphaMax(wide.X, wide.y, wide.n, wide.d);
    const groups = [
      pathGroup(ctx, diabetes),
      fitGroup(ctx, 'lasso fit synthetic 4000x200, alpha 0.05', mid, 0.05, 1, [['cd', 'auto', true, 'cd'], ['fista', 'auto', true, 'fista']]),
      fitGroup(ctx, 'elastic net fit synthetic 4000x200, alpha 0.05, l1Ratio 0.5', mid, 0.05, 0.5, [['cd', 'auto', true, 'cd']]),
      // js is checked bit for bit but not timed here (seconds per fit).
      ...[10, 100].map((f) => fitGroup(ctx, `lasso fit wide 1000x10000 (20 true non-zeros), alpha alpha_max/${f} = ${(wideAmax / f).toPrecision(3)}`, wide, wideAmax / f, 1,
        [['cd', 'auto', true, 'cd'], ['cd, no working set', 'auto', false, 'cd']], false)),
      fitGroup(ctx, 'lasso fit diabetes 442x10, alpha 0.1', diabetes, 0.1, 1, [['cd', 'auto', true, 'cd']]),
      // More than 1000 features: regula's conjugate gradient; sklearn's Ridge picks its own solver (no gap).
      fitGroup(ctx, 'ridge fit 1000x3000, alpha 0.1 (sklearn Ridge alpha = n·0.1)', ridgeWide, 0.1, 0, [['cg', 'auto', true, 'cd']], false, `ridge ridgewide 0.1`),
    ];
    const last = groups[groups.length - 1]!;
    const teardown = last.teardown;
    last.teardown = () => { teardown?.(); sk?.close(); };
    return groups;
  },
};

export default suite;

/**
 * Optimizers with torch.optim semantics and names: SGD, Adam (coupled L2) and AdamW
 * (decoupled weight decay), each with an optional proximal L1 step (`l1`) that leaves
 * exact zeros.
 *
 * Every optimizer takes a list of parameters or a list of parameter groups; a group may
 * override any option. All hyperparameters of every group are checked (as torch checks
 * them, plus NaN and ±Infinity) before any state exists. `step()` runs one fused kernel call
 * per parameter tensor; the state tensors (momentum buffer, exp_avg, exp_avg_sq,
 * max_exp_avg_sq) are allocated on a parameter's first step and freed by `dispose()`.
 */
import { DisposedError, ShapeError, describe, fmtShape } from './errors.js';
import { Tensor } from './tensor.js';
import type { AdamStepOptions, SgdStepOptions } from './backend.js';
import { checkBool, hyper, sameShape } from './validate.js';

/** Options of SGD (torch.optim.SGD). `lr` has no default, as in torch. */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
  /** Proximal L1: after the step, p ← sign(p)·max(|p| − lr·l1, 0). */
  l1?: number;
}

/** Options of Adam and AdamW (torch.optim.Adam / AdamW). */
export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Adam: coupled L2 added to the gradient (default 0). AdamW: decoupled decay p ← p·(1 − lr·wd) (default 0.01). */
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  /** Proximal L1: after the step, p ← sign(p)·max(|p| − lr·l1, 0). */
  l1?: number;
}

/** A parameter group as given to a constructor: its tensors and any options it overrides. */
export type ParamGroupInput<O> = { params: Tensor[] } & Partial<O>;

/** What an optimizer's constructor accepts: tensors, or parameter groups. */
export type ParamsInput<O> = Tensor[] | ParamGroupInput<O>[];

/**
 * A parameter group as held by an optimizer: its parameters and every option resolved.
 * Options are writable (a learning-rate schedule changes `lr`); they are checked again at
 * each `step()`. `initialLr` is set by the first schedule attached (torch's `initial_lr`).
 */
export type ParamGroup<O> = { readonly params: readonly Tensor[]; initialLr?: number } & Required<O>;

/** The per-parameter state, copied out by stateDict(). */
export interface ParamState {
  /** Steps taken by this parameter. */
  step: number;
  /** SGD with momentum. */
  momentumBuffer?: Float32Array;
  /** Adam / AdamW. */
  expAvg?: Float32Array;
  expAvgSq?: Float32Array;
  /** Adam / AdamW with amsgrad. */
  maxExpAvgSq?: Float32Array;
}

/**
 * An optimizer's state in torch's layout: `state` keyed by the parameter's index (counted
 * across groups, in order), `paramGroups` with each group's options and the indices of its
 * parameters. Arrays are copies.
 */
export interface OptimizerStateDict<O> {
  state: Record<number, ParamState>;
  paramGroups: (Required<O> & { params: number[]; initialLr?: number })[];
}

interface LiveState {
  step: number;
  momentumBuffer?: Tensor;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
  maxExpAvgSq?: Tensor;
}

type StateKey = 'momentumBuffer' | 'expAvg' | 'expAvgSq' | 'maxExpAvgSq';
const STATE_KEYS: readonly StateKey[] = ['momentumBuffer', 'expAvg', 'expAvgSq', 'maxExpAvgSq'];

/** Hyperparameter checks of one optimizer family, naming the group and the option. */
type Resolver<O> = (input: Record<string, unknown>, defaults: Partial<O>, where: string) => Required<O>;

/**
 * The shared machinery: parameter groups, their validation, lazily allocated state,
 * zeroGrad(), stateDict() / loadStateDict() and dispose(). Subclasses supply the option
 * resolver and the per-parameter update.
 */
export abstract class Optimizer<O extends object> {
  /** The parameter groups, options resolved. A schedule changes `lr` here. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The defaults given to the constructor (what a group without an override uses). */
  readonly defaults: Readonly<Partial<O>>;
  protected readonly state = new Map<Tensor, LiveState>();
  private readonly owner = new Set<Tensor>();
  private _disposed = false;

  protected constructor(
    protected readonly name: string,
    params: ParamsInput<O>,
    defaults: Partial<O>,
    private readonly resolve: Resolver<O>,
    private readonly optionKeys: readonly string[],
  ) {
    if (defaults === null || typeof defaults !== 'object') throw new TypeError(`${name}: expected an options object, got ${describe(defaults)}`);
    this.checkKeys(defaults as Record<string, unknown>, `${name} options`, false);
    this.defaults = { ...defaults };
    if (!Array.isArray(params)) throw new TypeError(`${name}: expected an array of parameter tensors or of parameter groups, got ${describe(params)}`);
    if (params.length === 0) throw new RangeError(`${name}: got an empty parameter list`);
    const groups: Record<string, unknown>[] = params.every((p) => p instanceof Tensor)
      ? [{ params }]
      : params.map((g, i) => {
        if (g instanceof Tensor) throw new TypeError(`${name}: mix of tensors and parameter groups; pass either tensors or groups ({ params, ...options })`);
        if (g === null || typeof g !== 'object') throw new TypeError(`${name} paramGroups[${i}]: expected { params, ...options }, got ${describe(g)}`);
        return g as Record<string, unknown>;
      });
    // Every group is checked before anything is kept, so a bad group leaves no optimizer half made.
    const resolved = this.checkGroups(groups, 0, new Set());
    for (const g of resolved) this.paramGroups.push(g);
    for (const g of resolved) for (const p of g.params) this.owner.add(p);
  }

  /** Adds a parameter group (torch's add_param_group); its options fall back to the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    this.assertLive('addParamGroup');
    const [g] = this.checkGroups([group as Record<string, unknown>], this.paramGroups.length, this.owner);
    this.paramGroups.push(g!);
    for (const p of g!.params) this.owner.add(p);
  }

  private checkKeys(o: Record<string, unknown>, where: string, allowParams: boolean): void {
    for (const k of Object.keys(o)) {
      if (k === 'params' && allowParams) continue;
      if (k === 'initialLr' && allowParams) continue;
      if (!this.optionKeys.includes(k)) {
        throw new TypeError(`${where}: unknown option ${JSON.stringify(k)}; ${this.name} takes ${this.optionKeys.join(', ')}`);
      }
    }
  }

  private checkGroups(groups: Record<string, unknown>[], first: number, taken: ReadonlySet<Tensor>): ParamGroup<O>[] {
    const seen = new Set<Tensor>(taken);
    return groups.map((g, gi) => {
      const where = `${this.name} paramGroups[${first + gi}]`;
      if (g === null || typeof g !== 'object') throw new TypeError(`${where}: expected { params, ...options }, got ${describe(g)}`);
      this.checkKeys(g, where, true);
      const ps = g.params;
      if (!Array.isArray(ps)) throw new TypeError(`${where}.params: expected an array of tensors, got ${describe(ps)}`);
      ps.forEach((p, pi) => {
        const w = `${where}.params[${pi}]`;
        if (!(p instanceof Tensor)) throw new TypeError(`${w}: expected a Tensor, got ${describe(p)}`);
        p.assertLive(w);
        if (!p.requiresGrad) throw new TypeError(`${w}: the tensor of shape ${fmtShape(p.shape)} does not require grad (make it with be.param())`);
        if (p.grad === null) throw new TypeError(`${w}: the tensor of shape ${fmtShape(p.shape)} has no grad tensor`);
        if (seen.has(p)) throw new RangeError(`${w}: the tensor of shape ${fmtShape(p.shape)} appears in more than one place; a parameter may belong to one group once`);
        seen.add(p);
      });
      const opts = this.resolve(g, this.defaults, where);
      const out = { ...opts, params: Object.freeze(ps.slice()) } as ParamGroup<O>;
      if (g.initialLr !== undefined) out.initialLr = hyper.lr(g.initialLr, `${where}.initialLr`);
      return out;
    });
  }

  /**
   * Per group, the option values recheck() last found valid, flattened (an array option
   * such as betas by its elements, since it can be changed in place).
   */
  private readonly validated: unknown[][] = [];

  /** True when group gi's options are the values recheck() last validated (===; NaN never is). */
  private unchanged(g: Record<string, unknown>, gi: number): boolean {
    const snap = this.validated[gi];
    if (snap === undefined) return false;
    let j = 0;
    for (const k of this.optionKeys) {
      const v = g[k];
      if (Array.isArray(v)) {
        if (snap[j++] !== v.length) return false;
        for (let e = 0; e < v.length; e++) if (snap[j++] !== v[e]) return false;
      } else if (snap[j++] !== v) {
        return false;
      }
    }
    return true;
  }

  private remember(g: Record<string, unknown>, gi: number): void {
    const snap: unknown[] = [];
    for (const k of this.optionKeys) {
      const v = g[k];
      if (Array.isArray(v)) snap.push(v.length, ...v);
      else snap.push(v);
    }
    this.validated[gi] = snap;
  }

  /**
   * Re-checks every group's options (they are writable) before a step changes anything.
   * Values equal to those last validated for the group skip the checks (a schedule that
   * sets lr each step is checked each step).
   */
  private recheck(): void {
    this.paramGroups.forEach((g, gi) => {
      const where = `${this.name} paramGroups[${gi}]`;
      const rec = g as unknown as Record<string, unknown>;
      if (!this.unchanged(rec, gi)) {
        this.resolve(rec, {}, where);
        this.remember(rec, gi);
      }
      for (const p of g.params) {
        p.assertLive(`${where} parameter`);
        if (p.grad === null) continue;
        p.grad.assertLive(`${where} parameter grad`);
        if (!sameShape(p.grad.shape, p.shape)) throw new ShapeError(`${where}: grad shape ${fmtShape(p.grad.shape)} differs from its parameter's ${fmtShape(p.shape)}`);
      }
    });
  }

  /**
   * One optimization step over every parameter whose grad is not null: one fused kernel
   * call per tensor. All groups' options are checked first; nothing changes if one is bad.
   */
  step(): void {
    this.assertLive('step()');
    this.recheck();
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        let s = this.state.get(p);
        if (s === undefined) this.state.set(p, (s = { step: 0 }));
        this.update(p, p.grad, s, g);
      }
    }
  }

  /** The update of one parameter (state s is this parameter's, created empty). */
  protected abstract update(p: Tensor, g: Tensor, s: LiveState, group: Required<O>): void;

  /** Allocates state tensor `key` of p (zeros) when missing. */
  protected buffer(p: Tensor, s: LiveState, key: StateKey): Tensor {
    let t = s[key];
    if (t === undefined) s[key] = t = p._be.zeros(p.shape);
    return t;
  }

  /** Sets every parameter's grad to zeros (torch 1.13's zero_grad(set_to_none=False)). */
  zeroGrad(): void {
    this.assertLive('zeroGrad()');
    for (const g of this.paramGroups) for (const p of g.params) if (p.grad !== null) p._be.kernels.fill(p.grad, 0);
  }

  /** The state of every parameter and the groups' options, as copies (torch's state_dict()). */
  stateDict(): OptimizerStateDict<O> {
    this.assertLive('stateDict()');
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict<O>['paramGroups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          const c: ParamState = { step: s.step };
          for (const k of STATE_KEYS) { const t = s[k]; if (t !== undefined) c[k] = t.toFloat32Array(); }
          state[index] = c;
        }
        ids.push(index++);
      }
      const { params: _params, ...opts } = g;
      const entry = { ...opts, params: ids } as OptimizerStateDict<O>['paramGroups'][number];
      const e = entry as unknown as { betas?: unknown };
      if (Array.isArray(e.betas)) e.betas = [...(e.betas as number[])];
      paramGroups.push(entry);
    }
    return { state, paramGroups };
  }

  /**
   * Loads a state saved by stateDict(): the groups' options and each parameter's state.
   * Everything is checked first (group count and sizes, options, step counts, buffer
   * lengths); on any error nothing changes.
   */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    this.assertLive('loadStateDict()');
    const what = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object') throw new TypeError(`${what}: expected { state, paramGroups }, got ${describe(sd)}`);
    const { state, paramGroups } = sd;
    if (!Array.isArray(paramGroups)) throw new TypeError(`${what}: expected paramGroups as an array, got ${describe(paramGroups)}`);
    if (state === null || typeof state !== 'object') throw new TypeError(`${what}: expected state as an object keyed by parameter index, got ${describe(state)}`);
    if (paramGroups.length !== this.paramGroups.length) {
      throw new ShapeError(`${what}: the state has ${paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    const flat: Tensor[] = [];
    const newOpts: (Required<O> & { initialLr?: number })[] = [];
    paramGroups.forEach((sg, gi) => {
      const where = `${what} paramGroups[${gi}]`;
      const mine = this.paramGroups[gi]!;
      if (sg === null || typeof sg !== 'object' || !Array.isArray(sg.params)) throw new TypeError(`${where}: expected { params: number[], ...options }, got ${describe(sg)}`);
      if (sg.params.length !== mine.params.length) {
        throw new ShapeError(`${where}: the saved group has ${sg.params.length} parameters, this optimizer's group has ${mine.params.length}`);
      }
      for (let k = 0; k < sg.params.length; k++) {
        if (sg.params[k] !== flat.length + k) {
          throw new RangeError(`${where}.params[${k}]: expected parameter index ${flat.length + k}, got ${describe(sg.params[k])}`);
        }
      }
      flat.push(...mine.params);
      const { params: _p, ...opts } = sg as unknown as Record<string, unknown>;
      this.checkKeys(opts, where, true);
      const r = this.resolve(opts, {}, where) as Required<O> & { initialLr?: number };
      if (opts.initialLr !== undefined) r.initialLr = hyper.lr(opts.initialLr, `${where}.initialLr`);
      newOpts.push(r);
    });
    const loaded = new Map<Tensor, ParamState>();
    for (const key of Object.keys(state)) {
      const where = `${what} state[${key}]`;
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= flat.length) throw new RangeError(`${where}: expected a parameter index in [0, ${flat.length - 1}]`);
      const p = flat[i]!;
      const s = (state as Record<string, ParamState>)[key]!;
      if (s === null || typeof s !== 'object') throw new TypeError(`${where}: expected { step, ...buffers }, got ${describe(s)}`);
      for (const k of Object.keys(s)) {
        if (k !== 'step' && !this.stateKeys.includes(k as StateKey)) throw new TypeError(`${where}: unknown entry ${JSON.stringify(k)}; ${this.name} keeps step, ${this.stateKeys.join(', ')}`);
      }
      if (typeof s.step !== 'number' || !Number.isSafeInteger(s.step) || s.step < 0) throw new RangeError(`${where}.step: expected a non-negative integer, got ${describe(s.step)}`);
      for (const k of this.stateKeys) {
        const a = s[k];
        if (a === undefined) continue;
        if (!(a instanceof Float32Array)) throw new TypeError(`${where}.${k}: expected a Float32Array, got ${describe(a)}`);
        if (a.length !== p.size) throw new ShapeError(`${where}.${k}: expected ${p.size} elements (parameter shape ${fmtShape(p.shape)}), got ${a.length}`);
      }
      const groupOpts = newOpts[this.paramGroups.findIndex((g) => g.params.includes(p))]!;
      this.checkLoadedState(s, groupOpts, where);
      loaded.set(p, s);
    }
    // Checked: now replace.
    this.freeState();
    newOpts.forEach((o, gi) => {
      const g = this.paramGroups[gi]! as Record<string, unknown>;
      delete g.initialLr;
      Object.assign(g, o);
      if (Array.isArray(g.betas)) g.betas = [...(g.betas as number[])];
    });
    for (const [p, s] of loaded) {
      const live: LiveState = { step: s.step };
      for (const k of this.stateKeys) {
        const a = s[k];
        if (a !== undefined) { const t = p._be.zeros(p.shape); t.data.set(a); live[k] = t; }
      }
      this.state.set(p, live);
    }
  }

  /** The state buffers this optimizer keeps. */
  protected abstract readonly stateKeys: readonly StateKey[];

  /** Family-specific checks of a loaded parameter state against its group's options. */
  protected abstract checkLoadedState(s: ParamState, group: Required<O>, where: string): void;

  /** Frees every state tensor; the optimizer cannot be used afterwards. */
  dispose(): void {
    if (this._disposed) return;
    this.freeState();
    this._disposed = true;
  }

  get disposed(): boolean { return this._disposed; }

  private freeState(): void {
    for (const s of this.state.values()) for (const k of STATE_KEYS) s[k]?.dispose();
    this.state.clear();
  }

  private assertLive(what: string): void {
    if (this._disposed) throw new DisposedError(`${this.name}.${what}: the optimizer was disposed`);
  }
}

function pick<T>(input: Record<string, unknown>, defaults: Record<string, unknown>, key: string, fallback: T): unknown {
  if (input[key] !== undefined) return input[key];
  if (defaults[key] !== undefined) return defaults[key];
  return fallback;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', 'l1'] as const;
const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'l1'] as const;

function resolveSgd(input: Record<string, unknown>, d: Partial<SGDOptions>, where: string): Required<SGDOptions> {
  const dd = d as Record<string, unknown>;
  const lrRaw = pick(input, dd, 'lr', undefined);
  if (lrRaw === undefined) throw new TypeError(`${where}: lr (learning rate) is required for SGD; give it in the options or in this group`);
  const lr = hyper.lr(lrRaw, `${where}: lr`);
  const momentum = hyper.momentum(pick(input, dd, 'momentum', 0), `${where}: momentum`);
  const dampening = hyper.dampening(pick(input, dd, 'dampening', 0), `${where}: dampening`);
  const weightDecay = hyper.weightDecay(pick(input, dd, 'weightDecay', 0), `${where}: weightDecay`);
  const nesterov = checkBool(pick(input, dd, 'nesterov', false), `${where}: nesterov`);
  const maximize = checkBool(pick(input, dd, 'maximize', false), `${where}: maximize`);
  const l1 = hyper.l1(pick(input, dd, 'l1', 0), `${where}: l1`);
  hyper.nesterov(nesterov, momentum, dampening, `${where}: nesterov`);
  return { lr, momentum, dampening, weightDecay, nesterov, maximize, l1 };
}

function adamResolver(defaultDecay: number): Resolver<AdamOptions> {
  return (input, d, where) => {
    const dd = d as Record<string, unknown>;
    const lr = hyper.lr(pick(input, dd, 'lr', 1e-3), `${where}: lr`);
    const betas = hyper.betas(pick(input, dd, 'betas', [0.9, 0.999]), `${where}: betas`);
    const eps = hyper.eps(pick(input, dd, 'eps', 1e-8), `${where}: eps`);
    const weightDecay = hyper.weightDecay(pick(input, dd, 'weightDecay', defaultDecay), `${where}: weightDecay`);
    const amsgrad = checkBool(pick(input, dd, 'amsgrad', false), `${where}: amsgrad`);
    const maximize = checkBool(pick(input, dd, 'maximize', false), `${where}: maximize`);
    const l1 = hyper.l1(pick(input, dd, 'l1', 0), `${where}: l1`);
    return { lr, betas, eps, weightDecay, amsgrad, maximize, l1 };
  };
}

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum, coupled weight
 * decay and maximize (torch.optim.SGD), plus the proximal `l1` step. `lr` is required.
 */
export class SGD extends Optimizer<SGDOptions> {
  protected readonly stateKeys = ['momentumBuffer'] as const;
  private readonly stepOptions: SgdStepOptions = { lr: 0 };

  constructor(params: ParamsInput<SGDOptions>, options: SGDOptions) {
    super('SGD', params, options, resolveSgd, SGD_KEYS);
  }

  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<SGDOptions>): void {
    let buf: Tensor | null = null;
    let first = false;
    if (o.momentum !== 0) {
      first = s.momentumBuffer === undefined;
      buf = this.buffer(p, s, 'momentumBuffer');
    }
    // One options object per optimizer, refilled per call: no allocation per tensor per step.
    const so = this.stepOptions;
    so.lr = o.lr; so.momentum = o.momentum; so.dampening = o.dampening; so.weightDecay = o.weightDecay;
    so.nesterov = o.nesterov; so.maximize = o.maximize; so.l1 = o.l1; so.first = first;
    p._be.kernels.sgdStep(p, g, buf, so);
    s.step++;
  }

  protected checkLoadedState(): void { /* a missing momentum buffer is re-made on the next step, as torch's None */ }
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected readonly stateKeys = ['expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;
  private readonly stepOptions: AdamStepOptions = { lr: 0, step: 1 };
  protected abstract readonly decoupled: boolean;

  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<AdamOptions>): void {
    const m = this.buffer(p, s, 'expAvg');
    const v = this.buffer(p, s, 'expAvgSq');
    const vmax = o.amsgrad ? this.buffer(p, s, 'maxExpAvgSq') : null;
    // One options object per optimizer, refilled per call: no allocation per tensor per step.
    const so = this.stepOptions;
    so.lr = o.lr; so.betas = o.betas; so.eps = o.eps; so.weightDecay = o.weightDecay;
    so.amsgrad = o.amsgrad; so.maximize = o.maximize; so.l1 = o.l1;
    so.decoupled = this.decoupled; so.step = s.step + 1;
    p._be.kernels.adamStep(p, g, m, v, vmax, so);
    s.step++;
  }

  protected checkLoadedState(s: ParamState, o: Required<AdamOptions>, where: string): void {
    const has = [s.expAvg, s.expAvgSq].filter((a) => a !== undefined).length;
    if (has === 1) throw new RangeError(`${where}: expected both expAvg and expAvgSq or neither`);
    if (has === 2 && s.step < 1) throw new RangeError(`${where}.step: moments were saved, so expected step ≥ 1, got ${s.step}`);
    if (has === 0 && s.step > 0) throw new RangeError(`${where}: step is ${s.step} but expAvg and expAvgSq are missing`);
    if (o.amsgrad && has === 2 && s.maxExpAvgSq === undefined) throw new RangeError(`${where}: amsgrad is on but maxExpAvgSq is missing`);
  }
}

/** Adam with coupled L2 (`weightDecay` is added to the gradient), torch.optim.Adam. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options: AdamOptions = {}) {
    super('Adam', params, options, adamResolver(0), ADAM_KEYS);
  }
}

/** AdamW: decoupled weight decay p ← p·(1 − lr·wd) before the Adam step, torch.optim.AdamW (default wd 0.01). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options: AdamOptions = {}) {
    super('AdamW', params, options, adamResolver(0.01), ADAM_KEYS);
  }
}

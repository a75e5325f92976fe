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
import { finiteFloat32Copy, hyper, resolveAdam, resolveSgd, sameShape } from './validate.js';

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

/** One parameter's update in a step, prepared (checked, state allocated) before any is applied. */
interface Work<O> { p: Tensor; g: Tensor; s: LiveState; o: Required<O>; first: boolean }

/** The largest step count a loaded state may hold: the next step must still count exactly. */
const MAX_STEP = Number.MAX_SAFE_INTEGER - 1;

/** A state dict's parameter index: "0", "1", ... (no sign, no leading zero, no spaces). */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** What describes one optimizer family to the shared machinery. */
interface Family<O> {
  name: string;
  resolve: Resolver<O>;
  /** Every option, in order. */
  optionKeys: readonly string[];
  /** The options a saved group must give (the others default as torch's __setstate__ defaults them). */
  requiredKeys: readonly string[];
  /** The state buffers this family keeps. */
  stateKeys: readonly StateKey[];
}

/**
 * The shared machinery: parameter groups, their validation, lazily allocated state,
 * zeroGrad(), stateDict() / loadStateDict() and dispose(). Subclasses supply the family
 * (option resolver, keys), the state a step needs, and the per-parameter update.
 */
export abstract class Optimizer<O extends object> {
  /** The parameter groups, options resolved. A schedule changes `lr` here. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The defaults given to the constructor (what a group without an override uses). */
  readonly defaults: Readonly<Partial<O>>;
  protected readonly state = new Map<Tensor, LiveState>();
  private readonly owner = new Set<Tensor>();
  private _disposed = false;
  protected readonly name: string;

  protected constructor(params: ParamsInput<O>, defaults: Partial<O>, private readonly family: Family<O>) {
    const name = this.name = family.name;
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
      if (!this.family.optionKeys.includes(k)) {
        throw new TypeError(`${where}: unknown option ${JSON.stringify(k)}; ${this.name} takes ${this.family.optionKeys.join(', ')}`);
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
      const opts = this.family.resolve(g, this.defaults, where);
      const out = { ...opts, params: Object.freeze(ps.slice()) } as ParamGroup<O>;
      if (g.initialLr !== undefined) out.initialLr = hyper.lr(g.initialLr, `${where}.initialLr`);
      return out;
    });
  }

  /**
   * Everything a step touches, checked, with missing state allocated: every group's options
   * (they are writable), every parameter and grad, every step count. Throws before any
   * parameter changes; state allocated here is freed again when it throws.
   */
  private prepare(): Work<O>[] {
    const work: Work<O>[] = [];
    const made: Tensor[] = [];
    const fresh: Tensor[] = [];
    try {
      this.paramGroups.forEach((group, gi) => {
        const where = `${this.name} paramGroups[${gi}]`;
        const o = this.family.resolve(group as unknown as Record<string, unknown>, {}, where);
        group.params.forEach((p, pi) => {
          const w = `${where}.params[${pi}]`;
          p.assertLive(w);
          const g = p.grad;
          if (g === null) return;
          if (!(g instanceof Tensor)) throw new TypeError(`${w}.grad: expected a Tensor or null, got ${describe(g)}`);
          g.assertLive(`${w}.grad`);
          if (g._be !== p._be) throw new TypeError(`${w}.grad: the tensor belongs to another backend (${g._be.kind}) than its parameter (${p._be.kind})`);
          if (!sameShape(g.shape, p.shape)) throw new ShapeError(`${where}: grad shape ${fmtShape(g.shape)} differs from its parameter's ${fmtShape(p.shape)}`);
          if (g === p) throw new ShapeError(`${w}.grad: a parameter cannot be its own grad`);
          let s = this.state.get(p);
          if (s === undefined) { s = { step: 0 }; fresh.push(p); this.state.set(p, s); }
          if (s.step >= Number.MAX_SAFE_INTEGER) throw new RangeError(`${w}: the step count ${s.step} cannot grow by one and stay exact`);
          const need = this.needs(o);
          const first = need.length > 0 && s[need[0]!] === undefined;
          for (const key of need) if (s[key] === undefined) made.push((s[key] = p._be.zeros(p.shape)));
          work.push({ p, g, s, o, first });
        });
      });
    } catch (e) {
      for (const t of made) t.dispose();
      for (const s of this.state.values()) for (const k of STATE_KEYS) if (s[k]?.disposed) delete s[k];
      for (const p of fresh) this.state.delete(p);
      throw e;
    }
    return work;
  }

  /**
   * One optimization step over every parameter whose grad is not null: one fused kernel
   * call per tensor. Every group's options, every parameter and grad are checked first;
   * nothing changes if one is bad.
   */
  step(): void {
    this.assertLive('step()');
    const work = this.prepare();
    for (let i = 0; i < work.length; i++) {
      const w = work[i]!;
      this.update(w.p, w.g, w.s, w.o, w.first);
      w.s.step++;
    }
  }

  /** The state buffers a step with options o uses (the first one's absence marks a first step). */
  protected abstract needs(o: Required<O>): readonly StateKey[];

  /** The update of one parameter on the trusted kernels (everything checked, state allocated). */
  protected abstract update(p: Tensor, g: Tensor, s: LiveState, o: Required<O>, first: boolean): void;

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
   * The input is untrusted: everything is checked first (group count and sizes, every
   * option present, step counts, buffer lengths, finite float32 values, non-negative second
   * moments, parameter indices as canonical integer keys) and copied out; then the new
   * state is allocated; on any error nothing changes. torch's own layout (`param_groups`,
   * `exp_avg`, snake_case options) is refused with a message naming regula's keys.
   */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    this.assertLive('loadStateDict()');
    const what = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object') throw new TypeError(`${what}: expected { state, paramGroups }, got ${describe(sd)}`);
    if ('param_groups' in sd) {
      throw new TypeError(`${what}: this is torch's layout (param_groups, exp_avg, weight_decay); regula's is { state, paramGroups } ` +
        'with camelCase keys (expAvg, expAvgSq, maxExpAvgSq, momentumBuffer, weightDecay, initialLr): rename the keys to load it');
    }
    const { state, paramGroups } = sd;
    if (!Array.isArray(paramGroups)) throw new TypeError(`${what}: expected paramGroups as an array, got ${describe(paramGroups)}`);
    if (state === null || typeof state !== 'object') throw new TypeError(`${what}: expected state as an object keyed by parameter index, got ${describe(state)}`);
    if (paramGroups.length !== this.paramGroups.length) {
      throw new ShapeError(`${what}: the state has ${paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    const flat: Tensor[] = [];
    const groupOf: number[] = [];
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
      for (const p of mine.params) { flat.push(p); groupOf.push(gi); }
      const { params: _p, ...opts } = sg as unknown as Record<string, unknown>;
      this.checkKeys(opts, where, true);
      for (const k of this.family.requiredKeys) {
        if (opts[k] === undefined) {
          throw new TypeError(`${where}: missing ${k}; a saved group gives every option (only ${this.family.optionKeys.filter((o) => !this.family.requiredKeys.includes(o)).join(', ')} ` +
            'may be left out, and then take torch\'s defaults: false, and l1 0)');
        }
      }
      const r = this.family.resolve(opts, {}, where) as Required<O> & { initialLr?: number };
      if (opts.initialLr !== undefined) r.initialLr = hyper.lr(opts.initialLr, `${where}.initialLr`);
      newOpts.push(r);
    });
    // Checked and copied out of the input before anything is allocated (an allocation may
    // grow the Wasm memory and detach views the input holds into it).
    const loaded = new Map<Tensor, { step: number; bufs: [StateKey, Float32Array][] }>();
    for (const key of Object.keys(state)) {
      const where = `${what} state[${key}]`;
      if (!INDEX_KEY.test(key)) throw new RangeError(`${what} state: expected keys that are parameter indices ("0", "1", ...), got ${JSON.stringify(key)}`);
      const i = Number(key);
      if (i >= flat.length) throw new RangeError(`${where}: expected a parameter index in [0, ${flat.length - 1}]`);
      const p = flat[i]!;
      const s = (state as Record<string, ParamState>)[key]!;
      if (s === null || typeof s !== 'object') throw new TypeError(`${where}: expected { step, ...buffers }, got ${describe(s)}`);
      for (const k of Object.keys(s)) {
        if (k !== 'step' && !this.family.stateKeys.includes(k as StateKey)) throw new TypeError(`${where}: unknown entry ${JSON.stringify(k)}; ${this.name} keeps step, ${this.family.stateKeys.join(', ')}`);
      }
      if (typeof s.step !== 'number' || !Number.isSafeInteger(s.step) || s.step < 0 || s.step > MAX_STEP) {
        throw new RangeError(`${where}.step: expected a non-negative integer ≤ 2^53 − 2 (the next step must count exactly), got ${describe(s.step)}`);
      }
      const bufs: [StateKey, Float32Array][] = [];
      for (const k of this.family.stateKeys) {
        const a = s[k];
        if (a === undefined) continue;
        if (!(a instanceof Float32Array)) throw new TypeError(`${where}.${k}: expected a Float32Array, got ${describe(a)}`);
        if (a.length !== p.size) throw new ShapeError(`${where}.${k}: expected ${p.size} elements (parameter shape ${fmtShape(p.shape)}), got ${a.length}`);
        const c = finiteFloat32Copy(a, p.size, `${where}.${k}`);
        if (k === 'expAvgSq' || k === 'maxExpAvgSq') {
          for (let j = 0; j < c.length; j++) if (c[j]! < 0) throw new RangeError(`${where}.${k}[${j}]: expected a non-negative second moment, got ${c[j]}`);
        }
        bufs.push([k, c]);
      }
      this.checkLoadedState(s, newOpts[groupOf[i]!]!, where);
      loaded.set(p, { step: s.step, bufs });
    }
    // Checked: allocate the new state (all of it or none), then replace.
    const next = new Map<Tensor, LiveState>();
    try {
      for (const [p, { step, bufs }] of loaded) {
        const live: LiveState = { step };
        next.set(p, live);
        for (const [k, c] of bufs) { const t = p._be.zeros(p.shape); live[k] = t; t.data.set(c); }
      }
    } catch (e) {
      for (const s of next.values()) for (const k of STATE_KEYS) s[k]?.dispose();
      throw e;
    }
    this.freeState();
    newOpts.forEach((o, gi) => {
      const g = this.paramGroups[gi]! as Record<string, unknown>;
      delete g.initialLr;
      Object.assign(g, o);
      if (Array.isArray(g.betas)) g.betas = [...(g.betas as number[])];
    });
    for (const [p, live] of next) this.state.set(p, live);
  }

  /** Family-specific checks of a loaded parameter state against its group's options. */
  protected abstract checkLoadedState(s: ParamState, group: Required<O>, where: string): void;

  /** Frees every state tensor; the optimizer cannot be used afterwards. */
  dispose(): void {
    if (this._disposed) return;
    this.freeState();
    this._disposed = true;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean { return this._disposed; }

  private freeState(): void {
    for (const s of this.state.values()) for (const k of STATE_KEYS) s[k]?.dispose();
    this.state.clear();
  }

  private assertLive(what: string): void {
    if (this._disposed) throw new DisposedError(`${this.name}.${what}: the optimizer was disposed`);
  }
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', 'l1'] as const;
const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'l1'] as const;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum, coupled weight
 * decay and maximize (torch.optim.SGD), plus the proximal `l1` step. `lr` is required.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: SGDOptions) {
    super(params, options, SGD_FAMILY);
  }

  protected needs(o: Required<SGDOptions>): readonly StateKey[] {
    return o.momentum !== 0 ? MOMENTUM : NONE;
  }

  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<SGDOptions>, first: boolean): void {
    p._be._trusted.sgdStep(p, g, o.momentum !== 0 ? s.momentumBuffer! : null, o, first);
  }

  protected checkLoadedState(): void { /* a missing momentum buffer is re-made on the next step, as torch's None */ }
}

const NONE: readonly StateKey[] = [];
const MOMENTUM: readonly StateKey[] = ['momentumBuffer'];
const MOMENTS: readonly StateKey[] = ['expAvg', 'expAvgSq'];
const MOMENTS_MAX: readonly StateKey[] = ['expAvg', 'expAvgSq', 'maxExpAvgSq'];

const SGD_FAMILY: Family<SGDOptions> = {
  name: 'SGD',
  resolve: (input, d, where) => resolveSgd(input, d as Record<string, unknown>, where),
  optionKeys: SGD_KEYS,
  // torch 1.13's SGD.__setstate__ defaults nesterov and maximize; l1 is regula's own (0: off).
  requiredKeys: ['lr', 'momentum', 'dampening', 'weightDecay'],
  stateKeys: MOMENTUM,
};

/** The Adam and AdamW families: the same options, state and update but for the decay. */
function adamFamily(name: string, defaultDecay: number): Family<AdamOptions> {
  return {
    name,
    resolve: (input, d, where) => resolveAdam(input, d as Record<string, unknown>, where, defaultDecay) as Required<AdamOptions>,
    optionKeys: ADAM_KEYS,
    // torch 1.13's Adam/AdamW.__setstate__ default amsgrad and maximize; l1 is regula's own (0: off).
    requiredKeys: ['lr', 'betas', 'eps', 'weightDecay'],
    stateKeys: MOMENTS_MAX,
  };
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected needs(o: Required<AdamOptions>): readonly StateKey[] {
    return o.amsgrad ? MOMENTS_MAX : MOMENTS;
  }

  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<AdamOptions>): void {
    p._be._trusted.adamStep(p, g, s.expAvg!, s.expAvgSq!, o.amsgrad ? s.maxExpAvgSq! : null, o, this.decoupled, s.step + 1);
  }

  protected checkLoadedState(s: ParamState, o: Required<AdamOptions>, where: string): void {
    const has = [s.expAvg, s.expAvgSq].filter((a) => a !== undefined).length;
    if (has === 1) throw new RangeError(`${where}: expected both expAvg and expAvgSq or neither`);
    if (has === 2 && s.step < 1) throw new RangeError(`${where}.step: moments were saved, so expected step ≥ 1, got ${s.step}`);
    if (has === 0 && s.step > 0) throw new RangeError(`${where}: step is ${s.step} but expAvg and expAvgSq are missing`);
    if (o.amsgrad && has === 2 && s.maxExpAvgSq === undefined) throw new RangeError(`${where}: amsgrad is on but maxExpAvgSq is missing`);
  }
}

const ADAM_FAMILY = adamFamily('Adam', 0);
const ADAMW_FAMILY = adamFamily('AdamW', 0.01);

/** Adam with coupled L2 (`weightDecay` is added to the gradient), torch.optim.Adam. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options: AdamOptions = {}) {
    super(params, options, ADAM_FAMILY);
  }
}

/** AdamW: decoupled weight decay p ← p·(1 − lr·wd) before the Adam step, torch.optim.AdamW (default wd 0.01). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options: AdamOptions = {}) {
    super(params, options, ADAMW_FAMILY);
  }
}

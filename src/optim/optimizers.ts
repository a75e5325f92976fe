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
 * State dicts (their layout, and the checks of a loaded one) are in src/optim/state.ts.
 */
import { DisposedError, ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Tensor } from '../core/tensor.js';
import { backendOf } from '../backend.js';
import { hyper, resolveAdam, resolveSgd, sameShape } from '../rules/validate.js';
import { STATE_KEYS, checkOptionKeys, readStateDict, type Family, type OptimizerStateDict, type ParamState, type StateKey } from './state.js';

export type { OptimizerStateDict, ParamState } from './state.js';

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

interface LiveState {
  step: number;
  momentumBuffer?: Tensor;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
  maxExpAvgSq?: Tensor;
}

/** One parameter's update in a step, prepared (checked, state allocated) before any is applied. */
interface Work<O> { p: Tensor; g: Tensor; s: LiveState; o: Required<O>; first: boolean }

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
  /** @internal each parameter's live state (allocated at its first step). */
  protected readonly state = new Map<Tensor, LiveState>();
  private readonly owner = new Set<Tensor>();
  #disposed = false;
  protected readonly name: string;

  /** @internal the family (its options and state keys) is regula's own. */
  protected constructor(params: ParamsInput<O>, defaults: Partial<O>, private readonly family: Family<O>) {
    const name = this.name = family.name;
    if (defaults === null || typeof defaults !== 'object') throw new TypeError(`${name}: expected an options object, got ${describe(defaults)}`);
    checkOptionKeys(this.family, defaults as Record<string, unknown>, `${name} options`, false);
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

  private checkGroups(groups: Record<string, unknown>[], first: number, taken: ReadonlySet<Tensor>): ParamGroup<O>[] {
    const seen = new Set<Tensor>(taken);
    return groups.map((g, gi) => {
      const where = `${this.name} paramGroups[${first + gi}]`;
      if (g === null || typeof g !== 'object') throw new TypeError(`${where}: expected { params, ...options }, got ${describe(g)}`);
      checkOptionKeys(this.family, g, where, true);
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
          for (const key of need) if (s[key] === undefined) made.push((s[key] = backendOf(p).zeros(p.shape)));
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

  /** @internal The state buffers a step with options o uses (the first one's absence marks a first step). */
  protected abstract needs(o: Required<O>): readonly StateKey[];

  /** @internal The update of one parameter on the trusted kernels (everything checked, state allocated). */
  protected abstract update(p: Tensor, g: Tensor, s: LiveState, o: Required<O>, first: boolean): void;

  /** Sets every parameter's grad to zeros (torch 1.13's zero_grad(set_to_none=False)). */
  zeroGrad(): void {
    this.assertLive('zeroGrad()');
    for (const g of this.paramGroups) for (const p of g.params) if (p.grad !== null) backendOf(p).kernels.fill(p.grad, 0);
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
    const { opts: newOpts, loaded } = readStateDict(sd, this.family, this.paramGroups, (s, o, where) => this.checkLoadedState(s, o, where));
    // Checked: allocate the new state (all of it or none), then replace.
    const next = new Map<Tensor, LiveState>();
    try {
      for (const [p, { step, bufs }] of loaded) {
        const live: LiveState = { step };
        next.set(p, live);
        for (const [k, c] of bufs) { const t = backendOf(p).zeros(p.shape); live[k] = t; t.data.set(c); }
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
    if (this.#disposed) return;
    this.freeState();
    this.#disposed = true;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean { return this.#disposed; }

  private freeState(): void {
    for (const s of this.state.values()) for (const k of STATE_KEYS) s[k]?.dispose();
    this.state.clear();
  }

  private assertLive(what: string): void {
    if (this.#disposed) throw new DisposedError(`${this.name}.${what}: the optimizer was disposed`);
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

  /** @internal */
  protected needs(o: Required<SGDOptions>): readonly StateKey[] {
    return o.momentum !== 0 ? MOMENTUM : NONE;
  }

  /** @internal */
  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<SGDOptions>, first: boolean): void {
    backendOf(p)._trusted.sgdStep(p, g, o.momentum !== 0 ? s.momentumBuffer! : null, o, first);
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

  /** @internal */
  protected needs(o: Required<AdamOptions>): readonly StateKey[] {
    return o.amsgrad ? MOMENTS_MAX : MOMENTS;
  }

  /** @internal */
  protected update(p: Tensor, g: Tensor, s: LiveState, o: Required<AdamOptions>): void {
    backendOf(p)._trusted.adamStep(p, g, s.expAvg!, s.expAvgSq!, o.amsgrad ? s.maxExpAvgSq! : null, o, this.decoupled, s.step + 1);
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

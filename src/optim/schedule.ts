/**
 * Learning-rate schedules with torch.optim.lr_scheduler semantics: the constructor takes
 * its initial step (epoch 0), each `step()` advances one epoch (or one iteration, if you
 * call it per batch) and writes the new rate into every parameter group's `lr`. The rates
 * follow torch's chainable (recursive) forms, so schedules compose as in torch.
 *
 * Weight decay follows the rate as it does in torch: the kernels read `lr` from the group
 * at each step, so AdamW's decoupled shrink is 1 − lr_t·wd and SGD's coupled decay enters
 * through lr_t·(g + wd·p).
 */
import { describe } from '../rules/errors.js';
import { Optimizer } from './optimizers.js';
import { checkNumber, optionsOf } from '../rules/validate.js';

/** Any optimizer a schedule can drive: one whose parameter groups have an `lr` (SGD, Adam, AdamW). */
export type AnyOptimizer = Optimizer<{ lr?: number }>;

/** Options of each schedule (each a compiler-checked key list in its constructor: unknown keys are refused). */
export interface StepLROptions { stepSize: number; gamma?: number }
export interface ExponentialLROptions { gamma: number }
export interface CosineAnnealingLROptions { tMax: number; etaMin?: number }
export interface LinearLROptions { startFactor?: number; endFactor?: number; totalIters?: number }
export interface LinearWarmupOptions { steps: number; startFactor?: number }
export interface WarmupCosineLROptions { warmupIters: number; decayIters: number; minLr: number }

/** A schedule's position: its epoch and the rates it last set (one per parameter group). */
export interface SchedulerStateDict {
  lastEpoch: number;
  lastLr: number[];
  /** SequentialLR: its schedules' states, in order. */
  schedulers?: SchedulerStateDict[];
}

function checkInt(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RangeError(`${what}: expected an integer ≥ ${min}, got ${describe(v)}`);
  return v;
}

/** The base of every schedule: base rates, the epoch counter, the last rates. */
export abstract class LRScheduler {
  /** Epochs (or iterations) taken; 0 after construction. */
  lastEpoch = -1;
  /** The groups' rates when the first schedule was attached (torch's base_lrs). */
  readonly baseLrs: number[];
  protected lastLr: number[] = [];

  protected constructor(readonly optimizer: AnyOptimizer, protected readonly name: string) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: expected an optimizer (optim.SGD, Adam or AdamW), got ${describe(optimizer)}`);
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** Subclasses call this last in their constructor: torch's _initial_step. */
  protected initialStep(): void {
    this.step();
  }

  /** The rates for `lastEpoch` from the groups' current rates (torch's get_lr). */
  protected abstract getLr(): number[];

  /** The closed form at `lastEpoch` from the base rates (torch's _get_closed_form_lr). */
  abstract closedForm(epoch: number): number[];

  /** Advances one epoch and writes the new rates into the groups. */
  step(): void {
    this.lastEpoch++;
    this.apply(this.getLr());
  }

  /** @internal restart at epoch 0 from the base rates (SequentialLR at a milestone: torch's step(0)). */
  _restart(): void {
    this.lastEpoch = 0;
    this.apply(this.closedForm(0));
  }

  private apply(lrs: number[]): void {
    const groups = this.optimizer.paramGroups;
    if (lrs.length !== groups.length) throw new RangeError(`${this.name}: the optimizer has ${groups.length} parameter groups, the schedule was made for ${lrs.length}`);
    lrs.forEach((lr, i) => { groups[i]!.lr = lr; });
    this.lastLr = lrs.slice();
  }

  /** The epoch and the last rates (torch's state_dict(): what a checkpoint needs to resume the schedule). */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, lastLr: this.lastLr.slice() };
  }

  /**
   * Resumes at a saved epoch: `lastEpoch` and `lastLr` as stateDict() gave them (checked
   * before anything changes), and the rates written into the groups, as the step that
   * set them did. Load the optimizer's state first (it carries the groups' rates too).
   */
  loadStateDict(sd: SchedulerStateDict): void {
    this.prepareLoad(sd)();
  }

  /** @internal Checks a saved state and returns what applies it (so a composite checks all before it changes any). */
  prepareLoad(sd: SchedulerStateDict): () => void {
    if (sd === null || typeof sd !== 'object') throw new TypeError(`${this.name}.loadStateDict: expected { lastEpoch, lastLr }, got ${describe(sd)}`);
    const epoch = checkInt(sd.lastEpoch, `${this.name}.loadStateDict lastEpoch`, 0);
    const groups = this.optimizer.paramGroups.length;
    if (!Array.isArray(sd.lastLr) || sd.lastLr.length !== groups) throw new RangeError(`${this.name}.loadStateDict lastLr: expected ${groups} rates (one per parameter group), got ${describe(sd.lastLr)}`);
    const lrs = sd.lastLr.map((v, i) => checkNumber(v, `${this.name}.loadStateDict lastLr[${i}]`, { min: 0 }));
    return () => {
      this.lastEpoch = epoch;
      this.apply(lrs);
    };
  }

  /** The rates set by the last step (torch's get_last_lr()). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  protected get groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** lr = base·gamma^⌊epoch / stepSize⌋ (torch StepLR; gamma default 0.1). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    // options checked before super(), which records the groups' initial rates
    const o = optionsOf<StepLROptions>(options, { stepSize: true, gamma: true }, 'StepLR');
    const stepSize = checkInt(o.stepSize, 'StepLR stepSize', 1);
    const gamma = checkNumber(o.gamma ?? 0.1, 'StepLR gamma', { min: 0 });
    super(optimizer, 'StepLR');
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }

  closedForm(epoch: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

/** lr = base·gamma^epoch (torch ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    const o = optionsOf<ExponentialLROptions>(options, { gamma: true }, 'ExponentialLR');
    const gamma = checkNumber(o.gamma, 'ExponentialLR gamma', { min: 0 });
    super(optimizer, 'ExponentialLR');
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }

  closedForm(epoch: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** epoch);
  }
}

/**
 * lr = etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2 (torch CosineAnnealingLR,
 * computed recursively as torch does; past tMax it rises again, as torch's does).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    const o = optionsOf<CosineAnnealingLROptions>(options, { tMax: true, etaMin: true }, 'CosineAnnealingLR');
    const tMax = checkInt(o.tMax, 'CosineAnnealingLR tMax', 1);
    const etaMin = checkNumber(o.etaMin ?? 0, 'CosineAnnealingLR etaMin', { min: 0 });
    super(optimizer, 'CosineAnnealingLR');
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const e = this.lastEpoch, T = this.tMax, lo = this.etaMin;
    const lrs = this.groupLrs;
    if (e === 0) return lrs;
    if ((e - 1 - T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + (this.baseLrs[i]! - lo) * (1 - Math.cos(Math.PI / T)) / 2);
    }
    return lrs.map((lr) => (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (lr - lo) + lo);
  }

  closedForm(epoch: number): number[] {
    return this.baseLrs.map((b) => this.etaMin + (b - this.etaMin) * (1 + Math.cos(Math.PI * epoch / this.tMax)) / 2);
  }
}

/**
 * nanoGPT's learning-rate rule (karpathy/nanoGPT train.py `get_lr`), per group with base
 * rate lr: at iteration it (the epoch: 0 after construction, +1 per step())
 *   it < warmupIters:           lr·(it + 1)/(warmupIters + 1)           (linear warm-up)
 *   it > decayIters:            minLr                                    (held, not rising again)
 *   otherwise:                  minLr + ½(1 + cos(π·r))·(lr − minLr),  r = (it − warmupIters)/(decayIters − warmupIters)
 * computed in float64 in that order. Unlike CosineAnnealingLR (whose rate rises again after
 * tMax, as torch's does) it stays at minLr. nanoGPT sets the rate before each iteration's
 * step: construct it, then call opt.step() and sched.step() in that order every iteration.
 */
export class WarmupCosineLR extends LRScheduler {
  readonly warmupIters: number;
  readonly decayIters: number;
  readonly minLr: number;
  constructor(optimizer: AnyOptimizer, options: WarmupCosineLROptions) {
    // options checked before super(), which records the groups' initial rates
    const o = optionsOf<WarmupCosineLROptions>(options, { warmupIters: true, decayIters: true, minLr: true }, 'WarmupCosineLR');
    const warmupIters = checkInt(o.warmupIters, 'WarmupCosineLR warmupIters', 0);
    const decayIters = checkInt(o.decayIters, 'WarmupCosineLR decayIters', warmupIters + 1);
    const minLr = checkNumber(o.minLr, 'WarmupCosineLR minLr', { min: 0 });
    super(optimizer, 'WarmupCosineLR');
    this.warmupIters = warmupIters;
    this.decayIters = decayIters;
    this.minLr = minLr;
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.closedForm(this.lastEpoch);
  }

  closedForm(epoch: number): number[] {
    const w = this.warmupIters, d = this.decayIters, lo = this.minLr;
    return this.baseLrs.map((lr) => {
      if (epoch < w) return lr * (epoch + 1) / (w + 1);
      if (epoch > d) return lo;
      const coeff = 0.5 * (1.0 + Math.cos(Math.PI * ((epoch - w) / (d - w))));
      return lo + coeff * (lr - lo);
    });
  }
}

/**
 * The rate's factor goes linearly from startFactor to endFactor over totalIters steps,
 * then stays (torch LinearLR; defaults 1/3, 1, 5). Linear warm-up: startFactor small,
 * endFactor 1.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    const o = optionsOf<LinearLROptions>(options, { startFactor: true, endFactor: true, totalIters: true }, 'LinearLR');
    const startFactor = checkNumber(o.startFactor ?? 1 / 3, 'LinearLR startFactor', { min: 0, max: 1, minExclusive: true });
    const endFactor = checkNumber(o.endFactor ?? 1, 'LinearLR endFactor', { min: 0, max: 1 });
    const totalIters = checkInt(o.totalIters ?? 5, 'LinearLR totalIters', 1);
    super(optimizer, 'LinearLR');
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected getLr(): number[] {
    const e = this.lastEpoch, s = this.startFactor, t = this.endFactor, n = this.totalIters;
    if (e === 0) return this.groupLrs.map((lr) => lr * s);
    if (e > n) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * (1 + (t - s) / (n * s + (e - 1) * (t - s))));
  }

  closedForm(epoch: number): number[] {
    const s = this.startFactor, t = this.endFactor, n = this.totalIters;
    return this.baseLrs.map((b) => b * (s + (t - s) * Math.min(n, epoch) / n));
  }
}

/**
 * Linear warm-up over `steps` steps from startFactor·lr to lr: LinearLR with endFactor 1
 * and totalIters = steps (startFactor default 0.01; torch needs it > 0).
 */
export class LinearWarmup extends LinearLR {
  constructor(optimizer: AnyOptimizer, options: LinearWarmupOptions) {
    const o = optionsOf<LinearWarmupOptions>(options, { steps: true, startFactor: true }, 'LinearWarmup');
    super(optimizer, { startFactor: o.startFactor ?? 0.01, endFactor: 1, totalIters: checkInt(o.steps, 'LinearWarmup steps', 1) });
  }
}

/**
 * Runs schedules one after the other: schedulers[i] takes over at milestones[i−1] and
 * restarts from epoch 0 (torch SequentialLR), e.g. LinearWarmup then CosineAnnealingLR.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  constructor(optimizer: AnyOptimizer, schedulers: LRScheduler[], milestones: number[]) {
    super(optimizer, 'SequentialLR');
    if (!Array.isArray(schedulers) || schedulers.length < 1) throw new TypeError(`SequentialLR: expected a non-empty array of schedules, got ${describe(schedulers)}`);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new TypeError(`SequentialLR schedulers[${i}]: expected a schedule, got ${describe(s)}`);
      if (s.optimizer !== optimizer) throw new TypeError(`SequentialLR schedulers[${i}]: made for another optimizer`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(`SequentialLR: expected ${schedulers.length - 1} milestones (one fewer than schedules), got ${describe(milestones)}`);
    }
    milestones.forEach((m, i) => {
      checkInt(m, `SequentialLR milestones[${i}]`, 1);
      if (i > 0 && m <= milestones[i - 1]!) throw new RangeError(`SequentialLR milestones: expected increasing values, got ${milestones.join(', ')}`);
    });
    this.schedulers = schedulers.slice();
    this.milestones = milestones.slice();
    // As torch: undo the children's initial steps, reset the rates, then take the first one's.
    optimizer.paramGroups.forEach((g) => { g.lr = g.initialLr!; });
    for (const s of this.schedulers) s.lastEpoch--;
    this.lastEpoch = 0;
    this.schedulers[0]!.step();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  override step(): void {
    this.lastEpoch++;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx]! <= this.lastEpoch) idx++;
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s._restart();
    else s.step();
    this.lastLr = s.getLastLr();
  }

  protected getLr(): number[] { return this.groupLrs; }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** @internal Checks its own state and every schedule's before any changes; applies the schedules', then its own. */
  override prepareLoad(sd: SchedulerStateDict): () => void {
    const own = super.prepareLoad(sd);
    const children = sd.schedulers;
    if (!Array.isArray(children) || children.length !== this.schedulers.length) {
      throw new RangeError(`SequentialLR.loadStateDict schedulers: expected the states of ${this.schedulers.length} schedules, got ${describe(children)}`);
    }
    const loads = this.schedulers.map((s, i) => s.prepareLoad(children[i]!));
    return () => { for (const l of loads) l(); own(); };
  }

  closedForm(epoch: number): number[] {
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx]! <= epoch) idx++;
    return this.schedulers[idx]!.closedForm(idx === 0 ? epoch : epoch - this.milestones[idx - 1]!);
  }
}

/**
 * Optimizer state dicts: their layout (torch's, camelCase), and the reading of an untrusted
 * one (`readStateDict`): every rule checked and every buffer copied out before the optimizer
 * (src/optim/optimizers.ts) allocates or changes anything. Also the option-key rule that the
 * optimizers' constructors share with it.
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import type { Tensor } from '../core/tensor.js';
import { checkKeys, finiteFloat32Copy, hyper } from '../rules/validate.js';

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

/** @internal The names of the state buffers an optimizer may keep. */
export type StateKey = 'momentumBuffer' | 'expAvg' | 'expAvgSq' | 'maxExpAvgSq';
/** @internal Every state buffer name, in stateDict() order. */
export const STATE_KEYS: readonly StateKey[] = ['momentumBuffer', 'expAvg', 'expAvgSq', 'maxExpAvgSq'];

/** @internal Hyperparameter checks of one optimizer family, naming the group and the option. */
export type Resolver<O> = (input: Record<string, unknown>, defaults: Partial<O>, where: string) => Required<O>;

/** @internal What describes one optimizer family to the shared machinery. */
export interface Family<O> {
  name: string;
  resolve: Resolver<O>;
  /** Every option, in order. */
  optionKeys: readonly string[];
  /** The options a saved group must give (the others default as torch's __setstate__ defaults them). */
  requiredKeys: readonly string[];
  /** The state buffers this family keeps. */
  stateKeys: readonly StateKey[];
}

/** The largest step count a loaded state may hold: the next step must still count exactly. */
const MAX_STEP = Number.MAX_SAFE_INTEGER - 1;

/** A state dict's parameter index: "0", "1", ... (no sign, no leading zero, no spaces). */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** @internal Every key of o is an option of the family (or, in a group, `params` / `initialLr`): a TypeError naming it otherwise. */
export function checkOptionKeys(family: Family<unknown>, o: Record<string, unknown>, where: string, allowParams: boolean): void {
  checkKeys(o, allowParams ? [...family.optionKeys, 'params', 'initialLr'] : family.optionKeys, where);
}

/** @internal A parameter's loaded state, checked and copied out of the input. */
export interface LoadedState { step: number; bufs: [StateKey, Float32Array][] }

/**
 * @internal Reads an untrusted state dict for an optimizer of `family` with parameter groups
 * `groups` (see Optimizer.loadStateDict for the rules): the groups' new options and each
 * parameter's state, all checked and copied, or a typed error; nothing is allocated.
 * `checkLoaded` adds the family's own checks of a parameter's state against its options.
 */
export function readStateDict<O>(sd: OptimizerStateDict<O>, family: Family<O>, groups: readonly { readonly params: readonly Tensor[] }[],
  checkLoaded: (s: ParamState, o: Required<O>, where: string) => void): { opts: (Required<O> & { initialLr?: number })[]; loaded: Map<Tensor, LoadedState> } {
  const what = `${family.name}.loadStateDict`;
  if (sd === null || typeof sd !== 'object') throw new TypeError(`${what}: expected { state, paramGroups }, got ${describe(sd)}`);
  if (Object.hasOwn(sd, 'param_groups')) {
    throw new TypeError(`${what}: this is torch's layout (param_groups, exp_avg, weight_decay); regula's is { state, paramGroups } ` +
      'with camelCase keys (expAvg, expAvgSq, maxExpAvgSq, momentumBuffer, weightDecay, initialLr): rename the keys to load it');
  }
  const { state, paramGroups } = sd;
  if (!Array.isArray(paramGroups)) throw new TypeError(`${what}: expected paramGroups as an array, got ${describe(paramGroups)}`);
  if (state === null || typeof state !== 'object') throw new TypeError(`${what}: expected state as an object keyed by parameter index, got ${describe(state)}`);
  if (paramGroups.length !== groups.length) {
    throw new ShapeError(`${what}: the state has ${paramGroups.length} parameter groups, this optimizer has ${groups.length}`);
  }
  const flat: Tensor[] = [];
  const groupOf: number[] = [];
  const newOpts: (Required<O> & { initialLr?: number })[] = [];
  paramGroups.forEach((sg, gi) => {
    const where = `${what} paramGroups[${gi}]`;
    const mine = groups[gi]!;
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
    checkOptionKeys(family, opts, where, true);
    for (const k of family.requiredKeys) {
      if (opts[k] === undefined) {
        throw new TypeError(`${where}: missing ${k}; a saved group gives every option (only ${family.optionKeys.filter((o) => !family.requiredKeys.includes(o)).join(', ')} ` +
          'may be left out, and then take torch\'s defaults: false, and l1 0)');
      }
    }
    const r = family.resolve(opts, {}, where) as Required<O> & { initialLr?: number };
    if (opts.initialLr !== undefined) r.initialLr = hyper.lr(opts.initialLr, `${where}.initialLr`);
    newOpts.push(r);
  });
  // Checked and copied out of the input before anything is allocated (an allocation may
  // grow the Wasm memory and detach views the input holds into it).
  const loaded = new Map<Tensor, LoadedState>();
  for (const key of Object.keys(state)) {
    const where = `${what} state[${key}]`;
    if (!INDEX_KEY.test(key)) throw new RangeError(`${what} state: expected keys that are parameter indices ("0", "1", ...), got ${JSON.stringify(key)}`);
    const i = Number(key);
    if (i >= flat.length) throw new RangeError(`${where}: expected a parameter index in [0, ${flat.length - 1}]`);
    const p = flat[i]!;
    const s = (state as Record<string, ParamState>)[key]!;
    if (s === null || typeof s !== 'object') throw new TypeError(`${where}: expected { step, ...buffers }, got ${describe(s)}`);
    for (const k of Object.keys(s)) {
      if (k !== 'step' && !family.stateKeys.includes(k as StateKey)) throw new TypeError(`${where}: unknown entry ${JSON.stringify(k)}; ${family.name} keeps step, ${family.stateKeys.join(', ')}`);
    }
    if (typeof s.step !== 'number' || !Number.isSafeInteger(s.step) || s.step < 0 || s.step > MAX_STEP) {
      throw new RangeError(`${where}.step: expected a non-negative integer ≤ 2^53 − 2 (the next step must count exactly), got ${describe(s.step)}`);
    }
    const bufs: [StateKey, Float32Array][] = [];
    for (const k of family.stateKeys) {
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
    checkLoaded(s, newOpts[groupOf[i]!]!, where);
    loaded.set(p, { step: s.step, bufs });
  }
  return { opts: newOpts, loaded };
}

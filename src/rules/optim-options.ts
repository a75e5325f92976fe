/**
 * The optimizers' options, defined once: the public SGDOptions / AdamOptions (re-exported by
 * src/optim/optimizers.ts), their compiler-checked key lists, the resolved forms the
 * trusted path takes (SgdHyper, AdamHyper: every option present and checked) and the
 * resolvers that check them (as torch.optim checks them, plus finiteness). The checked
 * kernels' sgdStep / adamStep options extend these.
 */
import { checkBool, hyper, type Keys } from './validate.js';

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

/** SGD's option keys (the compiler keeps them in step with SGDOptions). */
export const SGD_KEYS: Keys<SGDOptions> = { lr: 'required', momentum: true, dampening: true, weightDecay: true, nesterov: true, maximize: true, l1: true };
/** Adam's / AdamW's option keys. */
export const ADAM_KEYS: Keys<AdamOptions> = { lr: true, betas: true, eps: true, weightDecay: true, amsgrad: true, maximize: true, l1: true };

/** Resolved SGD options (every option present and valid). */
export type SgdHyper = Required<SGDOptions>;

/** Resolved Adam / AdamW options (every option present and valid). */
export type AdamHyper = Required<Omit<AdamOptions, 'betas'>> & { betas: readonly [number, number] | [number, number] };

/** input[key], else defaults[key], else fallback (a group's option, the optimizer's default, torch's default). */
function pick(input: Record<string, unknown>, defaults: Record<string, unknown>, key: string, fallback: unknown): unknown {
  if (input[key] !== undefined) return input[key];
  if (defaults[key] !== undefined) return defaults[key];
  return fallback;
}

/** SGD's options from `input` over `defaults`, every one checked (messages start with `where`); lr has no default. */
export function resolveSgd(input: Record<string, unknown>, defaults: Record<string, unknown>, where: string): SgdHyper {
  const lrRaw = pick(input, defaults, 'lr', undefined);
  if (lrRaw === undefined) throw new TypeError(`${where}: lr (learning rate) is required for SGD; give it in the options or in this group`);
  const lr = hyper.lr(lrRaw, `${where}: lr`);
  const momentum = hyper.momentum(pick(input, defaults, 'momentum', 0), `${where}: momentum`);
  const dampening = hyper.dampening(pick(input, defaults, 'dampening', 0), `${where}: dampening`);
  const weightDecay = hyper.weightDecay(pick(input, defaults, 'weightDecay', 0), `${where}: weightDecay`);
  const nesterov = checkBool(pick(input, defaults, 'nesterov', false), `${where}: nesterov`);
  const maximize = checkBool(pick(input, defaults, 'maximize', false), `${where}: maximize`);
  const l1 = hyper.l1(pick(input, defaults, 'l1', 0), `${where}: l1`);
  hyper.nesterov(nesterov, momentum, dampening, `${where}: nesterov`);
  return { lr, momentum, dampening, weightDecay, nesterov, maximize, l1 };
}

/** Adam's / AdamW's options from `input` over `defaults`, every one checked; weightDecay defaults to `defaultDecay`. */
export function resolveAdam(input: Record<string, unknown>, defaults: Record<string, unknown>, where: string, defaultDecay: number): AdamHyper {
  const lr = hyper.lr(pick(input, defaults, 'lr', 1e-3), `${where}: lr`);
  const betas = hyper.betas(pick(input, defaults, 'betas', [0.9, 0.999]), `${where}: betas`);
  const eps = hyper.eps(pick(input, defaults, 'eps', 1e-8), `${where}: eps`);
  const weightDecay = hyper.weightDecay(pick(input, defaults, 'weightDecay', defaultDecay), `${where}: weightDecay`);
  const amsgrad = checkBool(pick(input, defaults, 'amsgrad', false), `${where}: amsgrad`);
  const maximize = checkBool(pick(input, defaults, 'maximize', false), `${where}: maximize`);
  const l1 = hyper.l1(pick(input, defaults, 'l1', 0), `${where}: l1`);
  return { lr, betas, eps, weightDecay, amsgrad, maximize, l1 };
}

/**
 * What the host running the portable suites provides beyond their own code. The suites
 * (bench/*.bench.ts that the demo's benchmark page runs too) ask here for the f32x4 ceiling
 * loop and for their peers, so that nothing Node-only is imported by a file the page
 * bundles: bench/node-host.ts provides Node's (the ceiling compiled by asc, tfjs-backend-wasm,
 * PyTorch), the page's worker its own (the same ceiling binary, compiled at build time; no
 * peers). Browser-safe: type imports only.
 */
import type { Case } from './harness.js';
import type { Peak } from './peak-loop.js';
import type { TorchServer } from './torch.js';

export interface Host {
  /** bench/peak-loop.ts's f32x4 mul+add loop, instantiated. */
  peak: () => Promise<Peak>;
  /** tfjs-backend-wasm (one thread), when this host has it. */
  tfjs?: () => Promise<typeof import('@tensorflow/tfjs-core')>;
  /** tfjs-layers (registers tfjs-core's gradients too), when this host has it. */
  tfjsLayers?: () => Promise<typeof import('@tensorflow/tfjs-layers')>;
  /** PyTorch served by a Python script (bench/torch.ts): null when python3 does not import torch (then `missing` says so). */
  torch?: () => TorchPeer | null;
}

export interface TorchPeer {
  server: (script: string, threads: number, args?: readonly string[]) => Promise<TorchServer>;
  case: (server: TorchServer, script: string, name: string, index: number, steps: number, ratio: number) => Case;
}

/** The PyTorch peer and its servers for `threads` (1 and 2) running `script`, or [] (saying why on `warn`) when there is none. */
export async function torchServers(script: string, args: readonly string[] = [], warn: (m: string) => void = () => {}): Promise<{ t: number; server: TorchServer; peer: TorchPeer }[]> {
  const peer = current?.torch?.() ?? null;
  if (peer === null) {
    if (current?.torch !== undefined) warn(`${script}: python3 with torch not found (Debian: apt-get install python3-torch); PyTorch cases skipped`);
    return [];
  }
  return Promise.all([1, 2].map(async (t) => ({ t, server: await peer.server(script, t, args), peer })));
}

let current: Host | null = null;

export function setHost(h: Host): void {
  current = h;
}

export function host(): Host {
  if (current === null) throw new Error('bench: no host set: Node scripts import bench/node-host.js first (bench/run.ts does), the page sets its own');
  return current;
}

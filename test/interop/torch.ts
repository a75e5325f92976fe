/**
 * Helpers of the PyTorch round trips: run examples/torch/regula_torch.py (check, and DDP
 * training under torchrun) on safetensors files. Used by test/interop/ and the demo's browser test.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env['PYTHON'] ?? '/usr/bin/python3';
const TORCHRUN = process.env['TORCHRUN'] ?? '/usr/bin/torchrun';
const SCRIPT = fileURLToPath(new URL('../../examples/torch/regula_torch.py', import.meta.url));
export const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false';
export const HAVE_TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
export const TOL = 1e-5;

/** Runs a command; its output goes to the test log; throws with the output when it fails. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${out}`);
  return out;
}

/** PyTorch's logits on the check input of `data` agree with regula's there: max |Δ| from the script. */
export function torchCheck(model: string, data: string): number {
  const out = run(PYTHON, [SCRIPT, 'check', model, data, '--tol', String(TOL)]);
  return (JSON.parse(out.trim().split('\n').pop()!) as { max_abs_diff: number }).max_abs_diff;
}

/** Text PyTorch writes with a regula GPT file (regula_torch.py sample): temperature 0 is greedy. */
export function torchSample(model: string, o: { prompt: string; chars: number; temperature: number; seed?: number }): { text: string; minTop2Margin: number } {
  const out = run(PYTHON, [SCRIPT, 'sample', model, '--prompt', o.prompt, '--chars', String(o.chars), '--temperature', String(o.temperature), '--seed', String(o.seed ?? 1337)]);
  const r = JSON.parse(out.trim().split('\n').pop()!) as { text: string; min_top2_margin: number };
  return { text: r.text, minTop2Margin: r.min_top2_margin };
}

/** Two-process DDP training; returns the path of the weights PyTorch wrote and of its logits on the check input. */
export function torchTrain(dir: string, model: string, data: string, steps: number): { out: string; logits: string; log: string } {
  const out = join(dir, 'torch.safetensors'), logits = join(dir, 'torch-logits.safetensors');
  // `--redirects 1 --tee 1`: Debian's torch 1.13 on Python 3.11 cannot parse torchrun's default
  // "0" (3.11's IntFlag iteration skips the zero member, so Std.from_str returns None)
  const log = run(TORCHRUN, ['--standalone', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', SCRIPT, 'train', model, data, out, '--logits', logits, '--steps', String(steps)]);
  return { out, logits, log };
}


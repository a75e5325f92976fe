/**
 * Node's f32x4 ceiling loop (bench/peak-loop.ts, where the loop and its notes are): compiled
 * at bench time from PEAK_SOURCE with asc (a devDependency).
 */
import asc from 'assemblyscript/asc';
import { PEAK_ASC_OPTIONS, PEAK_SOURCE, instantiatePeak, type Peak } from './peak-loop.js';

export { PEAK_FLOP_PER_ITER } from './peak-loop.js';

/** PEAK_SOURCE compiled (the page's build embeds the same bytes: vite.config.ts). */
export async function compilePeak(): Promise<Uint8Array<ArrayBuffer>> {
  const r = await asc.compileString({ 'peak.ts': PEAK_SOURCE }, { ...PEAK_ASC_OPTIONS, enable: [...PEAK_ASC_OPTIONS.enable] });
  if (r.binary === null || r.error) throw new Error(`bench/peak.ts: asc failed: ${r.error?.message ?? ''} ${r.stderr.toString()}`);
  return new Uint8Array(r.binary);
}

/** peak(n, s) runs n iterations of the loop. */
export async function loadPeak(): Promise<Peak> {
  return instantiatePeak(await compilePeak());
}

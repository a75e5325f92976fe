/**
 * Issue 20 item 9 at the scale: a 98 MB header of nested '[' and a valid 99 MB header
 * of 6.7M metadata keys are refused by safetensors.load in a child Node whose V8 heap is
 * capped at 256 MB (the old code took 5.1 GB and aborted under 3000 MB). Memory, not time:
 * the child reports its peak heap and RSS, and must exit normally.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `build` (JS source of an expression giving the file's bytes) through load in a child capped at 256 MB of heap. */
function loadInChild(build: string): { rule: string | null; message: string; heapUsed: number; rss: number } {
  const script = `
    import { safetensors } from './src/index.ts';
    const bytes = ${build};
    let rule = null, message = '';
    try { safetensors.load(bytes); } catch (e) { rule = e.rule ?? null; message = String(e); }
    const heapUsed = process.memoryUsage().heapUsed;
    console.log(JSON.stringify({ rule, message, heapUsed, rss: process.resourceUsage().maxRSS * 1024 }));`;
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8', timeout: 300_000 });
  expect(r.error, r.stderr).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** JS source: a safetensors file whose header is the bytes of `header` (a JS expression giving a Uint8Array). */
const fileOf = (header: string) => `(() => {
  const h = ${header};
  const out = new Uint8Array(8 + h.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
})()`;

describe('safetensors headers at the issue\'s scale, in a child with a 256 MB heap', () => {
  it('a 98 MB header of nested [ (valid JSON: {"a":[[[…]]]}) is refused under "header depth" without growing the heap', () => {
    const r = loadInChild(fileOf(`(() => { const k = 48_999_997, h = new Uint8Array(2 * k + 6); h.set(new TextEncoder().encode('{"a":')); h.fill(0x5b, 5, 5 + k); h.fill(0x5d, 5 + k, 5 + 2 * k); h[5 + 2 * k] = 0x7d; return h; })()`));
    expect(r.rule).toBe('header depth');
    expect(r.heapUsed).toBeLessThan(64 * 2 ** 20);
    expect(r.rss).toBeLessThan(1024 * 2 ** 20); // the 98 MB file twice (built, then copied into the file) and Node itself
  });

  it('a valid 94 MB header of 6.7M metadata keys is refused under "metadata count" without growing the heap', () => {
    // built as bytes (not strings: the child's heap is capped): '"kxxxxx":"v",' is 14 bytes a key, xxxxx base 36
    const r = loadInChild(fileOf(`(() => {
      const n = 6_700_000, head = new TextEncoder().encode('{"__metadata__":{'), h = new Uint8Array(head.length + 14 * n + 1);
      h.set(head);
      let at = head.length;
      for (let i = 0; i < n; i++) {
        h[at++] = 0x22; h[at++] = 0x6b; h[at++] = 0x6b;
        for (let d = 36 ** 4; d >= 1; d /= 36) { const x = (i / d | 0) % 36; h[at++] = x < 10 ? 0x30 + x : 0x57 + x; }
        h[at++] = 0x22; h[at++] = 0x3a; h[at++] = 0x22; h[at++] = 0x76; h[at++] = 0x22; h[at++] = i + 1 < n ? 0x2c : 0x7d;
      }
      h[at++] = 0x7d;
      return h.subarray(0, at);
    })()`));
    expect(r.rule).toBe('metadata count');
    expect(r.message).toMatch(/more than 65536 keys/);
    expect(r.heapUsed).toBeLessThan(64 * 2 ** 20);
  });
});

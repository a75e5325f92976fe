// Embedding lookup and its scatter-add backward. Contracts: src/backend/raw.ts.

/** out row i = weight row ids[i], i in 0..n−1 (rows of `cols` floats). */
export function embedding(out: usize, weight: usize, ids: usize, n: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const b4 = (<usize>cols & ~3) << 2;
  for (let i = 0; i < n; i++, out += rowBytes) {
    const w = weight + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes;
    let o: usize = 0;
    for (; o < b4; o += 16) v128.store(out + o, v128.load(w + o));
    for (; o < rowBytes; o += 4) store<f32>(out + o, load<f32>(w + o));
  }
}

/**
 * dweight row ids[i] += g row i, i in order 0..n−1 (so repeated ids add in index order):
 * dweight_j = f32(dweight_j + g_j).
 */
export function embeddingBackward(dweight: usize, g: usize, ids: usize, n: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const b4 = (<usize>cols & ~3) << 2;
  for (let i = 0; i < n; i++, g += rowBytes) {
    const w = dweight + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes;
    let o: usize = 0;
    for (; o < b4; o += 16) v128.store(w + o, f32x4.add(v128.load(w + o), v128.load(g + o)));
    for (; o < rowBytes; o += 4) store<f32>(w + o, load<f32>(w + o) + load<f32>(g + o));
  }
}

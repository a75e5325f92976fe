// matmul kernels: see src/backend/raw.ts for the contract of each export.
//
// Design (GotoBLAS-style, single thread): K is cut into blocks of KC; for each K block all
// of op(b) is packed into 8-column panels (kept in L2), then for each 4 rows of op(a)
// those rows are packed into one micro-panel (each value stored four times, pre-broadcast
// for the f32x4 lanes; 16 KiB at KC = 256, kept in L1) and a 4×8 register tile (8 f32x4
// accumulators) runs it against every panel. The accumulators start from C — the values
// in `out` (or zero for the first K block without accumulate) — and add the products in
// p order, so every output sees s = f32(s + f32(a·b)) for p = 0..k-1 in order: exactly
// the scalar loop of the js backend, hence the same bits. Adding C at the end instead
// would change the rounding.
//
// Threads (src/backend/wasm/matmul.ts): matmulPackB packs disjoint panel ranges of op(b)
// for all K blocks into one shared buffer, then for each K block in order
// matmulBlockPacked runs blocks of output rows over it, each thread with its own A
// scratch and edge staging. Rows only, never k:
// every output keeps the order above, so any thread count gives the same bits.
//
// The block sizes are mirrored in src/backend/wasm/matmul.ts, which sizes the scratch.

/**
 * K block: the A micro-panel (4 rows pre-broadcast, 16 KiB) stays in L1 while the packed
 * B of the block (8·KC floats per panel, 256 KiB at n = 256) streams from L2.
 */
const KC: i32 = 256;

/** KC, for the JS glue that sizes the packing scratch (src/backend/wasm/matmul.ts): one value for both sides. */
export function matmulKC(): i32 {
  return KC;
}
/**
 * N block of the threaded path (matmulBlockPacked): the packed B of one K block and NC
 * columns (KC·NC floats, 256 KiB) stays in each core's L2 while that core's rows run
 * against it (each 4-row A micro-panel is packed once per N block). Measured on 512³
 * (bench/PROFILE.md): 3–5% faster on 2 threads, 5% slower on one, so the single-thread
 * matmul runs all columns at once.
 */
const NC: i32 = 256;

/** C staging for edge tiles (m % 4 or n % 8 left over): 4 rows × 8 floats. */
const EDGE: usize = memory.data(128, 16);

/**
 * The 4×8 micro-kernel: C[0..3][0..7] (row stride ldc bytes) = (load ? C : 0) + Σ_p
 * A[p][0..3] ⊗ B[p][0..7], p = 0..kc-1 in order, one rounding per multiply and per add.
 * pa: 16 floats per p (each of the 4 A values four times, see packA); pb: 8 floats per p.
 *
 * Why A comes pre-broadcast: V8 (11.3) does not fold the offset of a load32_splat into its
 * address, so splatting A in the loop costs an extra lea per row on top of the broadcast;
 * with 16 mul/add per p the loop was bound by instruction count, not by the FP ports.
 * Plain v128 loads with immediate offsets and two bumped pointers cut it to 6 loads, 16
 * FP ops and the loop control (about +10% on this kernel alone; bench/PROFILE.md).
 */
// @ts-ignore: decorator
@inline
function tile4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, load: bool): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (load) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  } else {
    c00 = f32x4.splat(0); c01 = c00; c10 = c00; c11 = c00;
    c20 = c00; c21 = c00; c30 = c00; c31 = c00;
  }
  const end = pb + <usize>kc * 32;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load(pa, 16);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load(pa, 32);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load(pa, 48);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    pa += 64; pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/**
 * The 4×4 micro-kernel for a last panel with at most 4 valid columns: as tile4x8 on
 * columns 0..3 of the panel only (pb still advances 8 floats per p).
 */
// @ts-ignore: decorator
@inline
function tile4x4(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize): void {
  let c0 = v128.load(c), c1 = v128.load(c + ldc), c2 = v128.load(c + 2 * ldc), c3 = v128.load(c + 3 * ldc);
  const end = pb + <usize>kc * 32;
  while (pb < end) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load(pa), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load(pa, 16), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load(pa, 32), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load(pa, 48), b0));
    pa += 64; pb += 32;
  }
  v128.store(c, c0); v128.store(c + ldc, c1); v128.store(c + 2 * ldc, c2); v128.store(c + 3 * ldc, c3);
}

/** Stores the 4×4 transpose of rows v0..v3 at dst, dst+stride, dst+2·stride, dst+3·stride. */
// @ts-ignore: decorator
@inline
function transpose4Store(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, stride: usize): void {
  const t0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(v0, v1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/** Stores v's lanes 0..3, each splatted, at d, d+16, d+32, d+48 (one p of an A micro-panel). */
// @ts-ignore: decorator
@inline
function splat4Store(v: v128, d: usize): void {
  v128.store(d, f32x4.shuffle(v, v, 0, 0, 0, 0));
  v128.store(d, f32x4.shuffle(v, v, 1, 1, 1, 1), 16);
  v128.store(d, f32x4.shuffle(v, v, 2, 2, 2, 2), 32);
  v128.store(d, f32x4.shuffle(v, v, 3, 3, 3, 3), 48);
}

/**
 * Packs op(a)[i0..i0+mc-1][pc..pc+kc-1] into 4-row micro-panels, each value four times
 * (pre-broadcast for tile4x8): element (i0+4q+r, pc+p) fills the 16 bytes at
 * dst + (q·kc·16 + p·16 + r·4)·4; rows past m are zero.
 */
function packA(dst: usize, a: usize, m: i32, k: i32, i0: i32, mc: i32, pc: i32, kc: i32, transA: bool): void {
  for (let q = 0; q < mc; q += 4) {
    const mr = min(4, mc - q);
    const i = i0 + q;
    let d = dst + <usize>(q * kc) * 16;
    if (transA) {
      // a stored k×m: the 4 rows of one p are adjacent.
      let s = a + (<usize>pc * m + i) * 4;
      const ls = <usize>m * 4;
      if (mr == 4) {
        for (let p = 0; p < kc; p++) { splat4Store(v128.load(s), d); d += 64; s += ls; }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < 4; r++) v128.store(d + r * 16, f32x4.splat(r < mr ? load<f32>(s + r * 4) : 0));
          d += 64; s += ls;
        }
      }
    } else {
      // a stored m×k: each row is contiguous in p; transpose 4×4 blocks, then splat.
      const ls = <usize>k * 4;
      const s = a + (<usize>i * k + pc) * 4;
      if (mr == 4) {
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = s + <usize>p * 4;
          const v0 = v128.load(o), v1 = v128.load(o + ls), v2 = v128.load(o + 2 * ls), v3 = v128.load(o + 3 * ls);
          const t0 = f32x4.shuffle(v0, v1, 0, 4, 1, 5);
          const t1 = f32x4.shuffle(v0, v1, 2, 6, 3, 7);
          const t2 = f32x4.shuffle(v2, v3, 0, 4, 1, 5);
          const t3 = f32x4.shuffle(v2, v3, 2, 6, 3, 7);
          const e = d + <usize>p * 64;
          splat4Store(f32x4.shuffle(t0, t2, 0, 1, 4, 5), e);
          splat4Store(f32x4.shuffle(t0, t2, 2, 3, 6, 7), e + 64);
          splat4Store(f32x4.shuffle(t1, t3, 0, 1, 4, 5), e + 128);
          splat4Store(f32x4.shuffle(t1, t3, 2, 3, 6, 7), e + 192);
        }
        for (; p < kc; p++) {
          const o = s + <usize>p * 4;
          for (let r = 0; r < 4; r++) v128.store(d + <usize>p * 64 + r * 16, f32x4.splat(load<f32>(o + <usize>r * ls)));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const o = s + <usize>p * 4;
          for (let r = 0; r < 4; r++) {
            v128.store(d + <usize>p * 64 + r * 16, f32x4.splat(r < mr ? load<f32>(o + <usize>r * ls) : 0));
          }
        }
      }
    }
  }
}

/**
 * Packs op(b)[pc..pc+kc-1][0..n-1] into 8-column panels: element (pc+p, 8j+c) at
 * dst + (j·kc·8 + p·8 + c)·4 bytes; columns past n are zero.
 */
function packB(dst: usize, b: usize, n: i32, k: i32, pc: i32, kc: i32, transB: bool): void {
  packBRange(dst, b, n, k, pc, kc, transB, 0, n);
}

/**
 * packB over the panels of columns jFrom..jTo-1 only (jFrom a multiple of 8): the same
 * layout at the same places, so threads can pack disjoint panels of one shared buffer.
 */
function packBRange(dst: usize, b: usize, n: i32, k: i32, pc: i32, kc: i32, transB: bool, jFrom: i32, jTo: i32): void {
  let j0 = jFrom;
  if (!transB) {
    // Row by row: each row of b is read front to back (the prefetchers follow it; reading
    // panel by panel jumps a row stride every 32 or 64 bytes and crosses a page every few
    // rows) and its 8-float pieces go to the full panels' p-th slots.
    // (Measured, paired runs: +6–8% on 64×784×256, +2% on 256³; on n = 64 or 10 it was
    // 1% slower than the two-panel loop below, so short rows keep that.)
    const j8 = jFrom + ((jTo - jFrom) & ~7);
    if (j8 - jFrom >= 128) {
      const panel = <usize>kc * 32;
      let s = b + (<usize>pc * n + jFrom) * 4;
      let d = dst + <usize>(jFrom * kc) * 4;
      const ls = <usize>n * 4, width = <usize>(j8 - jFrom) * 4;
      for (let p = 0; p < kc; p++) {
        let dd = d;
        for (let o: usize = 0; o < width; o += 32) {
          v128.store(dd, v128.load(s + o));
          v128.store(dd, v128.load(s + o, 16), 16);
          dd += panel;
        }
        s += ls; d += 32;
      }
      j0 = j8;
    }
    // Short rows: two panels per pass, so a row's 16 floats (one 64-byte line) are read
    // once (one panel at a time fetched every line twice).
    const ls = <usize>n * 4;
    for (; j0 + 16 <= jTo; j0 += 16) {
      let d = dst + <usize>(j0 * kc) * 4;
      const d8 = <usize>kc * 32;
      let s = b + (<usize>pc * n + j0) * 4;
      for (let p = 0; p < kc; p++) {
        const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32), v3 = v128.load(s, 48);
        v128.store(d, v0); v128.store(d, v1, 16);
        v128.store(d + d8, v2); v128.store(d + d8, v3, 16);
        d += 32; s += ls;
      }
    }
  }
  for (; j0 < jTo; j0 += 8) {
    const nr = min(8, n - j0);
    let d = dst + <usize>(j0 * kc) * 4;
    if (!transB) {
      // b stored k×n: 8 adjacent columns of one p.
      let s = b + (<usize>pc * n + j0) * 4;
      const ls = <usize>n * 4;
      if (nr == 8) {
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
          d += 32; s += ls;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < 8; c++) store<f32>(d + c * 4, c < nr ? load<f32>(s + c * 4) : 0);
          d += 32; s += ls;
        }
      }
    } else {
      // b stored n×k: each column of op(b) is contiguous in p; transpose 4×4 blocks.
      const ls = <usize>k * 4;
      const s = b + (<usize>j0 * k + pc) * 4;
      if (nr == 8) {
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = s + <usize>p * 4;
          const e = d + <usize>p * 32;
          transpose4Store(v128.load(o), v128.load(o + ls), v128.load(o + 2 * ls), v128.load(o + 3 * ls), e, 32);
          const o4 = o + 4 * ls;
          transpose4Store(v128.load(o4), v128.load(o4 + ls), v128.load(o4 + 2 * ls), v128.load(o4 + 3 * ls), e + 16, 32);
        }
        for (; p < kc; p++) {
          const o = s + <usize>p * 4;
          for (let c = 0; c < 8; c++) store<f32>(d + <usize>p * 32 + c * 4, load<f32>(o + <usize>c * ls));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const o = s + <usize>p * 4;
          for (let c = 0; c < 8; c++) store<f32>(d + <usize>p * 32 + c * 4, c < nr ? load<f32>(o + <usize>c * ls) : 0);
        }
      }
    }
  }
}

/**
 * out (+)= op(a)·op(b) (contract in src/backend/raw.ts). out is m×n row-major; a is m×k
 * (k×m when transA); b is k×n (n×k when transB). Each output is
 * s = (accumulate ? out : 0); s = f32(s + f32(a·b)) for p = 0..k-1 in order (no FMA).
 * m, n, k ≥ 1. out must not overlap a, b or the scratch. Scratch (16-byte aligned):
 * scratchA holds 16·min(k, 256) floats, scratchB ceil8(n)·min(k, 256).
 * Reads and writes nothing outside out[0..m·n), a, b, the scratch and the module's own
 * edge-tile staging (static: one caller at a time; threads use matmulBlockPacked).
 */
export function matmul(out: usize, a: usize, b: usize, m: i32, n: i32, k: i32,
  transA: bool, transB: bool, accumulate: bool, scratchA: usize, scratchB: usize): void {
  // Equal K blocks of at most KC (784 → 4 × 196, not 3 × 256 + 16): no short last block
  // that reloads and stores all of C for a few products.
  const blocks = (k + KC - 1) / KC;
  const kb = (k + blocks - 1) / blocks;
  for (let pc = 0; pc < k; pc += kb) {
    const kc = min(kb, k - pc);
    const fromC = accumulate || pc > 0;
    packB(scratchB, b, n, k, pc, kc, transB);
    blockRows(out, a, m, n, k, transA, fromC, pc, kc, 0, m, scratchB, scratchA, EDGE, n);
  }
}

/**
 * Packs op(b) for matmulBlockPacked: for every K block of matmul (the same blocking), the
 * 8-column panels j0..j1-1 (j0 a multiple of 8, j1 ≤ n or n rounded up to 8). Block pc
 * (kc rows) starts at dst + pc·ceil8(n)·4 bytes and holds packB's layout; dst holds
 * ceil8(n)·k floats in all. Threads pack disjoint panel ranges of one dst at the same time.
 */
export function matmulPackB(dst: usize, b: usize, n: i32, k: i32, transB: bool, j0: i32, j1: i32): void {
  const n8 = (n + 7) & ~7;
  const blocks = (k + KC - 1) / KC;
  const kb = (k + blocks - 1) / blocks;
  for (let pc = 0; pc < k; pc += kb) {
    packBRange(dst + <usize>pc * n8 * 4, b, n, k, pc, min(kb, k - pc), transB, j0, min(j1, n));
  }
}

/**
 * K block pc (kc = its length, as matmul blocks k) of rows i0..i1-1, from op(b) packed
 * beforehand by matmulPackB (all panels): out[i0..i1)[0..n) = (fromC ? out : 0) +
 * op(a)[i0..i1)[pc..pc+kc)·op(b)[pc..pc+kc) in p order. Run for every K block in order
 * (fromC = accumulate || pc > 0), this is matmul's per-output order, so the same bits.
 * Scratch: scratchA 16·kc floats and a 128-byte `edge`, both the
 * caller's own; callers on disjoint row ranges of one K block may run at the same time.
 */
export function matmulBlockPacked(out: usize, a: usize, m: i32, n: i32, k: i32, transA: bool, fromC: bool,
  pc: i32, kc: i32, i0: i32, i1: i32, packedB: usize, scratchA: usize, edge: usize): void {
  blockRows(out, a, m, n, k, transA, fromC, pc, kc, i0, i1, packedB + <usize>pc * ((n + 7) & ~7) * 4, scratchA, edge, NC);
}

/**
 * One K block (pc, kc) of rows i0..i1-1 (the loop body of matmul, with the caller's own
 * edge staging): C (+)= op(a)[i0..i1)[pc..pc+kc)·B, B packed (packB layout) at pbBlock;
 * fromC: start from C's values (else from zero). Columns in blocks of nb; in each, four
 * rows at a time: their micro-panel is packed into scratchA (L1) and run against every B
 * panel of the block (streamed from L2). An
 * M block kept in L2 instead (A block 4·64·KC floats pre-broadcast, plus packed B) did
 * not fit L2 with B; per-micro-panel packing keeps the working set to B.
 */
// @ts-ignore: decorator
@inline
function blockRows(out: usize, a: usize, m: i32, n: i32, k: i32, transA: bool, fromC: bool, pc: i32, kc: i32,
  i0: i32, i1: i32, pbBlock: usize, scratchA: usize, edge: usize, nb: i32): void {
  const ldc = <usize>n * 4;
  for (let jc = 0; jc < n; jc += nb) {
    const jEnd = min(jc + nb, n);
    for (let i = i0; i < i1; i += 4) {
      const mr = min(4, i1 - i);
      packA(scratchA, a, m, k, i, mr, pc, kc, transA);
      const pa = scratchA;
      for (let j0 = jc; j0 < jEnd; j0 += 8) {
        const nr = min(8, n - j0);
        const pb = pbBlock + <usize>(j0 * kc) * 4;
        const c = out + (<usize>i * n + j0) * 4;
        if (mr == 4 && nr == 8) {
          tile4x8(pa, pb, kc, c, ldc, fromC);
        } else {
          // Edge tile: stage the valid part of C, run the full tile, copy back only that part.
          for (let r = 0; r < 4; r++) {
            for (let cc = 0; cc < 8; cc++) {
              store<f32>(edge + <usize>(r * 8 + cc) * 4,
                fromC && r < mr && cc < nr ? load<f32>(c + <usize>r * ldc + <usize>cc * 4) : 0);
            }
          }
          // Half the work when at most 4 columns are left (e.g. n = 10: 8 + 2).
          if (nr <= 4) tile4x4(pa, pb, kc, edge, 32);
          else tile4x8(pa, pb, kc, edge, 32, true);
          for (let r = 0; r < mr; r++) {
            for (let cc = 0; cc < nr; cc++) {
              store<f32>(c + <usize>r * ldc + <usize>cc * 4, load<f32>(edge + <usize>(r * 8 + cc) * 4));
            }
          }
        }
      }
    }
  }
}

// ---- the strided batched matmul (the attention's matmuls; contract in src/backend/raw.ts) ----
//
// Per (batch, head) pair z, a small GEMM on a 4×8 register tile like matmul's: op(B_z)'s
// columns, in blocks of at most BNB, are packed into 8-column panels over all of k; the
// tile runs each 4 rows of op(A_z) against each panel, reading op(a) in place (the last
// rows, when fewer than 4, from a packed block with zero rows). Each row of a tile has its own range
// of p (the causal masks skip terms per row) and p ascends within it, so every output is
// the contract's sum in the contract's order: the same bits as the js twin. No K
// blocking: the attention's k is a head size or a sequence length. Threads
// (src/backend/wasm/matmul.ts) split the z range; each z is independent, so the bits do
// not depend on the split.

/** Columns of op(b) packed per block in matmulBatched. */
const BNB: i32 = 256;

/**
 * The per-thread scratch of matmulBatched in bytes, for n columns and k terms: the
 * 4×8 edge staging (128), a packed block of four rows of op(a) (16·k) and the B panels
 * (4·k·min(ceil8(n), BNB)). The JS glue sizes scratch with it: one formula for both sides.
 */
export function matmulBatchedScratch(n: i32, k: i32): i32 {
  return 128 + 16 * k + 4 * k * min((n + 7) & ~7, BNB);
}

/**
 * The 4×8 tile with a range of p per row: C[r][0..7] (row stride ldc bytes) = (load ? C :
 * 0) + Σ op(a)[r][p]·B[p][0..7] over p in [lo_r, hi_r) ascending, one rounding per multiply
 * and per add. op(a)[r][p] is at a + r·sai + p·sap (in place in A, or in packRowsA's
 * panel: sai 4, sap 16); B at pb + p·32. cLo = max lo_r, cHi = max(cLo, min hi_r): each
 * row runs its head [lo_r, min(hi_r, cLo)), then the shared [cLo, cHi) with all four
 * rows, then its tail [cHi, hi_r): ascending p within the row. In the shared range, rows
 * adjacent in memory (sai 4) come as one load and four lane broadcasts; otherwise each
 * row's value is a broadcast load.
 */
// The accumulator load/zero and store blocks repeat tile4x8's on purpose: one function's
// registers (AssemblyScript has no multiple results to share them through).
// @ts-ignore: decorator
@inline
function tileRows(a: usize, sai: usize, sap: usize, pb: usize, c: usize, ldc: usize, load: bool, cLo: i32, cHi: i32,
  lo0: i32, hi0: i32, lo1: i32, hi1: i32, lo2: i32, hi2: i32, lo3: i32, hi3: i32): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (load) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  } else {
    c00 = f32x4.splat(0); c01 = c00; c10 = c00; c11 = c00;
    c20 = c00; c21 = c00; c30 = c00; c31 = c00;
  }
  const a1 = a + sai, a2 = a + 2 * sai, a3 = a + 3 * sai;
  // Heads (rows whose range starts before cLo).
  let e = min(hi0, cLo);
  for (let p = lo0; p < e; p++) {
    const x = v128.load32_splat(a + <usize>p * sap), b = pb + <usize>p * 32;
    c00 = f32x4.add(c00, f32x4.mul(x, v128.load(b))); c01 = f32x4.add(c01, f32x4.mul(x, v128.load(b, 16)));
  }
  e = min(hi1, cLo);
  for (let p = lo1; p < e; p++) {
    const x = v128.load32_splat(a1 + <usize>p * sap), b = pb + <usize>p * 32;
    c10 = f32x4.add(c10, f32x4.mul(x, v128.load(b))); c11 = f32x4.add(c11, f32x4.mul(x, v128.load(b, 16)));
  }
  e = min(hi2, cLo);
  for (let p = lo2; p < e; p++) {
    const x = v128.load32_splat(a2 + <usize>p * sap), b = pb + <usize>p * 32;
    c20 = f32x4.add(c20, f32x4.mul(x, v128.load(b))); c21 = f32x4.add(c21, f32x4.mul(x, v128.load(b, 16)));
  }
  e = min(hi3, cLo);
  for (let p = lo3; p < e; p++) {
    const x = v128.load32_splat(a3 + <usize>p * sap), b = pb + <usize>p * 32;
    c30 = f32x4.add(c30, f32x4.mul(x, v128.load(b))); c31 = f32x4.add(c31, f32x4.mul(x, v128.load(b, 16)));
  }
  // The shared range.
  let qb = pb + <usize>cLo * 32;
  const end = pb + <usize>cHi * 32;
  if (sai == 4) {
    // The four rows of one p are adjacent (transA): one load, four lane broadcasts.
    let qa = a + <usize>cLo * sap;
    while (qb < end) {
      const b0 = v128.load(qb);
      const b1 = v128.load(qb, 16);
      const v = v128.load(qa);
      let x = f32x4.shuffle(v, v, 0, 0, 0, 0);
      c00 = f32x4.add(c00, f32x4.mul(x, b0));
      c01 = f32x4.add(c01, f32x4.mul(x, b1));
      x = f32x4.shuffle(v, v, 1, 1, 1, 1);
      c10 = f32x4.add(c10, f32x4.mul(x, b0));
      c11 = f32x4.add(c11, f32x4.mul(x, b1));
      x = f32x4.shuffle(v, v, 2, 2, 2, 2);
      c20 = f32x4.add(c20, f32x4.mul(x, b0));
      c21 = f32x4.add(c21, f32x4.mul(x, b1));
      x = f32x4.shuffle(v, v, 3, 3, 3, 3);
      c30 = f32x4.add(c30, f32x4.mul(x, b0));
      c31 = f32x4.add(c31, f32x4.mul(x, b1));
      qa += sap; qb += 32;
    }
  } else {
    let q0 = a + <usize>cLo * sap, q1 = a1 + <usize>cLo * sap, q2 = a2 + <usize>cLo * sap, q3 = a3 + <usize>cLo * sap;
    while (qb < end) {
      const b0 = v128.load(qb);
      const b1 = v128.load(qb, 16);
      let x = v128.load32_splat(q0);
      c00 = f32x4.add(c00, f32x4.mul(x, b0));
      c01 = f32x4.add(c01, f32x4.mul(x, b1));
      x = v128.load32_splat(q1);
      c10 = f32x4.add(c10, f32x4.mul(x, b0));
      c11 = f32x4.add(c11, f32x4.mul(x, b1));
      x = v128.load32_splat(q2);
      c20 = f32x4.add(c20, f32x4.mul(x, b0));
      c21 = f32x4.add(c21, f32x4.mul(x, b1));
      x = v128.load32_splat(q3);
      c30 = f32x4.add(c30, f32x4.mul(x, b0));
      c31 = f32x4.add(c31, f32x4.mul(x, b1));
      q0 += sap; q1 += sap; q2 += sap; q3 += sap; qb += 32;
    }
  }
  // Tails (rows whose range ends after cHi).
  for (let p = cHi; p < hi0; p++) {
    const x = v128.load32_splat(a + <usize>p * sap), b = pb + <usize>p * 32;
    c00 = f32x4.add(c00, f32x4.mul(x, v128.load(b))); c01 = f32x4.add(c01, f32x4.mul(x, v128.load(b, 16)));
  }
  for (let p = cHi; p < hi1; p++) {
    const x = v128.load32_splat(a1 + <usize>p * sap), b = pb + <usize>p * 32;
    c10 = f32x4.add(c10, f32x4.mul(x, v128.load(b))); c11 = f32x4.add(c11, f32x4.mul(x, v128.load(b, 16)));
  }
  for (let p = cHi; p < hi2; p++) {
    const x = v128.load32_splat(a2 + <usize>p * sap), b = pb + <usize>p * 32;
    c20 = f32x4.add(c20, f32x4.mul(x, v128.load(b))); c21 = f32x4.add(c21, f32x4.mul(x, v128.load(b, 16)));
  }
  for (let p = cHi; p < hi3; p++) {
    const x = v128.load32_splat(a3 + <usize>p * sap), b = pb + <usize>p * 32;
    c30 = f32x4.add(c30, f32x4.mul(x, v128.load(b))); c31 = f32x4.add(c31, f32x4.mul(x, v128.load(b, 16)));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/**
 * Packs rows i0..i0+mr−1 (mr ≤ 4) of op(A_z), p in [p0, p1), four values per p: element
 * (i0+r, p) at dst + (p − p0)·16 + r·4; rows from mr on are zero. op(a)[i, p] is at
 * az + i·sai + p·sap (byte strides).
 */
function packRowsA(dst: usize, az: usize, sai: usize, sap: usize, i0: i32, mr: i32, p0: i32, p1: i32): void {
  const s = az + <usize>i0 * sai;
  let d = dst, p = p0;
  if (mr == 4 && sap == 4) {
    // Each row contiguous in p: transpose 4×4 blocks.
    for (; p + 4 <= p1; p += 4) {
      const o = s + <usize>p * 4;
      transpose4Store(v128.load(o), v128.load(o + sai), v128.load(o + 2 * sai), v128.load(o + 3 * sai), d, 16);
      d += 64;
    }
  }
  for (; p < p1; p++) {
    const o = s + <usize>p * sap;
    for (let r = 0; r < 4; r++) store<f32>(d + r * 4, r < mr ? load<f32>(o + <usize>r * sai) : 0);
    d += 16;
  }
}

/**
 * Packs columns j0..j0+nb−1 (nb a multiple of 8) of op(B_z), p in [0, k), into 8-column
 * panels: element (p, j0 + 8q + c) at dst + (q·k·8 + p·8 + c)·4; columns from n on are
 * zero. op(b)[p, j] is at bz + p·sbp + j·sbj (byte strides).
 */
function packColsB(dst: usize, bz: usize, sbp: usize, sbj: usize, n: i32, k: i32, j0: i32, nb: i32): void {
  for (let q = 0; q < nb; q += 8) {
    const j = j0 + q, nr = min(8, n - j);
    const d = dst + <usize>(q * k) * 4;
    const s = bz + <usize>j * sbj;
    if (nr == 8 && sbj == 4) {
      // B stored k×n: 8 adjacent columns of one p.
      let o = s, dd = d;
      for (let p = 0; p < k; p++) {
        v128.store(dd, v128.load(o)); v128.store(dd, v128.load(o, 16), 16);
        dd += 32; o += sbp;
      }
      continue;
    }
    let p = 0;
    if (nr == 8 && sbp == 4) {
      // B stored n×k (transB): each column contiguous in p; transpose 4×4 blocks.
      for (; p + 4 <= k; p += 4) {
        const o = s + <usize>p * 4, e = d + <usize>p * 32;
        transpose4Store(v128.load(o), v128.load(o + sbj), v128.load(o + 2 * sbj), v128.load(o + 3 * sbj), e, 32);
        const o4 = o + 4 * sbj;
        transpose4Store(v128.load(o4), v128.load(o4 + sbj), v128.load(o4 + 2 * sbj), v128.load(o4 + 3 * sbj), e + 16, 32);
      }
    }
    for (; p < k; p++) {
      const o = s + <usize>p * sbp, e = d + <usize>p * 32;
      for (let c = 0; c < 8; c++) store<f32>(e + <usize>c * 4, c < nr ? load<f32>(o + <usize>c * sbj) : 0);
    }
  }
}

/**
 * One pair z of matmulBatched: C (row stride lc bytes) (+)= op(A)·op(B), m×n, k terms,
 * with the causal masks (see raw.ts): causalA skips, per row i, the terms p > i (p < i when
 * transA); causalOut leaves the outputs j > i without terms (0, or out's value with
 * accumulate). scratch: matmulBatchedScratch(n, k) bytes, 16-byte aligned.
 */
function batchedOne(cz: usize, az: usize, bz: usize, m: i32, n: i32, k: i32, sai: usize, sap: usize, sbp: usize, sbj: usize,
  lc: usize, transA: bool, acc: bool, causalA: bool, causalOut: bool, scratch: usize): void {
  const edge = scratch, pa0 = scratch + 128, pb = pa0 + <usize>k * 16;
  for (let jc = 0; jc < n; jc += BNB) {
    // With causalOut, no column j ≥ m has a term in any row.
    if (causalOut && jc >= m) break;
    const nb = min(BNB, causalOut ? min(n, m) - jc : n - jc);
    packColsB(pb, bz, sbp, sbj, n, k, jc, (nb + 7) & ~7);
    for (let i0 = 0; i0 < m; i0 += 4) {
      const mr = min(4, m - i0);
      const jEnd = causalOut ? min(jc + nb, i0 + mr) : jc + nb;
      if (jEnd <= jc) continue;
      // Each row's term range; rows past m copy the last row's (their results are dropped).
      let lo0 = 0, lo1 = 0, lo2 = 0, lo3 = 0, hi0 = k, hi1 = k, hi2 = k, hi3 = k;
      if (causalA) {
        if (transA) { lo0 = min(i0, k); lo1 = min(i0 + 1, k); lo2 = min(i0 + 2, k); lo3 = min(i0 + 3, k); }
        else { hi0 = min(i0 + 1, k); hi1 = min(i0 + 2, k); hi2 = min(i0 + 3, k); hi3 = min(i0 + 4, k); }
      }
      if (mr < 2) { lo1 = lo0; hi1 = hi0; }
      if (mr < 3) { lo2 = lo1; hi2 = hi1; }
      if (mr < 4) { lo3 = lo2; hi3 = hi2; }
      const pLo = min(min(lo0, lo1), min(lo2, lo3)), pHi = max(max(hi0, hi1), max(hi2, hi3));
      const cLo = max(max(lo0, lo1), max(lo2, lo3)), cHi = max(cLo, min(min(hi0, hi1), min(hi2, hi3)));
      // op(a) is read in place (a pre-broadcast packing, as matmul's, cost as much as the
      // products at these sizes; measured: bench/attention.bench.ts); the last rows, when
      // fewer than four, go through a packed block with zero rows.
      const direct = mr == 4;
      if (!direct && pHi > pLo) packRowsA(pa0, az, sai, sap, i0, mr, pLo, pHi);
      const pa = direct ? az + <usize>i0 * sai : pa0 - <usize>pLo * 16;
      const ai: usize = direct ? sai : 4, ap: usize = direct ? sap : 16;
      for (let j0 = jc; j0 < jEnd; j0 += 8) {
        const nr = min(8, n - j0);
        const panel = pb + <usize>((j0 - jc) * k) * 4;
        const c = cz + <usize>i0 * lc + <usize>j0 * 4;
        // A tile across the diagonal runs in place without accumulate: the pass below zeroes its j > i.
        if (mr == 4 && nr == 8 && (!causalOut || !acc || j0 + 7 <= i0)) {
          tileRows(pa, ai, ap, panel, c, lc, acc, cLo, cHi, lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3);
        } else {
          // Edge or diagonal tile: stage C, run the full tile, copy back the outputs that exist and have terms.
          for (let r = 0; r < 4; r++) {
            for (let cc = 0; cc < 8; cc++) {
              store<f32>(edge + <usize>(r * 8 + cc) * 4, acc && r < mr && cc < nr ? load<f32>(c + <usize>r * lc + <usize>cc * 4) : 0);
            }
          }
          tileRows(pa, ai, ap, panel, edge, 32, true, cLo, cHi, lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3);
          for (let r = 0; r < mr; r++) {
            const last = causalOut ? min(nr, i0 + r - j0 + 1) : nr;
            for (let cc = 0; cc < last; cc++) {
              store<f32>(c + <usize>r * lc + <usize>cc * 4, load<f32>(edge + <usize>(r * 8 + cc) * 4));
            }
          }
        }
      }
    }
  }
  if (causalOut && !acc) {
    // The outputs without terms: 0.
    const zero = f32x4.splat(0);
    for (let i = 0; i < m && i + 1 < n; i++) {
      const row = cz + <usize>i * lc;
      let j = i + 1;
      for (; j + 4 <= n; j += 4) v128.store(row + <usize>j * 4, zero);
      for (; j < n; j++) store<f32>(row + <usize>j * 4, 0);
    }
  }
}

/**
 * Strided batched matmul over the pairs z in [z0, z1) (contract: matmulBatched in
 * src/backend/raw.ts). The layout comes in a block of 20 32-bit words at `args` (the call
 * has more arguments than a thread-pool range call carries): out, a, b (byte pointers),
 * heads, m, n, k, offA, lda, sAb, sAh, offB, ldb, sBb, sBh, offC, ldc, sCb, sCh (elements),
 * flags (1 transA, 2 transB, 4 accumulate, 8 causalA, 16 causalOut). Pair z is batch
 * ⌊z/heads⌋, head z mod heads. scratch: matmulBatchedScratch(n, k) bytes, 16-byte
 * aligned, the caller's own; callers on disjoint z ranges may run at the same time.
 */
export function matmulBatched(args: usize, z0: i32, z1: i32, scratch: usize): void {
  const out = <usize>load<u32>(args), a = <usize>load<u32>(args, 4), b = <usize>load<u32>(args, 8);
  const heads = load<i32>(args, 12), m = load<i32>(args, 16), n = load<i32>(args, 20), k = load<i32>(args, 24);
  const offA = <usize>load<u32>(args, 28), lda = <usize>load<u32>(args, 32), sAb = <usize>load<u32>(args, 36), sAh = <usize>load<u32>(args, 40);
  const offB = <usize>load<u32>(args, 44), ldb = <usize>load<u32>(args, 48), sBb = <usize>load<u32>(args, 52), sBh = <usize>load<u32>(args, 56);
  const offC = <usize>load<u32>(args, 60), ldc = <usize>load<u32>(args, 64), sCb = <usize>load<u32>(args, 68), sCh = <usize>load<u32>(args, 72);
  const flags = load<i32>(args, 76);
  const transA = (flags & 1) != 0, transB = (flags & 2) != 0, acc = (flags & 4) != 0;
  const causalA = (flags & 8) != 0, causalOut = (flags & 16) != 0;
  // op(a)[i, p] at byte i·sai + p·sap of A_z; op(b)[p, j] at p·sbp + j·sbj of B_z.
  const la = lda * 4, lb = ldb * 4;
  const sai: usize = transA ? 4 : la, sap: usize = transA ? la : 4;
  const sbp: usize = transB ? 4 : lb, sbj: usize = transB ? lb : 4;
  for (let z = z0; z < z1; z++) {
    const bi = <usize>(z / heads), h = <usize>(z % heads);
    batchedOne(out + (offC + bi * sCb + h * sCh) * 4, a + (offA + bi * sAb + h * sAh) * 4, b + (offB + bi * sBb + h * sBh) * 4,
      m, n, k, sai, sap, sbp, sbj, ldc * 4, transA, acc, causalA, causalOut, scratch);
  }
}

import { OutOfMemoryError } from '../../rules/errors.js';

/**
 * The heap allocator of the wasm backend, kept on the JS side.
 *
 * Blocks live in Wasm linear memory above the module's static data (`heapBase`). Every
 * block is 64-byte aligned (a cache line; SIMD needs 16) and its size a multiple of 64
 * bytes. A freed block merges with free neighbours on both sides, and a free run that
 * reaches the top of the heap goes back to the bump region, so freed memory serves any
 * later size: after the user frees what they hold, the whole heap is available again.
 * A request takes the best fitting free block of its size bin (bins are powers of two),
 * else any block of a larger bin (split, the rest stays free), else memory from the bump
 * pointer, which advances only after any needed `memory.grow` has succeeded.
 *
 * At the limit (Wasm memory cannot grow: 4 GiB, a smaller declared maximum, or the host
 * refuses), `alloc` throws an OutOfMemoryError (a RangeError) saying how much was asked for, what is live and
 * how large the heap is, and changes nothing: every block, free list and the bump pointer
 * are as they were. Wasm memory never shrinks; `heapBytes` of the backend reports its
 * size. Address 0 is never handed out; freeing a pointer that is not live throws.
 */
export class WasmAllocator {
  private top: number;
  private readonly base: number;
  /** Live blocks: start → size. */
  private readonly sizes = new Map<number, number>();
  /** Free blocks below `top`: start → size, and end → start (for merging with the block before). */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnd = new Map<number, number>();
  /** Free block starts by bin: bin b holds sizes in [2^b, 2^(b+1)). */
  private readonly bins: Set<number>[] = [];
  private live = 0;
  private liveBlockBytes = 0;

  constructor(private readonly memory: WebAssembly.Memory, heapBase: number) {
    this.base = Math.max(64, align(heapBase, 64));
    this.top = this.base;
  }

  /** The block size a request of `bytes` takes: a multiple of 64, at least 64. */
  static sizeClass(bytes: number): number {
    return Math.max(64, align(bytes, 64));
  }

  /**
   * Allocates `bytes` (> 0) and returns a 64-byte aligned pointer. Throws a RangeError,
   * changing nothing, when the memory cannot hold it.
   */
  alloc(bytes: number): number {
    if (!(bytes > 0) || !Number.isFinite(bytes)) throw new RangeError(`regula: expected an allocation size > 0 bytes, got ${bytes}`);
    const size = WasmAllocator.sizeClass(bytes);
    let ptr = this.takeFree(size);
    if (ptr === 0) {
      ptr = this.top;
      const end = ptr + size;
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / 65536);
        const fail = (why: string) => new OutOfMemoryError(size, have - this.top, 
          `regula: out of Wasm memory: cannot allocate ${size} bytes (${this.liveBlockBytes} bytes live in ${this.live} blocks, ` +
          `heap ${have} bytes with ${have - this.top} free at its top; growing it by ${pages} pages failed: ${why}). Dispose tensors you no longer need: their memory is reused.`);
        if (end > MAX_HEAP) throw fail('a Wasm heap holds at most 4 GiB');
        try {
          this.memory.grow(pages);
        } catch (e) {
          throw fail((e as Error).message);
        }
      }
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.live++;
    this.liveBlockBytes += size;
    return ptr;
  }

  /** Returns a block: it merges with free neighbours and, at the top, with the bump region. Throws on a pointer that is not live. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new RangeError(`regula: free of pointer ${ptr}, which is not an allocated block`);
    this.sizes.delete(ptr);
    this.live--;
    this.liveBlockBytes -= size;
    let start = ptr, end = ptr + size;
    const after = this.freeAt.get(end);
    if (after !== undefined) { this.unlinkFree(end, after); end += after; }
    const before = this.freeEnd.get(start);
    if (before !== undefined) { this.unlinkFree(before, start - before); start = before; }
    if (end === this.top) this.top = start;
    else this.linkFree(start, end - start);
  }

  /** Number of live blocks. */
  get liveBlocks(): number { return this.live; }
  /** Bytes held by live blocks (sizes rounded to 64). */
  get liveBytes(): number { return this.liveBlockBytes; }
  /** Bytes of the heap in use or on free lists: from the heap base to the bump pointer. */
  get usedBytes(): number { return this.top - this.base; }
  /** Free blocks below the bump pointer (for tests: 0 after everything is freed). */
  get freeBlocks(): number { return this.freeAt.size; }

  /** The start of a free block of at least `size` (split to `size`), or 0 when none fits. */
  private takeFree(size: number): number {
    if (this.freeAt.size === 0) return 0;
    const b0 = bin(size);
    let ptr = 0, got = Infinity;
    const same = this.bins[b0];
    if (same !== undefined) {
      for (const p of same) {
        const s = this.freeAt.get(p)!;
        if (s >= size && s < got) { ptr = p; got = s; if (s === size) break; }
      }
    }
    for (let b = b0 + 1; ptr === 0 && b < this.bins.length; b++) {
      const set = this.bins[b];
      if (set === undefined || set.size === 0) continue;
      ptr = set.values().next().value!;
      got = this.freeAt.get(ptr)!;
    }
    if (ptr === 0) return 0;
    this.unlinkFree(ptr, got);
    if (got > size) this.linkFree(ptr + size, got - size);
    return ptr;
  }

  private linkFree(start: number, size: number): void {
    this.freeAt.set(start, size);
    this.freeEnd.set(start + size, start);
    const b = bin(size);
    (this.bins[b] ??= new Set()).add(start);
  }

  private unlinkFree(start: number, size: number): void {
    this.freeAt.delete(start);
    this.freeEnd.delete(start + size);
    this.bins[bin(size)]!.delete(start);
  }
}

/** The most a Wasm (32-bit) memory can hold. */
const MAX_HEAP = 2 ** 32;

function bin(size: number): number {
  return Math.floor(Math.log2(size));
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

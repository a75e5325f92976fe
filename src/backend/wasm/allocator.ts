/**
 * The heap allocator of the wasm backend, kept on the JS side.
 *
 * Blocks live in Wasm linear memory above the module's static data (`heapBase`). Every
 * block is 64-byte aligned (a cache line; SIMD needs 16) and its size rounded up to a
 * size class: multiples of 64 up to 1 KiB, then four classes per power of two (2^k,
 * 1.25·2^k, 1.5·2^k, 1.75·2^k), so at most 25% is lost to rounding. Freed blocks go to
 * their class's free list and are reused first; new blocks come from a bump pointer,
 * which advances only after any needed `memory.grow` has succeeded. Address 0 is never
 * handed out. Memory only grows (Wasm cannot shrink it); `heapBytes` reports its size.
 */
export class WasmAllocator {
  private top: number;
  private readonly base: number;
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private live = 0;
  private liveBlockBytes = 0;

  constructor(private readonly memory: WebAssembly.Memory, heapBase: number) {
    this.base = Math.max(64, align(heapBase, 64));
    this.top = this.base;
  }

  /** The size class that a request of `bytes` is rounded up to. */
  static sizeClass(bytes: number): number {
    if (bytes <= 1024) return Math.max(64, align(bytes, 64));
    const k = 31 - Math.clz32(bytes - 1); // 2^k < bytes ≤ 2^(k+1)
    const step = 2 ** (k - 2);
    return align((2 ** k) + Math.ceil((bytes - 2 ** k) / step) * step, 64);
  }

  /** Allocates `bytes` (> 0) and returns a 64-byte aligned pointer. */
  alloc(bytes: number): number {
    const size = WasmAllocator.sizeClass(bytes);
    const list = this.free.get(size);
    let ptr: number;
    if (list !== undefined && list.length > 0) {
      ptr = list.pop()!;
    } else {
      ptr = this.top;
      const end = ptr + size;
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / 65536);
        try {
          this.memory.grow(pages);
        } catch (e) {
          throw new RangeError(
            `regula: cannot grow Wasm memory by ${pages} pages to hold ${size} more bytes ` +
            `(heap is ${have} bytes): ${(e as Error).message}`);
        }
      }
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.live++;
    this.liveBlockBytes += size;
    return ptr;
  }

  /** Returns a block to its free list. Throws on a pointer that is not live. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new RangeError(`regula: free of pointer ${ptr}, which is not an allocated block`);
    this.sizes.delete(ptr);
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(ptr);
    this.live--;
    this.liveBlockBytes -= size;
  }

  /** Number of live blocks. */
  get liveBlocks(): number { return this.live; }
  /** Bytes held by live blocks (after size-class rounding). */
  get liveBytes(): number { return this.liveBlockBytes; }
  /** Bytes of the heap ever bumped (live + free lists). */
  get usedBytes(): number { return this.top - this.base; }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

// regula's Wasm kernels. Every export takes byte pointers into linear memory, sizes and
// scalars, `out` first. Kernels never allocate: the JS side owns the heap (see
// src/backend/wasm/allocator.ts) and passes any scratch space in. Validation is the
// job of the TypeScript side (be.kernels: src/core/checked-kernels.ts, with the rules of
// src/rules/); kernels trust their input.

export * from './matmul';
export * from './optim';
export * from './dropout';
export * from './prox';
export * from './linear';
export * from './elementwise';
export * from './activation';
export * from './layernorm';
export * from './softmax';
export * from './embedding';
export * from './clip';

/** First byte after the module's static data: the JS allocator starts its heap here. */
export function heapBase(): usize {
  return __heap_base;
}

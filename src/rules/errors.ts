/** Errors thrown by regula's facade. Each message says what was expected and what came. */

/** A tensor shape, length or dimension does not fit the operation. */
export class ShapeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** A tensor (or RNG) was used after `dispose()`. */
export class DisposedError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'DisposedError';
  }
}

/**
 * A backend could not allocate memory: the Wasm heap cannot grow (4 GiB, a smaller declared
 * maximum, or the host refuses), the js engine refused an array, or a memory limit set for a
 * test was reached. `requested` is the size asked for in bytes; `available` the bytes that
 * could still be had (null when the engine does not say). The call that threw changed nothing.
 */
export class OutOfMemoryError extends RangeError {
  constructor(readonly requested: number, readonly available: number | null, message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

/** The Wasm backend could not be loaded or instantiated. */
export class BackendLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendLoadError';
  }
}

/** Formats a shape for messages: [2, 3]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Describes a value for "got ..." in messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as { length: number }).length}`;
  if (typeof v === 'function') return 'a function';
  return `an object (${(v as object).constructor?.name ?? 'Object'})`;
}

/**
 * A safetensors file (bytes from outside) breaks a rule of the format. `rule` names the rule
 * (for example 'data_offsets', 'dtype', 'header length'), `tensor` the tensor it concerns
 * (null for the file as a whole); the message says what was expected and what came.
 */
export class SafetensorsError extends Error {
  constructor(readonly rule: string, readonly tensor: string | null, message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

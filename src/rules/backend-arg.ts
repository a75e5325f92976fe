/**
 * The backend-argument rule of the entry points above the backend (layers, the GPT, linear
 * models, loadGPT). Apart from src/rules/validate.ts because it needs the Backend class at
 * run time, which the rules below the backend must not import.
 */
import { Backend } from '../backend.js';
import { describe } from './errors.js';

/** be as a Backend, or a TypeError naming `what` (the constructor or function it was given to, as its first argument). */
export function checkBackend(be: unknown, what: string): Backend {
  if (!(be instanceof Backend)) throw new TypeError(`${what}: expected a backend from loadBackend() as the first argument, got ${describe(be)}`);
  return be;
}

/**
 * vitest global setup: rewrites src/backend/wasm/embedded.generated.ts from build/*.wasm and
 * src/backend/wasm/worker.ts (scripts/embed.mjs; only when they changed), so the tests run
 * the worker and binaries of the working tree, as the package built from it would.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/embed.mjs', import.meta.url))], { stdio: 'inherit' });
}

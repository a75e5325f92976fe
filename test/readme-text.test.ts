/**
 * The README's "Train a GPT on any text" block runs as written (the one change: steps 3
 * instead of 2,000), on a slice of Tiny Shakespeare, and does what its comments say.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as regula from '../src/index.js';
import { loadShakespeare } from '../examples/experiments/shakespeare.js';

it('the README\'s text-to-trained-model block runs as written', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf('<!-- readme-text-example');
  expect(at).toBeGreaterThan(0);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  const lines = block.split('\n');
  expect(lines.filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(20);
  const imports = /^import \{ ([^}]+) \} from 'regula';$/.exec(lines[0]!)![1]!.split(',').map((s) => s.trim());
  const body = lines.slice(1).join('\n').replace('steps: 2000,', 'steps: 3,')
    + '\nreturn { gpt, corpus, result, again, tokenizer, optimizer, be };';
  expect(body).toContain('steps: 3,');
  const logs: unknown[][] = [];
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => (...v: unknown[]) => Promise<Record<string, unknown>>;
  const run = new AsyncFunction(...imports, 'text', 'console', body);
  const text = loadShakespeare().slice(0, 30_000);
  const out = await run(...imports.map((n) => (regula as Record<string, unknown>)[n]), text, { log: (...a: unknown[]) => logs.push(a) });
  const { gpt, again, tokenizer, result, optimizer, be } = out as { gpt: regula.nn.GPT; again: regula.nn.GPT; tokenizer: regula.CharTokenizer; result: regula.FitTextResult; optimizer: { dispose(): void }; be: regula.Backend };
  expect(result.step).toBe(3);
  expect(result.history.map((h) => h.step)).toEqual([0, 3]);
  expect(logs.filter((l) => typeof l[0] === 'number').length).toBe(3); // onStep
  expect(String(logs[logs.length - 1]![0]).length).toBe(201); // "\n" + 200 characters
  expect(tokenizer.vocab).toEqual((out as { corpus: regula.TextCorpus }).corpus.tokenizer.vocab);
  expect(Object.values(again.stateDict()).map((a) => Array.from(a))).toEqual(Object.values(gpt.stateDict()).map((a) => Array.from(a)));
  again.dispose(); optimizer.dispose(); gpt.dispose(); be.dispose();
}, 120_000);

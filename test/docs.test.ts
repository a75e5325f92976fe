/**
 * Doc tests: every code block of README.md and docs/**\/*.md runs, or is checked, as
 * test/doc-blocks.ts describes (ts / js blocks run as written, from src/, each in a fresh
 * folder; sh blocks' commands are checked; text blocks are output). A failure names the
 * document and line. Blocks with an `id` get the extra checks below: what the README says
 * they do, they do.
 *
 * Also: the README's part for package users (before "## Working on regula") links only to
 * files the package ships, and every #anchor link in a document names one of its headings.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as regula from '../src/index.js';
import { ROOT, RUNNABLE, SHELL, TEXT, LANGUAGES, checkShell, docFiles, readBlocks, runBlock, where, type DocBlock, type RunResult } from './doc-blocks.js';

const REPO_PART = '## Working on regula';

type Check = (r: RunResult, b: DocBlock) => void | Promise<void>;

/** Non-empty lines of a block. */
const codeLines = (b: DocBlock) => b.code.split('\n').filter((l) => l.trim() !== '').length;

/** What the README says a block does, checked on its run (by the block's `id`). */
const CHECKS: Record<string, Check> = {
  // Start here: trains the digits MLP to the accuracy the README states, and saves it
  start: (r, b) => {
    expect(codeLines(b), `${where(b)}: "a model trained in ~20 lines"`).toBeLessThanOrEqual(20);
    const { result } = r.scope as { result: regula.FitResult };
    const best = result.history[result.bestEpoch]!;
    const readme = readFileSync(join(ROOT, b.doc), 'utf8');
    const said = /validation accuracy near ([0-9.]+)/.exec(readme);
    expect(said, 'the README states the validation accuracy the sample reaches').not.toBeNull();
    expect(Math.abs(best.valAccuracy! - Number(said![1])), `best validation accuracy ${best.valAccuracy}, the README says near ${said![1]}`).toBeLessThanOrEqual(0.01);
    expect(r.logs.length).toBe(result.history.length + 1);
    const file = readFileSync(join(r.dir, 'digits.safetensors'));
    const { tensors } = regula.safetensors.load(file);
    expect(Object.keys(tensors)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    expect(tensors['0.weight']!.shape).toEqual([128, 64]);
  },
  // the step written out: the loss falls
  loop: (r) => {
    const losses = r.logs.map((l) => l[1] as number);
    expect(losses).toHaveLength(10);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
  },
  // nn.GPT in a loop of one's own: the prompt and 100 sampled tokens, torch's keys
  gpt: (r) => {
    const { text, prompt, sd, tokenizer } = r.scope as { text: Int32Array; prompt: Int32Array; sd: Record<string, Float32Array>; tokenizer: regula.CharTokenizer };
    expect(text.length).toBe(prompt.length + 100);
    expect(r.logs[0]![0]).toBe(tokenizer.decode(text));
    expect(String(r.logs[0]![0]).startsWith('the ')).toBe(true);
    expect(Object.keys(sd)).toContain('transformer.h.1.attn.c_attn.weight');
    expect(Object.keys(sd)).toContain('lm_head.weight');
  },
  // the language-model path: 20 lines at most, runs fitText, samples, saves and loads back
  'gpt-text': (r, b) => {
    expect(codeLines(b), `${where(b)}: the README promises this path in 20 lines`).toBeLessThanOrEqual(20);
    const { gpt, again, tokenizer, result, corpus, optimizer, be } = r.scope as {
      gpt: regula.GPT; again: regula.GPT; tokenizer: regula.CharTokenizer; result: regula.FitTextResult; corpus: regula.TextCorpus; optimizer: { dispose(): void }; be: regula.Backend };
    expect(result.step).toBe(3);
    expect(result.history.map((h) => h.step)).toEqual([0, 3]);
    expect(r.logs.filter((l) => typeof l[0] === 'number').length).toBe(3); // onStep
    expect(String(r.logs.at(-1)![0]).length).toBe(201); // "\n" + 200 characters
    expect(tokenizer.vocab).toEqual(corpus.tokenizer.vocab);
    expect(Object.values(again.stateDict()).map((a) => Array.from(a))).toEqual(Object.values(gpt.stateDict()).map((a) => Array.from(a)));
    again.dispose(); optimizer.dispose(); gpt.dispose(); be.dispose();
  },
  // safetensors out and back, with its metadata
  safetensors: (r) => {
    expect(r.logs[0]).toEqual(['12', ['0.weight', '0.bias', '2.weight', '2.bias']]);
  },
};

/** Files `npm pack` ships: package.json's `files` (dir/**\/*.ext or a path) and the files npm always adds. */
function shippedBy(): (path: string) => boolean {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; files: string[]; exports: Record<string, unknown> };
  const rules = [...pkg.files, 'README.md', 'LICENSE', 'package.json'].map((f) => {
    const glob = /^([^*]+)\/\*\*\/\*(\.[\w.]+)$/.exec(f);
    if (glob === null && f.includes('*')) throw new Error(`package.json files: ${f} is not a pattern this test reads (dir/**/*.ext or a path)`);
    return glob === null ? (p: string) => p === f : (p: string) => p.startsWith(`${glob[1]}/`) && p.endsWith(glob[2]!);
  });
  // `regula/worker.js`: a subpath the package exports
  return (p) => p.startsWith(`${pkg.name}/`) ? `.${p.slice(pkg.name.length)}` in pkg.exports : rules.some((r) => r(p.replace(/^\.\//, '')));
}

/** GitHub's anchor for a heading. */
const slug = (heading: string) => heading.replace(/^#+\s*/, '').trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

for (const doc of docFiles()) {
  describe(doc, () => {
    let blocks: DocBlock[] = [];
    it('parses: every fence names its language', () => {
      blocks = readBlocks(doc);
      for (const b of blocks) expect([...RUNNABLE, ...SHELL, ...TEXT], `${where(b)}: write ${LANGUAGES}`).toContain(b.lang);
    });
    // the blocks are known when the file is collected, so each gets its own test
    const known = (() => { try { return readBlocks(doc); } catch { return []; } })();
    const files = new Set(known.flatMap((b) => b.directives.file === undefined ? [] : [b.directives.file]));
    for (const b of known) {
      const title = `${b.lang} block at line ${b.line} (${b.section})${b.directives.id ? ` [${b.directives.id}]` : ''}`;
      if (b.directives.fragment !== undefined) {
        it.skip(`${title}: a fragment, not run: ${b.directives.fragment}`, () => {});
      } else if (RUNNABLE.has(b.lang)) {
        it(`runs: ${title}`, async () => {
          const id = b.directives.id;
          if (id !== undefined && !(id in CHECKS)) throw new Error(`${where(b)}: id ${id} has no checks in test/docs.test.ts`);
          const r = await runBlock(b, regula as unknown as Record<string, unknown>, { keepDir: true });
          try {
            if (id !== undefined) await CHECKS[id]!(r, b);
          } finally {
            rmSync(r.dir, { recursive: true, force: true });
          }
        }, 120_000);
      } else if (SHELL.has(b.lang)) {
        it(`commands exist: ${title}`, () => {
          expect(checkShell(b, files)).toEqual([]);
        });
      }
    }

    it('every #anchor link names a heading of the document', () => {
      const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      const anchors = new Set(text.split('\n').filter((l) => /^#{1,6} /.test(l)).map(slug));
      const broken = [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a));
      expect(broken, `${doc}: links to anchors that no heading makes`).toEqual([]);
    });

    it('relative links name files that exist', () => {
      const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      const missing = [...text.matchAll(/\]\((?!#|[a-z]+:)([^)#\s]+)/g)].map((m) => m[1]!)
        .filter((p) => !existsSync(join(ROOT, doc, '..', p)));
      expect(missing, `${doc}: links to missing files`).toEqual([]);
    });
  });
}

it('npm test writes the blocks for tsc before it type-checks (so the samples compile as strict TypeScript)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['test']).toMatch(/^tsx test\/doc-blocks\.ts && tsc -p tsconfig\.json --noEmit && /);
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  expect(tsconfig.compilerOptions.paths['regula']).toEqual(['./src/index.ts']);
});

describe('the README for package users', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${REPO_PART}\n`);

  it(`has a repository part, "${REPO_PART}", after the part for package users`, () => {
    expect(at).toBeGreaterThan(0);
    expect(readme.indexOf('\n## ')).toBeLessThan(at);
  });

  it('points package users only to files the package ships', () => {
    const user = readme.slice(0, at).replace(/```[\s\S]*?```/g, '');
    const shipped = shippedBy();
    const links = [...user.matchAll(/\]\((?!#|[a-z]+:)([^)#\s]+)/g)].map((m) => m[1]!);
    // a code span that is a path with a folder and an extension (`examples/torch/architecture.ts`)
    const paths = [...user.matchAll(/`([\w.@-]+(?:\/[\w.@-]+)+\.\w+)`/g)].map((m) => m[1]!);
    const outside = [...links, ...paths].filter((p) => !shipped(p));
    expect(outside, `repository files named before "${REPO_PART}" (not in the package: move the reference to the repository part, or say it without the path)`).toEqual([]);
  });

  it('the first section installs the package, then runs only blocks it names as files', () => {
    const first = readBlocks('README.md').filter((b) => b.sectionIndex === 1);
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]!.lang, 'the first block installs').toBe('sh');
    expect(first[0]!.code.trim()).toBe('npm install regula');
    for (const b of first.filter((x) => RUNNABLE.has(x.lang))) {
      expect(b.directives.file, `${where(b)}: test:package saves each first-section block under its \`file\` name`).toBeDefined();
      expect(b.directives.replace, `${where(b)}: the first section runs as written, with no replace`).toEqual([]);
    }
  });
});

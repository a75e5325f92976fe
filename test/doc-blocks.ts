/**
 * The code blocks of the documentation (README.md, docs/*.md), as the doc tests
 * (test/docs.test.ts) and the package consumer (test/package/) read and run them.
 *
 * The rules a block follows (a failure message repeats the one it broke):
 * - Every fence names its language. ```ts and ```js blocks run (doc tests); ```sh blocks are
 *   commands, checked (npm scripts exist, `npm install` names this package, files a command
 *   runs exist); ```text blocks are output or listings, shown and never run.
 * - A runnable block is a whole program: it imports what it uses ('regula' is the package;
 *   in the repository's tests it resolves to src/index.ts) and defines every name.
 * - An HTML comment on the line before a fence, `<!-- doctest: ... -->`, says more about it
 *   (directives separated by `;`):
 *   - `fragment: <why>`: a deliberate piece of a program, not run (the reason is required;
 *     use it rarely);
 *   - `replace "<from>" "<to>"` (JSON strings): the doc test runs the block with `<from>`
 *     (which must occur exactly once) replaced, e.g. a shorter training budget;
 *   - `file <name>`: the file a reader saves the block as (a later ```sh block may run it);
 *   - `id <name>`: a name the doc tests use to check more than "it runs".
 */
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Directives {
  fragment?: string;
  replace: [string, string][];
  file?: string;
  id?: string;
}

export interface DocBlock {
  /** The document, relative to the repository (README.md, docs/worker.md). */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  directives: Directives;
  /** Heading path at the block ("## Start here" …), for messages and the first section. */
  section: string;
  /** Index of the `## ` section the block is in (0: before the first `## ` heading). */
  sectionIndex: number;
}

export const RUNNABLE = new Set(['ts', 'js']);
export const SHELL = new Set(['sh']);
export const TEXT = new Set(['text']);
export const LANGUAGES = 'ts or js (run), sh (commands, checked) or text (output or a listing, not run)';

/** Where a block is: `README.md:123 (the ```ts block under "## Start here")`. */
export function where(b: DocBlock, codeLine?: number): string {
  const at = codeLine === undefined ? b.line : b.line + codeLine;
  return `${b.doc}:${at} (the \`\`\`${b.lang} block at line ${b.line}, under "${b.section}")`;
}

function parseDirectives(text: string, doc: string, line: number): Directives {
  const d: Directives = { replace: [] };
  let rest = text.trim();
  const fail = (why: string): never => { throw new Error(`${doc}:${line}: <!-- doctest: ${text} -->: ${why}. Directives: fragment: <why> | replace "<from>" "<to>" | file <name> | id <name>, separated by ;`); };
  while (rest !== '') {
    let m: RegExpExecArray | null;
    if ((m = /^fragment:\s*(.*)$/s.exec(rest)) !== null) {
      if (m[1]!.trim().length < 10) fail('a fragment needs its reason (at least a few words)');
      d.fragment = m[1]!.trim();
      rest = '';
    } else if ((m = /^replace\s+("(?:[^"\\]|\\.)*")\s+("(?:[^"\\]|\\.)*")\s*(?:;|$)/.exec(rest)) !== null) {
      d.replace.push([JSON.parse(m[1]!) as string, JSON.parse(m[2]!) as string]);
      rest = rest.slice(m[0].length).trim();
    } else if ((m = /^(file|id)\s+([\w.@/-]+)\s*(?:;|$)/.exec(rest)) !== null) {
      if (d[m[1] as 'file' | 'id'] !== undefined) fail(`${m[1]} given twice`);
      d[m[1] as 'file' | 'id'] = m[2]!;
      rest = rest.slice(m[0].length).trim();
    } else {
      fail(`cannot read "${rest}"`);
    }
  }
  return d;
}

/** The fenced blocks of one markdown document, in order. Throws on a fence with no language. */
export function parseBlocks(markdown: string, doc: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let h2 = '(top)', h3 = '', sectionIndex = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^## /.test(l)) { h2 = l; h3 = ''; sectionIndex++; continue; }
    if (/^### /.test(l)) { h3 = l; continue; }
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(l);
    if (open === null) continue;
    const fence = open[2]!, lang = open[3]!.trim();
    let j = i + 1;
    while (j < lines.length && !(lines[j]!.trim().startsWith(fence) && lines[j]!.trim().replace(/[`~]/g, '') === '')) j++;
    if (j === lines.length) throw new Error(`${doc}:${i + 1}: a code fence that never closes`);
    const section = h3 === '' ? h2 : `${h2} / ${h3}`;
    if (lang === '') throw new Error(`${doc}:${i + 1}: a code block without a language (under "${section}"): write ${LANGUAGES}`);
    const prev = i > 0 ? /^<!-- doctest: (.*) -->$/.exec(lines[i - 1]!.trim()) : null;
    const directives = prev === null ? { replace: [] } : parseDirectives(prev[1]!, doc, i);
    const indent = open[1]!.length;
    const code = lines.slice(i + 1, j).map((c) => c.slice(Math.min(indent, c.length - c.trimStart().length))).join('\n') + '\n';
    blocks.push({ doc, line: i + 1, lang, code, directives, section, sectionIndex });
    i = j;
  }
  return blocks;
}

/** README.md and every docs/**\/*.md of the repository (or of `root`), relative paths. */
export function docFiles(root = ROOT): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    if (!existsSync(join(root, dir))) return;
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name));
    }
  };
  walk('docs');
  return out;
}

export function readBlocks(doc: string, root = ROOT): DocBlock[] {
  return parseBlocks(readFileSync(join(root, doc), 'utf8'), doc);
}

/** The code the doc test runs: the block with its `replace` directives applied (each must match once). */
export function codeToRun(b: DocBlock): string {
  let code = b.code;
  for (const [from, to] of b.directives.replace) {
    const n = code.split(from).length - 1;
    if (n !== 1) throw new Error(`${where(b)}: replace ${JSON.stringify(from)} matches ${n} times in the block; it must match once`);
    code = code.replace(from, () => to);
  }
  return code;
}

/** Top-level names a block declares (const/let/var, destructured too; functions, classes). */
export function declaredNames(code: string): string[] {
  const sf = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.push(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of sf.statements) {
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) names.push(s.name.text);
  }
  return names;
}

/** A CommonJS block: it calls require() and has no import declaration. */
export function isCommonJs(code: string): boolean {
  return /\brequire\(/.test(code) && !/^\s*import\s/m.test(code);
}

export interface RunResult {
  /** What the block printed with console.log, one array of arguments per call. */
  logs: unknown[][];
  /** The block's top-level names and their values at the end (ESM blocks). */
  scope: Record<string, unknown>;
  /** The directory the block ran in (its cwd): files it wrote are there. Removed unless keepDir. */
  dir: string;
}

let seq = 0;
/** Where blocks are written to be imported: inside the repository (gitignored), so the test runner transforms them as it does the tests. */
const BLOCK_DIR = join(ROOT, 'test/.doc-blocks');

/**
 * Runs a ts / js block in this process, as a module of its own, in a fresh temporary
 * directory as cwd, with console.log captured. `regula` must resolve to the package under
 * test (the test config's alias). A throw is rethrown naming the block and its line.
 * CommonJS blocks run as a module body with a require() that gives `regula` the same module
 * as import; promises the block's regula calls return are awaited, and a rejection the block
 * leaves unhandled fails it.
 */
export async function runBlock(b: DocBlock, regula: Record<string, unknown>, options: { keepDir?: boolean } = {}): Promise<RunResult> {
  if (!RUNNABLE.has(b.lang)) throw new Error(`${where(b)}: not a runnable block`);
  const code = codeToRun(b);
  // the test runner's module wrapper defines require(); Node's ES modules do not
  if (!isCommonJs(code) && /\brequire\(/.test(code)) throw new Error(`${where(b)}: an ES module block (it imports) calls require(), which Node's ES modules do not have: split it into an ESM block and a CommonJS block`);
  const dir = mkdtempSync(join(tmpdir(), 'regula-doc-'));
  const logs: unknown[][] = [];
  const log = console.log;
  const cwd = process.cwd();
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  let scope: Record<string, unknown> = {};
  const file = join(BLOCK_DIR, `${b.doc.replace(/[/.]/g, '_')}-L${b.line}-${process.pid}-${seq++}.${b.lang === 'ts' ? 'ts' : 'mjs'}`);
  console.log = (...a: unknown[]) => { logs.push(a); };
  process.on('unhandledRejection', onUnhandled);
  process.chdir(dir);
  try {
    if (isCommonJs(code)) {
      const pending: Promise<unknown>[] = [];
      // functions (not classes, which are capitalised) are wrapped to collect the promises they return
      const wrapped = Object.fromEntries(Object.entries(regula).map(([k, v]) => [k, typeof v === 'function' && !/^[A-Z]/.test(k)
        ? (...a: unknown[]) => { const r = (v as (...x: unknown[]) => unknown)(...a); if (r instanceof Promise) pending.push(r); return r; }
        : v]));
      const req = createRequire(pathToFileURL(join(dir, 'block.cjs')));
      const module = { exports: {} as unknown };
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const body = new Function('require', 'module', 'exports', '__filename', '__dirname', code) as (...a: unknown[]) => void;
      body((id: string) => id === 'regula' ? wrapped : req(id), module, module.exports, join(dir, 'block.cjs'), dir);
      for (let i = 0; i < pending.length; i++) await pending[i]!.catch(() => {});
      await new Promise((r) => setTimeout(r, 0));
    } else {
      const names = declaredNames(code);
      mkdirSync(BLOCK_DIR, { recursive: true });
      writeFileSync(file, `${code}\nexport { ${names.join(', ')} };\n`);
      scope = await import(/* @vite-ignore */ pathToFileURL(file).href) as Record<string, unknown>;
      await new Promise((r) => setTimeout(r, 0));
    }
    if (unhandled.length > 0) throw unhandled[0];
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    // map the block file's line (in the stack) back to the document's
    const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(err.stack ?? '')
      ?? /<anonymous>:(\d+)/.exec(err.stack ?? '');
    const at = m === null ? undefined : Number(m[1]) - (m[0].includes('anonymous') ? 2 : 0);
    throw new Error(`${where(b, at)} failed: ${err.name}: ${err.message}`, { cause: err });
  } finally {
    process.chdir(cwd);
    console.log = log;
    process.off('unhandledRejection', onUnhandled);
    rmSync(file, { force: true });
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  }
  return { logs, scope, dir };
}

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; scripts: Record<string, string> };
const NPM_BUILTIN = new Set(['install', 'i', 'ci', 'test', 'start', 'pack']);

/** Commands of a ```sh block: comments dropped, `\` continuations joined, `&&` split. */
export function shellCommands(code: string): string[] {
  return code.replace(/\\\n/g, ' ').split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '')
    .flatMap((l) => l.split(/\s*&&\s*/));
}

/**
 * Checks one ```sh block of `doc`: every command is one the doc test knows, naming things
 * that exist. `files` are the names of the document's `file` blocks (a command may run them).
 * Returns the problems (empty when it passes).
 */
export function checkShell(b: DocBlock, files: ReadonlySet<string>, root = ROOT): string[] {
  const problems: string[] = [];
  const bins = existsSync(join(root, 'node_modules/.bin')) ? new Set(readdirSync(join(root, 'node_modules/.bin'))) : new Set<string>();
  const isPath = (w: string) => /^[\w.-]+(\/[\w.-]+)*\.(mjs|cjs|js|ts|mts|py)$/.test(w);
  const exists = (w: string) => files.has(w) || existsSync(join(root, w));
  for (const cmd of shellCommands(b.code)) {
    const words = cmd.split(/\s+/).filter((w) => !/^[A-Z_]+=/.test(w));
    if (words[0] === 'time') words.shift();
    const [tool, sub, ...rest] = words;
    const args = [sub, ...rest].filter((w): w is string => w !== undefined);
    const bad = (why: string) => problems.push(`${where(b)}: \`${cmd}\`: ${why}`);
    if (tool === 'npm') {
      if (sub === 'run' || sub === 'run-script') {
        if (rest[0] === undefined || !(rest[0] in PACKAGE.scripts)) bad(`package.json has no script "${rest[0]}"`);
      } else if (sub === undefined || !NPM_BUILTIN.has(sub)) {
        bad(`not an npm command the doc test knows (${[...NPM_BUILTIN].join(', ')}, run <script>)`);
      } else if (sub === 'install' || sub === 'i') {
        for (const name of rest.filter((w) => !w.startsWith('-'))) if (name !== PACKAGE.name) bad(`installs "${name}", not this package (${PACKAGE.name})`);
      } else if ((sub === 'test' || sub === 'start') && !(sub in PACKAGE.scripts)) {
        bad(`package.json has no ${sub} script`);
      }
    } else if (tool === 'node' || tool === 'python3' || tool === 'torchrun' || tool === 'tsx') {
      const paths = args.filter(isPath);
      if (paths.length === 0) bad('names no file the doc test can check');
      for (const p of paths) if (!exists(p)) bad(`${p} does not exist in the repository and is no \`file\` block of ${b.doc}`);
    } else if (tool === 'npx') {
      if (sub === undefined || !bins.has(sub)) bad(`node_modules/.bin has no ${sub}`);
    } else {
      bad(`the doc test does not know the command "${tool}": write a command it checks (npm, node, npx, tsx, python3, torchrun), or mark the block <!-- doctest: fragment: <why> -->`);
    }
  }
  return problems;
}

/** Where `npm test` writes the documentation's ts / js blocks for tsc (gitignored, remade each run). */
export const TYPECHECK_DIR = join(ROOT, 'test/doc-blocks.generated');

/**
 * Writes every runnable ESM block of the documentation to TYPECHECK_DIR as a .ts file whose
 * lines are the document's (blank lines before the block), so `tsc -p tsconfig.json` checks
 * the samples as strict TypeScript (tsconfig's `paths` maps 'regula' to src/index.ts) and
 * its errors name the document's line. Fragments and CommonJS blocks are left out.
 */
export function writeTypecheckFiles(root = ROOT): string[] {
  rmSync(TYPECHECK_DIR, { recursive: true, force: true });
  mkdirSync(TYPECHECK_DIR, { recursive: true });
  const written: string[] = [];
  for (const doc of docFiles(root)) {
    for (const b of readBlocks(doc, root)) {
      if (!RUNNABLE.has(b.lang) || b.directives.fragment !== undefined || isCommonJs(b.code)) continue;
      const name = `${doc.replace(/[/\\]/g, '__')}-${b.line}.ts`;
      const head = `// ${where(b)}: generated by test/doc-blocks.ts for tsc; edit the document, not this file. Lines are the document's.`;
      writeFileSync(join(TYPECHECK_DIR, name), `${head}${'\n'.repeat(b.line)}${b.code}export {};\n`);
      written.push(name);
    }
  }
  return written;
}

// `tsx test/doc-blocks.ts` (the start of `npm test`): the blocks for tsc
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = writeTypecheckFiles();
  console.log(`doc blocks: ${files.length} written to ${TYPECHECK_DIR} for tsc`);
}

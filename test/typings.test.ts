/**
 * The published typings: src/ compiled to .d.ts with tsconfig.build.json's options (as
 * `npm run build` does, into memory here) has no underscore member in any file a consumer
 * reaches from dist/index.d.ts (stripInternal removes the @internal ones), and a strict
 * consumer that uses the API compiles against them with skipLibCheck off, while reaching for
 * an internal member does not.
 */
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = '/virtual/dist';

/** The .d.ts files of src/, by path under OUT. */
function emitDeclarations(): Map<string, string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  })!;
  expect(parsed.options.stripInternal, 'tsconfig.build.json sets stripInternal').toBe(true);
  const program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: { ...parsed.options, outDir: OUT, declaration: true, emitDeclarationOnly: true, noEmit: false, noCheck: true },
  });
  const files = new Map<string, string>();
  const result = program.emit(undefined, (name, text) => { files.set(name, text); }, undefined, true);
  expect(result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  return files;
}

/** The .d.ts files a consumer's compiler loads, starting from index.d.ts. */
function reachable(files: Map<string, string>): string[] {
  const seen = new Set<string>();
  const queue = [`${OUT}/index.d.ts`];
  while (queue.length > 0) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    const text = files.get(f);
    expect(text, `${f} was emitted`).toBeDefined();
    seen.add(f);
    const sf = ts.createSourceFile(f, text!, ts.ScriptTarget.ES2022, true);
    const visit = (n: ts.Node): void => {
      let spec: string | null = null;
      if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) spec = n.moduleSpecifier.text;
      else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) spec = n.argument.literal.text;
      if (spec !== null && spec.startsWith('.')) queue.push(posix.join(posix.dirname(f), spec).replace(/\.js$/, '.d.ts'));
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return [...seen].sort();
}

/** `file: Owner.member` for every member or export named with a leading underscore. */
function underscoreNames(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const nameOf = (n: ts.Node): string | null => {
    const name = (n as { name?: ts.Node }).name;
    return name !== undefined && (ts.isIdentifier(name) || ts.isStringLiteral(name)) ? name.text : null;
  };
  const visit = (n: ts.Node, owner: string): void => {
    const name = nameOf(n);
    const isMember = ts.isClassElement(n) || ts.isTypeElement(n);
    const isDecl = ts.isFunctionDeclaration(n) || ts.isVariableDeclaration(n) || ts.isClassDeclaration(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n);
    if (name !== null && name.startsWith('_') && (isMember || isDecl)) out.push(`${file.slice(OUT.length + 1)}: ${owner}${name}`);
    ts.forEachChild(n, (c) => visit(c, ts.isClassDeclaration(n) || ts.isInterfaceDeclaration(n) ? `${nameOf(n) ?? '?'}.` : owner));
  };
  visit(sf, '');
  return out;
}

/** A strict consumer of the typings; the @ts-expect-error lines must each be an error. */
const CONSUMER = `
import { loadBackend, nn, optim, linear, safetensors, fit, textCorpus, CharTokenizer, type Backend, type Tensor } from './dist/index.js';
export async function use(): Promise<number> {
  const be: Backend = await loadBackend('js');
  const x: Tensor = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
  const model = new nn.Sequential(new nn.Linear(be, 3, 4, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 4, 1, { seed: 2 }));
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
  const loss = be.mse(model.forward(x), be.zeros([2, 1]));
  loss.backward();
  opt.step();
  be.kernels.fill(x, 0);
  const gpt = new nn.GPT(be, { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4 });
  const ids: Int32Array = gpt.generate([1, 2], 2, { seed: 3 });
  const r = linear.fit(be, [1, 0, 0, 1], [1, 2], { n: 2, d: 2, alpha: 0.1 });
  const bytes: Uint8Array = safetensors.save(model);
  const corpus = textCorpus('hello');
  const tok = new CharTokenizer(['a', 'b']);
  const res = await fit(model, { x, y: new Float32Array(2), n: 2, d: 3 }, { optimizer: opt, epochs: 1, batchSize: 2, loss: 'mse' });
  // @ts-expect-error: the trusted path is internal
  void be._trusted;
  // @ts-expect-error: the storage is internal
  void be._s;
  // @ts-expect-error: a tensor's owner is internal
  void x._be;
  // @ts-expect-error: the step memory is internal
  void be._steps;
  // @ts-expect-error: nn's seed stream is internal
  void nn.splitmix32;
  return ids.length + r.coef.length + bytes.length + corpus.train.length + tok.vocab.length + res.history.length + (loss.item() as number);
}
`;

describe('the published typings (tsconfig.build.json, stripInternal)', () => {
  let files: Map<string, string>;
  beforeAll(() => { files = emitDeclarations(); });

  it('have no underscore member in any file a consumer reaches from index.d.ts', () => {
    const reached = reachable(files);
    expect(reached.length).toBeGreaterThan(20);
    const found = reached.flatMap((f) => underscoreNames(f, files.get(f)!));
    expect(found).toEqual([]);
    // the check itself finds what it looks for
    expect(underscoreNames(`${OUT}/x.d.ts`, 'export declare class A { _a: number; b(): void; private _c; }\nexport interface I { readonly _d: string }'))
      .toEqual(['x.d.ts: A._a', 'x.d.ts: A._c', 'x.d.ts: I._d']);
  });

  it('compile for a strict consumer with skipLibCheck off; internals are type errors', () => {
    const consumer = '/virtual/consumer.ts';
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [],
    };
    const host = ts.createCompilerHost(options);
    const virtual = (f: string): string | undefined => (f === consumer ? CONSUMER : f === '/virtual/package.json' ? '{ "type": "module" }' : files.get(f));
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang, ...rest) => {
      const text = virtual(f);
      return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, ...rest);
    };
    const fileExists = host.fileExists.bind(host), readFile = host.readFile.bind(host);
    host.fileExists = (f) => virtual(f) !== undefined || fileExists(f);
    host.readFile = (f) => virtual(f) ?? readFile(f);
    const directoryExists = host.directoryExists?.bind(host);
    host.directoryExists = (d) => d === '/virtual' || d.startsWith('/virtual/') || (directoryExists?.(d) ?? false);
    host.realpath = (f) => f;
    const program = ts.createProgram({ rootNames: [consumer], options, host });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
    expect(program.getSourceFile(`${OUT}/backend.d.ts`), 'the consumer loaded the emitted typings').toBeDefined();
  });
});

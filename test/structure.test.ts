/**
 * The source tree's architecture, checked: no import cycle in src/ (type-only imports
 * included: a cycle of types is still a knot a reader has to untie), and nothing below the
 * Backend facade (src/backend.ts) imports it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a file names: import/export ... from (type-only too), import('...') and import x = require('...'). */
export function specifiers(text: string, fileName = 'x.ts'): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      out.push(n.arguments[0].text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      out.push(n.argument.literal.text); // import('./x.js').T in a type position
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) {
      out.push(n.moduleReference.expression.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The import graph of src/: file (relative to src/) → the src/ files it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sources(src)) {
    const deps: string[] = [];
    for (const spec of specifiers(readFileSync(file, 'utf8'), file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      expect(statSync(target, { throwIfNoEntry: false })?.isFile(), `${relative(src, file)} imports ${spec}, which is not a file`).toBe(true);
      deps.push(relative(src, target));
    }
    g.set(relative(src, file), deps);
  }
  return g;
}

/** The strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
export function cycles(g: Map<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [];
  const out: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) strong(v);
  return out;
}

/** One concrete cycle inside a component, as a path a → b → ... → a (for the failure message). */
function oneCycle(g: Map<string, readonly string[]>, scc: string[]): string {
  const inScc = new Set(scc);
  const start = scc[0]!;
  const prev = new Map<string, string>([[start, '']]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start].join(' → ');
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return scc.join(', ');
}

describe('the import graph of src/', () => {
  it('finds the cycles it is meant to find (the checker itself)', () => {
    expect(specifiers(`import type { A } from './a.js';\nimport { b } from "./b.js";\nexport { c } from './c.js';\nexport * from './d.js';\nconst e = await import('./e.js');\ntype F = import('./f.js').F;\nimport g = require('./g.js');`))
      .toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']], ['f', ['d']]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(oneCycle(g, ['a', 'b', 'c'])).toBe('a → b → c → a');
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    const g = graph();
    expect(g.size).toBeGreaterThan(50);
    const found = cycles(g).map((scc) => `${scc.length} files: ${oneCycle(g, scc)}`);
    expect(found, `import cycles in src/:\n${found.join('\n')}`).toEqual([]);
  });

  it('nothing below the Backend facade imports src/backend.ts', () => {
    const g = graph();
    // Below the facade: the layers it is built on (backend/, core/, autograd/) and every file
    // it imports, directly or not (the rules it uses among them; a rule that only the layers
    // above use, such as the backend-argument check, may name the Backend).
    const below = new Set([...g.keys()].filter((f) => ['backend/', 'core/', 'autograd/'].some((d) => f.startsWith(d))));
    const seen = new Set<string>(), queue = [...g.get('backend.ts')!];
    while (queue.length > 0) {
      const f = queue.pop()!;
      if (f === 'backend.ts' || seen.has(f)) continue;
      seen.add(f);
      below.add(f);
      queue.push(...(g.get(f) ?? []));
    }
    expect(below.has('rules/errors.ts') && below.has('core/tensor.ts') && below.has('autograd/ops.ts')).toBe(true);
    const offenders = [...below].filter((f) => g.get(f)!.includes('backend.ts')).sort();
    expect(offenders).toEqual([]);
  });
});

/**
 * The shape of src/ as imports: each part imports only the parts below it (the layers of
 * docs/architecture.md), the browser-safe parts import nothing from Node, and no file
 * reaches itself again through its imports. Read from the sources with the TypeScript
 * parser, so the rules hold for what is written, not only for what a build happens to load.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** What each part may import (besides itself). A part is a top folder of src/, or a sub-folder of realtime/. */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  server: ['protocol'],
  client: ['protocol'],
  'index.ts': ['protocol', 'server', 'client'],
  'realtime/wire': [],
  // protocol/ for its browser-safe files alone (the async queue): see the browser-safe test.
  'realtime/client': ['realtime/wire', 'protocol'],
  'realtime/adapters': ['realtime/wire'],
  'realtime/server': ['protocol', 'server', 'realtime/wire', 'realtime/adapters'],
  realtime: ['protocol', 'server', 'client', 'realtime/wire', 'realtime/client', 'realtime/adapters', 'realtime/server'],
  ws: ['protocol', 'server', 'client'],
  yjs: ['protocol', 'server', 'client'],
  cli: ['protocol', 'server', 'client', 'realtime', 'realtime/wire', 'realtime/client', 'realtime/adapters', 'realtime/server', 'ws', 'yjs'],
};
/** Parts that go into the browser bundle (the realtime client): no Node built-in, no package but these. */
const BROWSER_SAFE = new Set(['realtime/wire', 'realtime/client']);
const BROWSER_PACKAGES = new Set<string>([]);

interface Import {
  target: string; // a file under src/, or a bare specifier
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): Import[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: Import[] = [];
  const add = (spec: ts.Expression | ts.ModuleName | undefined): void => {
    if (spec === undefined || !ts.isStringLiteral(spec)) return;
    const s = spec.text;
    out.push({ target: s.startsWith('.') ? resolve(dirname(file), s.replace(/\.js$/, '.ts')) : s });
  };
  // Type-only imports count like the others: a type circle is a knot in the design too.
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression);
    } else if (ts.isModuleDeclaration(node)) {
      add(node.name); // declare module './x.js' { ... } augments x: a reference to it
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The part a file of src/ belongs to. */
function partOf(file: string): string {
  const r = relative(SRC, file).split('/');
  if (r.length === 1) return r[0]!;
  if (r[0] === 'realtime' && r.length > 2) return `realtime/${r[1]}`;
  return r[0]!;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)] as const));

test('src/ is where the test expects it, with its parts', () => {
  const parts = new Set(files.map(partOf));
  for (const p of ['protocol', 'server', 'client', 'realtime', 'realtime/wire', 'realtime/server', 'realtime/client', 'realtime/adapters', 'cli']) assert.ok(parts.has(p), `no ${p} in ${SRC}`);
  for (const p of parts) assert.ok(p in ALLOWED, `src/${p} is a new part: give it its place in ALLOWED (and in docs/architecture.md)`);
});

test('every relative import names a file that exists', () => {
  const missing = [...graph].flatMap(([f, imports]) => imports.filter((i) => i.target.startsWith('/') && !graph.has(i.target)).map((i) => `${relative(SRC, f)} -> ${relative(SRC, i.target)}`));
  assert.deepEqual(missing, []);
});

test('each part imports only the parts below it (type imports included)', () => {
  const upward: string[] = [];
  for (const [f, imports] of graph) {
    const from = partOf(f);
    for (const i of imports) {
      if (!graph.has(i.target)) continue;
      const to = partOf(i.target);
      if (to !== from && !ALLOWED[from]!.includes(to)) upward.push(`${relative(SRC, f)} -> ${relative(SRC, i.target)} (${from} may import ${ALLOWED[from]!.join(', ') || 'nothing of ours'})`);
    }
  }
  assert.deepEqual(upward, []);
});

test('the browser-safe parts, and every file they reach, import no Node built-in and no package', () => {
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of graph.get(f)!) {
      if (graph.has(i.target)) visit(i.target);
      else if (!i.target.startsWith('/') && !BROWSER_PACKAGES.has(i.target)) found.push(`${relative(SRC, f)} imports ${i.target}`);
    }
  };
  for (const f of graph.keys()) if (BROWSER_SAFE.has(partOf(f))) visit(f);
  assert.deepEqual(found, []);
});

/** Every circle of the graph, each as a path that ends where it starts. */
function circles(): string[] {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const path: string[] = [];
  const found: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    path.push(f);
    for (const i of graph.get(f)!) {
      if (!graph.has(i.target)) continue;
      const s = state.get(i.target);
      if (s === 1) found.push([...path.slice(path.indexOf(i.target)), i.target].map((p) => relative(SRC, p)).join(' -> '));
      else if (s === undefined) visit(i.target);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

test('no import circle in src/, type imports included', () => {
  assert.deepEqual(circles(), []);
});

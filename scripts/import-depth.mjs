// Counts the imports inside a folder of src/: files, arrows, and depth (the levels of the
// longest chain of imports), once with every import and once with only the imports that load
// code (type-only ones left out), and how many circles the chains met (test/imports.test.ts
// forbids them). Usage: node scripts/import-depth.mjs src/realtime
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

if (process.argv.length !== 3) {
  console.error('usage: node scripts/import-depth.mjs <folder>');
  process.exit(2);
}
const root = resolve(process.argv[2]);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts')) files.push(p);
  }
})(root);
const known = new Set(files);

/** True when every name the declaration brings in is a type (`import type`, `{ type A }`). */
function typeOnly(node) {
  if (ts.isImportDeclaration(node)) {
    const c = node.importClause;
    if (c === undefined) return false; // import './side-effect.js'
    if (c.isTypeOnly) return true;
    const named = c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
    return c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly);
  }
  const named = node.exportClause !== undefined && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
  return node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly));
}

const every = new Map();
const loading = new Map();
for (const f of files) {
  const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, false);
  const all = new Set();
  const load = new Set();
  for (const node of sf.statements) {
    if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
    const spec = node.moduleSpecifier;
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    const target = resolve(dirname(f), spec.text.replace(/\.js$/, '.ts'));
    if (!known.has(target)) continue;
    all.add(target);
    if (!typeOnly(node)) load.add(target);
  }
  every.set(f, all);
  loading.set(f, load);
}

function report(edges, label) {
  const depth = new Map();
  const onPath = new Set();
  let circles = 0;
  const levels = (f) => {
    if (depth.has(f)) return depth.get(f);
    if (onPath.has(f)) {
      circles++;
      return 0;
    }
    onPath.add(f);
    let below = 0;
    for (const t of edges.get(f)) below = Math.max(below, levels(t));
    onPath.delete(f);
    depth.set(f, below + 1);
    return below + 1;
  };
  for (const f of files) levels(f);
  const arrows = [...edges.values()].reduce((n, s) => n + s.size, 0);
  console.log(`  ${label}: ${arrows} arrows, depth ${Math.max(...depth.values())} levels, ${circles} circle(s) met`);
}

console.log(`${relative(process.cwd(), root) || root}: ${files.length} files`);
report(every, 'every import          ');
report(loading, 'imports that load code');

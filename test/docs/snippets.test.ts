/**
 * The code blocks of README.md and docs/*.md are checked like code: every ```ts block
 * type-checks under strict against the package's published declarations (imported by name,
 * `tether-ws/...`, as a user imports them), and the blocks marked `run` are run against real
 * servers on loopback. What a block assumes is written in a comment above it (see
 * markdown-snippets.ts), so the docs cannot drift from the API again.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { readSnippets, type Snippet } from './markdown-snippets.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Inside the package, so that `tether-ws` resolves to this package (its exports and types).
const work = join(root, 'dist/docs-snippets');
const snippets = readSnippets(root);

const fileOf = (s: Snippet): string => join(work, `${s.file.replace(/[^a-z0-9]+/gi, '-')}-L${s.line}`);
const codeStart = (s: Snippet): number => s.before.split('\n').length;
const source = (s: Snippet): string => `${s.before}\n${s.code}\n${s.after}\nexport {};\n`;

/** Where a line of the generated file comes from: the block's markdown line, or the hidden part. */
function origin(s: Snippet, line0: number): string {
  const k = line0 - codeStart(s);
  if (k < 0) return `${s.file}:${s.line - 1} (in the snippet comment, before the block)`;
  if (k >= s.code.split('\n').length) return `${s.file}:${s.line - 1} (in the snippet comment, after the block)`;
  return `${s.file}:${s.line + k}`;
}

/** A port free on every interface (snippets listen on all of them, as `port: 8080` does). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Runs a snippet (with what comes before and after it) in a child process, its ports replaced by free ones. */
async function runSnippet(s: Snippet): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let text = source(s);
  for (const port of s.ports) text = text.replace(new RegExp(`\\b${port}\\b`, 'g'), String(await freePort()));
  const js = ts.transpileModule(text, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const file = `${fileOf(s)}.mjs`;
  writeFileSync(file, js);
  const child = spawn(process.execPath, [file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, sig) => resolve([c, sig])));
  clearTimeout(timer);
  return { code, signal, output };
}

describe('documentation snippets', () => {
  before(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
  });

  test('the README and docs have TypeScript blocks, and the extractor finds them', () => {
    const readme = snippets.filter((s) => s.file === 'README.md');
    assert.ok(readme.length >= 6, `README.md blocks found: ${readme.length}`);
    assert.ok(snippets.some((s) => s.file.startsWith('docs/')), 'blocks of docs/*.md');
    assert.ok(snippets.some((s) => s.run), 'some blocks are runnable');
  });

  test('every ```ts block type-checks under strict, as a user of the package compiles it', () => {
    const files = new Map<string, Snippet>();
    for (const s of snippets) {
      const f = `${fileOf(s)}.ts`;
      writeFileSync(f, source(s));
      files.set(f, s);
    }
    const program = ts.createProgram([...files.keys()], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      // Snippets run on Node or in browsers (the realtime client): both sets of globals.
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: ['node'],
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const s = d.file ? files.get(d.file.fileName) : undefined;
      if (!d.file || s === undefined) return `${d.file?.fileName ?? '(global)'}: TS${d.code}: ${text}`;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${origin(s, line)}: TS${d.code}: ${text}`;
    });
    assert.deepEqual(problems, [], `snippets that do not compile:\n${problems.join('\n')}`);
  });

  for (const s of snippets.filter((x) => x.run)) {
    test(`${s.file}:${s.line} runs`, { timeout: 120_000 }, async () => {
      // A port found free can be taken before the snippet binds it: then again with others.
      for (let attempt = 1; ; attempt++) {
        const { code, signal, output } = await runSnippet(s);
        if (code !== 0 && /EADDRINUSE/.test(output) && attempt < 3) continue;
        assert.equal(signal, null, `${s.file}:${s.line} did not exit by itself within 45 s (something it opened stays open):\n${output}`);
        assert.equal(code, 0, `${s.file}:${s.line} failed:\n${output}`);
        return;
      }
    });
  }
});

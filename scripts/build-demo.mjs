// Builds Tether Live (demo/) for `npm start` and the tests:
//   front-ends: every demo/<page>/client.ts is bundled by esbuild (with the CSS it imports)
//               into dist/demo/public/<page>/app.js (+ app.css), minified, with source maps;
//   --server:   also transpiles src/ and demo/ to dist/ (esbuild, one file per file, no type
//               check: `npm run build` and `npm test` type-check with tsc), so that `npm start`
//               takes a couple of seconds instead of a full tsc build.
// Prints each bundle's size. Any error fails the script with exit code 1.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const publicDir = join(root, 'dist/demo/public');
const withServer = process.argv.includes('--server');
const quiet = process.argv.includes('--quiet');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function fail(err) {
  const errors = err?.errors ?? [];
  if (errors.length === 0) console.error(`build-demo: ${err?.stack ?? err}`);
  for (const e of errors) {
    const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
    console.error(`build-demo: error: ${where}${e.text}`);
  }
  process.exit(1);
}

const started = Date.now();
try {
  if (withServer) {
    await build({
      absWorkingDir: root,
      entryPoints: [...walk(join(root, 'src')), ...walk(join(root, 'demo'))],
      outdir: join(root, 'dist'),
      outbase: root,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'silent',
    });
  }
  const pages = readdirSync(join(root, 'demo')).filter((d) => {
    try {
      return statSync(join(root, 'demo', d, 'client.ts')).isFile();
    } catch {
      return false;
    }
  });
  rmSync(publicDir, { recursive: true, force: true });
  mkdirSync(publicDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: pages.map((p) => ({ in: `demo/${p}/client.ts`, out: `${p}/app` })),
    outdir: publicDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    loader: { '.woff2': 'file', '.png': 'file', '.svg': 'file' },
  });
  for (const w of result.warnings) console.warn(`build-demo: warning: ${w.text}`);
  if (!quiet) {
    for (const [file, info] of Object.entries(result.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      const gz = gzipSync(readFileSync(join(root, file))).length;
      console.error(`build-demo: ${relative(root, join(root, file))} ${(info.bytes / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`);
    }
    console.error(`build-demo: ${pages.length} pages${withServer ? ' and the server' : ''} built in ${Date.now() - started} ms`);
  }
} catch (err) {
  fail(err);
}

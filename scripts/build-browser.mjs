// Bundles the browser-safe realtime client (src/realtime/client/index.ts) for browsers:
//   dist/browser/tether-realtime.js      ES module, readable, with a source map
//   dist/browser/tether-realtime.min.js  ES module, minified, with a source map
// and prints their sizes. The client must not depend on Node: with platform 'browser'
// esbuild already refuses to resolve Node built-ins ('Could not resolve "node:crypto"'),
// the plugin below makes that error say which file imported what, and the metafile check
// refuses any input outside src/. Any of these fails the script with exit code 1.
// (Type-only imports are erased and do not count; Node globals such as Buffer used at
// run time are not detected here: the browser interop test catches those.)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = 'src/realtime/client/index.ts';
const outdir = 'dist/browser';
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Fails the build on any import of a Node built-in, with the importing file in the message. */
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.path.startsWith('node:') || builtins.has(args.path) || builtins.has(args.path.split('/')[0])) {
        return { errors: [{ text: `the browser bundle must not import the Node built-in "${args.path}" (imported by ${relative(root, args.importer) || args.kind})` }] };
      }
      return undefined;
    });
  },
};

const common = {
  absWorkingDir: root,
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'silent',
  metafile: true,
  plugins: [noNodeBuiltins],
};

const outputs = [
  { file: `${outdir}/tether-realtime.js`, minify: false },
  { file: `${outdir}/tether-realtime.min.js`, minify: true },
];

mkdirSync(`${root}/${outdir}`, { recursive: true });
try {
  for (const o of outputs) {
    const result = await build({ ...common, outfile: o.file, minify: o.minify });
    for (const w of result.warnings) console.warn(`build-browser: warning: ${w.text}`);
    // Belt and braces: esbuild with platform 'browser' marks nothing external, so every
    // input is a file of ours; anything else means a dependency slipped in.
    for (const input of Object.keys(result.metafile.inputs)) {
      if (!input.startsWith('src/')) throw new Error(`unexpected input in the browser bundle: ${input}`);
    }
  }
} catch (err) {
  const errors = err?.errors ?? [];
  if (errors.length > 0) {
    for (const e of errors) {
      const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
      console.error(`build-browser: error: ${where}${e.text}`);
    }
  } else {
    console.error(`build-browser: ${err?.stack ?? err}`);
  }
  process.exit(1);
}

for (const o of outputs) {
  const bytes = statSync(`${root}/${o.file}`).size;
  const gz = gzipSync(readFileSync(`${root}/${o.file}`)).length;
  console.error(`build-browser: ${o.file} ${(bytes / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`);
}

// `npm run docs`: the API reference, generated from the source by TypeDoc into docs/api/
// (or `--out <dir>`). TypeDoc is installed on first use into scripts/api-docs/ (npm ci there,
// with the project's own TypeScript), so that the project's install stays small. Warnings
// fail the build (treatWarningsAsErrors): an undocumented export, a broken {@link}, a
// public type that is not exported. Progress goes to stderr; exit code 1 on any problem.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tools = `${root}scripts/api-docs/`;
const stamp = `${tools}node_modules/.installed-lock-sha256`;
const argv = process.argv.slice(2);
const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : `${root}docs/api`;

// Installed once, and again when the lockfile's content changes (a checkout changes mtimes only).
const lockHash = createHash('sha256').update(readFileSync(`${tools}package-lock.json`)).digest('hex');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  console.error('docs: installing TypeDoc (scripts/api-docs/package.json) with npm ci, once');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    console.error('docs: could not install TypeDoc (npm ci in scripts/api-docs/)');
    process.exit(1);
  }
  writeFileSync(stamp, lockHash);
}

const started = Date.now();
const r = spawnSync(process.execPath, [`${tools}node_modules/typedoc/bin/typedoc`, '--options', `${root}typedoc.json`, '--out', out], {
  cwd: root,
  encoding: 'utf8',
});
const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
process.stderr.write(output);
if (r.status !== 0 || /\[(warning|error)\]/.test(output)) {
  console.error('docs: TypeDoc failed or warned (see above)');
  process.exit(1);
}
console.error(`docs: API reference written to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

/**
 * The fuzz corpus: test/fuzz/corpus/<target>/<name>, one input per file, replayed on every
 * test run. Inputs that once failed are kept there (named crash-*), with seeds that reach
 * deep into each parser.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The corpus folder in the source tree (this file runs from dist/test/fuzz/). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../test/fuzz/corpus/', import.meta.url));

export function corpusEntries(target: string): Array<{ name: string; bytes: Uint8Array }> {
  const dir = `${CORPUS_DIR}${target}/`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(dir + name)) }));
}

/** Saves an input (named by its hash) and returns the file's path. */
export function saveToCorpus(target: string, bytes: Uint8Array, prefix: string): string {
  const dir = `${CORPUS_DIR}${target}/`;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}${prefix}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
  writeFileSync(path, bytes);
  return path;
}

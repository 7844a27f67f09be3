/**
 * The API reference builds from the source without a single TypeDoc warning (an undocumented
 * public type, a broken link, a public type left unexported), as `npm run docs` builds it;
 * and it documents what a user looks up: options with their defaults, the close codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npm run docs: the API reference builds without warnings and documents defaults and close codes', { timeout: 300_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'tether-api-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-api-docs.mjs'), '--out', out], { cwd: root, encoding: 'utf8', timeout: 280_000 });
    assert.equal(r.status, 0, `the API reference failed to build:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\[warning\]/);
    assert.ok(existsSync(join(out, 'index.html')));
    const pages = readdirSync(join(out, 'interfaces'));
    const page = (prefix: string): string => {
      const file = pages.find((p) => p.startsWith(prefix));
      assert.ok(file, `a page for ${prefix} (${pages.slice(0, 10).join(', ')}…)`);
      return readFileSync(join(out, 'interfaces', file), 'utf8');
    };
    const serverOptions = page('index.ServerOptions');
    for (const text of [/maxPayload/, /Default\s+64 MiB/, /heartbeatInterval/, /Default\s+30 s/, /error/]) assert.match(serverOptions, text, 'ServerOptions');
    assert.ok(page('index.ClientOptions').includes('Default 30 s'), 'ClientOptions: handshakeTimeout default');
    const variables = readdirSync(join(out, 'variables'));
    const closeCode = readFileSync(join(out, 'variables', variables.find((v) => v.endsWith('.CloseCode.html'))!), 'utf8');
    for (const text of ['1009', 'MessageTooBig', 'over maxPayload']) assert.ok(closeCode.includes(text), `CloseCode: ${text}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

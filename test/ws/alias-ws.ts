/**
 * Makes every `ws` a library loads in this process be tether-ws/ws: `require('ws')` (through
 * Module._resolveFilename, for CommonJS libraries) and `import 'ws'` (through a resolve hook,
 * for ES modules). Libraries must be imported dynamically after aliasWs(). Not a test file.
 */
import Module, { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
/** The CommonJS build, as `require('tether-ws/ws')` gives it. */
export const facadeCjsPath = fileURLToPath(new URL('dist/cjs/ws.cjs', root));
/** The ES module, as `import 'tether-ws/ws'` gives it. */
export const facadeEsmUrl = new URL('dist/src/ws/index.js', root).href;

type Resolver = (request: string, ...rest: unknown[]) => string;

let installed = false;

export function aliasWs(): void {
  if (installed) return;
  installed = true;
  const M = Module as unknown as { _resolveFilename: Resolver };
  const original = M._resolveFilename;
  M._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === 'ws' ? facadeCjsPath : original.call(this, request, ...rest);
  };
  register(new URL('./ws-alias-hooks.js', import.meta.url), { data: { target: facadeEsmUrl } });
}

/** What `ws` resolves to from inside a package (to check that the alias holds there). */
export function wsAsSeenBy(pkgEntry: string): unknown {
  return createRequire(pkgEntry)('ws');
}

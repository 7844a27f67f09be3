import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The browser build of the realtime client (an ES module exporting RealtimeClient and
 * friends), written by `scripts/build-browser.mjs` to dist/browser/tether-realtime.js, for
 * servers that serve it to pages. This file compiles to dist/src/realtime/browser-bundle.js,
 * so the bundle is two directories up.
 */
export function browserBundlePath(): string {
  return fileURLToPath(new URL('../../browser/tether-realtime.js', import.meta.url));
}

/** The bundle's bytes; throws if it has not been built. */
export function readBrowserBundle(): Buffer {
  const path = browserBundlePath();
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`the browser bundle of the realtime client is missing (${path}): run npm run build`, { cause: err });
    }
    throw err;
  }
}

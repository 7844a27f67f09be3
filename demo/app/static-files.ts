import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where scripts/build-demo.mjs puts the bundled front-ends (dist/demo/public). */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** Whether the front-ends were built (the server says how to build them otherwise). */
export function frontEndsBuilt(): boolean {
  return existsSync(join(PUBLIC_DIR, 'landing', 'app.js'));
}

/**
 * Serves a file under PUBLIC_DIR for a path below /assets/. Returns false when there is
 * no such file (the caller answers 404). Paths that climb out of the folder are refused.
 */
export function serveAsset(req: IncomingMessage, res: ServerResponse, relative: string): boolean {
  const file = normalize(join(PUBLIC_DIR, decodeURIComponent(relative)));
  if (!file.startsWith(PUBLIC_DIR.endsWith(sep) ? PUBLIC_DIR : PUBLIC_DIR + sep)) return false;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    // The demo is rebuilt often while it is worked on: always revalidate.
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}

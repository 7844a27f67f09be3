import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { browserBundlePath, readBrowserBundle, RealtimeServer } from '../realtime/index.js';
import { addConformanceHandlers, conformanceOptions } from './conformance-hub.js';
import { errorLine } from './errors.js';
import { hubHttpHandler } from './hub-http.js';

/**
 * `tether serve --realtime`: a development hub. Anonymous sessions may subscribe and publish
 * to any topic, every topic has presence, and the browser client is served at
 * /tether-realtime.js next to the WebSocket endpoint, so a page can
 * `import { RealtimeClient } from 'http://host:port/tether-realtime.js'`.
 */
export async function serveRealtime(port: number, host: string, maxPayload: number | undefined, deflate: boolean, conformance = false): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = readBrowserBundle();
  const rt = new RealtimeServer({
    // The conformance hub follows the rules the protocol test vectors expect (docs/protocol.md §10).
    ...(conformance ? conformanceOptions() : { authorize: { publish: () => true }, topics: () => ({ presence: true }) }),
    websocket: { perMessageDeflate: deflate, ...(maxPayload === undefined ? {} : { maxPayload }), error: (err) => process.stderr.write(errorLine(err)) },
    onError: (err) => process.stderr.write(errorLine(err)),
  });
  if (conformance) addConformanceHandlers(rt);
  // A request any client can use to check the round trip.
  else rt.handle('echo', (data) => data);
  const http = createServer(hubHttpHandler(bundle, readSourceMap()));
  rt.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const addr = http.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `ws://${shown}:${addr.port}/`,
    async close() {
      await rt.drain({ minDelay: 500, maxDelay: 5000, timeout: 2000 });
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** The bundle's source map, next to it (absent if the bundle was built without one). */
function readSourceMap(): Buffer | undefined {
  try {
    return readFileSync(`${browserBundlePath()}.map`);
  } catch {
    return undefined;
  }
}

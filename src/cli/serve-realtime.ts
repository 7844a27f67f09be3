import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { browserBundlePath, Metrics, readBrowserBundle, RealtimeServer, type Adapter } from '../realtime/index.js';
import { addConformanceHandlers, conformanceOptions } from './conformance-hub.js';
import { errorLine } from './errors.js';
import { hubHttpHandler } from './hub-http.js';

/**
 * `tether serve --realtime`: a development hub. Anonymous sessions may subscribe and publish
 * to any topic, every topic has presence, and the browser client is served at
 * /tether-realtime.js next to the WebSocket endpoint, so a page can
 * `import { RealtimeClient } from 'http://host:port/tether-realtime.js'`.
 * For operators: /metrics (Prometheus), /healthz and /readyz (503 while draining).
 */
/** The message limits given on the command line (absent: the server's defaults). */
export interface MessageLimits {
  maxPayload?: number;
  maxFragments?: number;
}

export async function serveRealtime(
  port: number,
  host: string,
  limits: MessageLimits,
  deflate: boolean,
  conformance = false,
  /** Under --workers: the cluster adapter, and metrics that gather every worker. */
  scale: { adapter?: Adapter; metrics?: (rt: RealtimeServer) => Metrics } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = readBrowserBundle();
  const rt = new RealtimeServer({
    // The conformance hub follows the rules the protocol test vectors expect (docs/protocol.md §10).
    ...(conformance ? conformanceOptions() : { authorize: { publish: () => true }, topics: () => ({ presence: true }) }),
    ...(scale.adapter === undefined ? {} : { adapter: scale.adapter }),
    websocket: { perMessageDeflate: deflate, ...limits, error: (err) => process.stderr.write(errorLine(err)) },
    onError: (err) => process.stderr.write(errorLine(err)),
  });
  if (conformance) addConformanceHandlers(rt);
  // A request any client can use to check the round trip.
  else rt.handle('echo', (data) => data);
  const metrics = scale.metrics?.(rt) ?? new Metrics(rt);
  const hubHttp = hubHttpHandler(bundle, readSourceMap());
  // /metrics, /healthz and /readyz first; the hub's own pages after.
  const http = createServer((req, res) => {
    if (!metrics.handle(req, res)) hubHttp(req, res);
  });
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
      metrics.close();
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

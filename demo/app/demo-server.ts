import type { AddressInfo } from 'node:net';
import type { Adapter } from 'tether-ws/realtime';
import { DemoHost } from './demo-app.js';
import type { DemoPage } from './demo-page.js';
import { PAGES } from './pages.js';
import { frontEndsBuilt } from './static-files.js';

export interface DemoOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The realtime adapter (default: a MemoryAdapter of its own). Tests pass one shared across restarts. */
  adapter?: Adapter;
  /** The pages to mount (default: all of them, in the landing page's order). */
  pages?: DemoPage[];
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningDemo {
  /** http://host:port/ */
  readonly url: string;
  readonly port: number;
  readonly host: DemoHost;
  /**
   * Stops: the realtime layer drains (1012 with a reconnect delay drawn between minDelay
   * and maxDelay ms, so clients come back spread out), page endpoints close with 1012,
   * then the HTTP server closes.
   */
  close(options?: { minDelay?: number; maxDelay?: number; timeout?: number }): Promise<void>;
}

/** Builds and starts Tether Live in this process. */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const log = options.log ?? ((line: string) => process.stderr.write(`tether demo: ${line}\n`));
  if (!frontEndsBuilt()) throw new Error('the demo front-ends are not built: run `node scripts/build-demo.mjs` (npm start does it)');
  const host = new DemoHost(options.adapter, log);
  for (const page of options.pages ?? PAGES) {
    if (!/^[a-z0-9-]+$/.test(page.id) || host.pages.some((p) => p.id === page.id)) throw new TypeError(`bad or duplicate page id "${page.id}"`);
    host.pages.push(page);
    await page.mount(host.appFor(page));
  }
  await new Promise<void>((resolve, reject) => {
    host.http.once('error', reject);
    host.http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      host.http.removeListener('error', reject);
      resolve();
    });
  });
  const addr = host.http.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shown}:${addr.port}/`,
    port: addr.port,
    host,
    close(o = {}) {
      return (closing ??= stop(host, o));
    },
  };
}

async function stop(host: DemoHost, o: { minDelay?: number; maxDelay?: number; timeout?: number }): Promise<void> {
  const timeout = o.timeout ?? 3000;
  for (const t of host.timers) clearInterval(t);
  // Page endpoints are plain WebSocketServers: 1012 tells their clients to come back.
  await Promise.all([
    host.realtime.drain({ minDelay: o.minDelay ?? 500, maxDelay: o.maxDelay ?? 3000, timeout }),
    ...host.sockets.map((s) => s.server.close({ code: 1012, reason: 'restarting', timeout })),
  ]);
  for (const fn of host.closeHooks) await fn();
  await new Promise<void>((resolve) => {
    host.http.close(() => resolve());
    host.http.closeAllConnections();
  });
}

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { buildErrorResponse } from '../protocol/index.js';

interface UpgradeTarget {
  matches(url: string): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** One 'upgrade' listener per http server, routing each request to the server owning its path. */
const routes = new WeakMap<HttpServer, { targets: UpgradeTarget[]; listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void }>();

export function routeUpgrades(server: HttpServer, target: UpgradeTarget): () => void {
  let entry = routes.get(server);
  if (!entry) {
    const targets: UpgradeTarget[] = [];
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const url = req.url ?? '/';
      for (const t of targets) if (t.matches(url)) return t.handleUpgrade(req, socket, head);
      // Leave the request to other upgrade listeners if there are any.
      if (server.listenerCount('upgrade') === 1) socket.end(buildErrorResponse(404, 'no WebSocket endpoint at this path'));
    };
    entry = { targets, listener };
    routes.set(server, entry);
    server.on('upgrade', listener);
  }
  entry.targets.push(target);
  const e = entry;
  return () => {
    const i = e.targets.indexOf(target);
    if (i >= 0) e.targets.splice(i, 1);
    if (e.targets.length === 0) {
      server.removeListener('upgrade', e.listener);
      routes.delete(server);
    }
  };
}

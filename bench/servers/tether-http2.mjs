// Tether on one TLS node:http2 server (allowHTTP1): echo for HTTP/1.1 upgrades and RFC 8441
// streams alike. Prints its port; answers 'stats' messages with its memory and open fds.
import { createSecureServer } from 'node:http2';
import { readdirSync, readFileSync } from 'node:fs';
import { WebSocketServer } from '../../dist/src/index.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const server = createSecureServer({
  key: readFileSync(new URL('localhost-key.pem', fixtures)),
  cert: readFileSync(new URL('localhost-cert.pem', fixtures)),
  allowHTTP1: true,
  // Browsers open up to 100 streams per connection by default; the benchmark opens 1,000 at once.
  settings: { maxConcurrentStreams: 2000 },
});
const wss = new WebSocketServer({ heartbeatInterval: 0, maxBackpressure: 64 * 1024 * 1024, message: (ws, d, b) => ws.send(d, { binary: b }) }).attach(server);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('message', (m) => {
  if (m !== 'stats') return;
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.send({ rss, heapUsed, fds: readdirSync('/proc/self/fd').length, clients: wss.clients.size });
});

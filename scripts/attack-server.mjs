// The server that scripts/attack.mjs and scripts/soak.mjs attack: an echo server in a child
// process of its own, so that its memory and event loop are measured apart from the
// attacker's. `--impl tether` (default) or `--impl ws` (ws 8, the devDependency, for a side
// by side run), `--deflate` for permessage-deflate, `--max-payload N`, `--handshake-timeout MS`
// and `--max-fragments N` (Infinity for none) (tether only). Started with an IPC
// channel: it sends { port } once listening, then every `--every` ms (default 250) a sample
// { rss, heap, external, elp50, elp99, elmax, connections, handles } (event-loop delay in
// ms, measured since the previous sample). SIGTERM closes it gracefully (1001).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    impl: { type: 'string', default: 'tether' },
    deflate: { type: 'boolean', default: false },
    'max-payload': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'max-fragments': { type: 'string' },
    every: { type: 'string', default: '250' },
  },
});
const maxPayload = values['max-payload'] === undefined ? undefined : Number(values['max-payload']);
const handshakeTimeout = values['handshake-timeout'] === undefined ? undefined : Number(values['handshake-timeout']);
const maxFragments = values['max-fragments'] === undefined ? undefined : Number(values['max-fragments']);

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();

let connections = () => 0;
let stop = async () => {};
let port = 0;

if (values.impl === 'tether') {
  const { WebSocketServer, SendStatus } = await import('../dist/src/server/index.js');
  const server = new WebSocketServer({
    ...(maxPayload === undefined ? {} : { maxPayload }),
    ...(handshakeTimeout === undefined ? {} : { handshakeTimeout }),
    ...(maxFragments === undefined ? {} : { maxFragments }),
    perMessageDeflate: values.deflate,
    // As `tether serve --echo`: an echo holds at most what its peer sent, reading pauses
    // while the peer does not read its echoes.
    maxBackpressure: 2 * (maxPayload ?? 64 * 1024 * 1024) + 1024 * 1024,
    message(ws, data, isBinary) {
      if (ws.send(data, { binary: isBinary }) === SendStatus.Backpressure) ws.pause();
    },
    drain(ws) {
      ws.resume();
    },
  });
  port = (await server.listen(0, '127.0.0.1')).port;
  connections = () => server.clients.size;
  stop = () => server.close({ timeout: 2000 });
} else if (values.impl === 'ws') {
  const { WebSocketServer } = await import('ws');
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: values.deflate, ...(maxPayload === undefined ? {} : { maxPayload }) });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  port = server.address().port;
  connections = () => server.clients.size;
  stop = () =>
    new Promise((resolve) => {
      for (const ws of server.clients) ws.close(1001);
      server.close(() => resolve());
      setTimeout(() => {
        for (const ws of server.clients) ws.terminate();
      }, 2000).unref();
    });
} else {
  throw new Error(`--impl ${values.impl}: tether or ws`);
}

process.send({ port });
const timer = setInterval(() => {
  const m = process.memoryUsage();
  process.send({
    rss: m.rss,
    heap: m.heapUsed,
    external: m.external,
    elp50: delay.percentile(50) / 1e6,
    elp99: delay.percentile(99) / 1e6,
    elmax: delay.max / 1e6,
    connections: connections(),
    handles: process.getActiveResourcesInfo().length,
  });
  delay.reset();
}, Number(values.every));

process.once('SIGTERM', async () => {
  clearInterval(timer);
  await stop();
  process.disconnect();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));

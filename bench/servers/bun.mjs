// Bun's WebSocket server under benchmark (run with the bun binary from npm).
const [port, feature] = [Number(process.argv[2]), process.argv[3]];
const server = Bun.serve({
  port, hostname: '127.0.0.1',
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { path: new URL(req.url).pathname } })) return undefined;
    return new Response('websocket only', { status: 426 });
  },
  websocket: {
    perMessageDeflate: feature === 'deflate',
    maxPayloadLength: 64 * 1024 * 1024,
    backpressureLimit: 4 * 1024 * 1024,
    idleTimeout: 0,
    open(ws) {
      if (ws.data.path === '/sub') ws.subscribe('bench');
    },
    message(ws, message) {
      if (ws.data.path === '/pub') server.publish('bench', message);
      else ws.send(message);
    },
  },
});
console.log('ready');

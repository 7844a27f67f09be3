// Tether under benchmark: echo on any path; /sub subscribes, messages on /pub go to every subscriber.
import { WebSocketServer } from '../../dist/src/index.js';
const [port, feature] = [Number(process.argv[2]), process.argv[3]];
const subscribers = new Set();
const server = new WebSocketServer({
  heartbeatInterval: 0,
  maxBackpressure: 4 * 1024 * 1024,
  backpressurePolicy: 'drop',
  perMessageDeflate: feature === 'deflate' ? { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } : false,
  open(ws, req) {
    ws.data = req.path;
    if (req.path === '/sub') subscribers.add(ws);
  },
  message(ws, data, isBinary) {
    if (ws.data === '/pub') server.broadcast(data, { binary: isBinary, to: subscribers });
    else ws.send(data, { binary: isBinary });
  },
  close(ws) {
    subscribers.delete(ws);
  },
});
await server.listen(port, '127.0.0.1');
console.log('ready');

// tether-ws/ws (the ws-compatible API) under benchmark: the same program as ws.mjs, with
// the import changed from 'ws' to tether-ws/ws — the one-line migration the facade offers.
import { WebSocketServer } from '../../dist/src/ws/index.js';
const [port, feature] = [Number(process.argv[2]), process.argv[3]];
const subscribers = new Set();
const wss = new WebSocketServer({
  port, host: '127.0.0.1',
  perMessageDeflate: feature === 'deflate' ? { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } : false,
});
wss.on('connection', (ws, req) => {
  const path = req.url;
  if (path === '/sub') subscribers.add(ws);
  ws.on('close', () => subscribers.delete(ws));
  ws.on('message', (data, isBinary) => {
    if (path === '/pub') for (const s of subscribers) s.send(data, { binary: isBinary });
    else ws.send(data, { binary: isBinary });
  });
});
wss.on('listening', () => console.log('ready'));

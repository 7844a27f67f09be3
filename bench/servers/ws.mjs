// ws under benchmark (with its native addons unless WS_NO_BUFFER_UTIL / WS_NO_UTF_8_VALIDATE are set).
import { WebSocketServer } from 'ws';
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

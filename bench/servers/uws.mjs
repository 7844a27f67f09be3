// uWebSockets.js (npm repackage) under benchmark: native server, publish for broadcast.
import { createRequire } from 'node:module';
const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial');
const [port, feature] = [Number(process.argv[2]), process.argv[3]];
const app = uWS.App();
app.ws('/*', {
  compression: feature === 'deflate' ? uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR : uWS.DISABLED,
  maxPayloadLength: 64 * 1024 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  idleTimeout: 0,
  upgrade(res, req, context) {
    res.upgrade({ path: req.getUrl() }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open(ws) {
    if (ws.getUserData().path === '/sub') ws.subscribe('bench');
  },
  message(ws, message, isBinary) {
    if (ws.getUserData().path === '/pub') app.publish('bench', message, isBinary);
    else ws.send(message, isBinary, true);
  },
});
app.listen('127.0.0.1', port, (token) => {
  if (!token) process.exit(1);
  console.log('ready');
});

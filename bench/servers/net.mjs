// The floor: a raw TCP echo server in the same Node, no WebSocket framing at all.
import { createServer } from 'node:net';
const port = Number(process.argv[2]);
createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', (chunk) => socket.write(chunk));
}).listen(port, '127.0.0.1', () => console.log('ready'));

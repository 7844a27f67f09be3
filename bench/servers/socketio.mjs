// socket.io 4 under benchmark (websocket transport only): rooms for broadcast, an echo event.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
const port = Number(process.argv[2]);
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 64 * 1024 * 1024 });
io.on('connection', (socket) => {
  socket.on('join', (room) => socket.join(room));
  socket.on('pub', (data) => io.to('bench').emit('m', data));
  socket.on('echo', (data) => socket.emit('echo', data));
});
// Loopback only (and not "::", which could collide with the load generator's client ports).
http.listen(port, '127.0.0.1', () => console.log('ready'));
